"""Bad input to the HMM algorithms and models: one ValueError naming the argument."""

import numpy as np
import pytest

from dltoolkit.hmm import (
    HMM,
    CategoricalEmissions,
    GaussianEmissions,
    GMMEmissions,
    baum_welch,
    numpy_impl,
)

LOG_START = np.log([0.5, 0.3, 0.2])
LOG_TRANS = np.log([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
LOG_EM = np.zeros((4, 3))


def _bad(**changes):
    args = dict(log_startprob=LOG_START, log_transmat=LOG_TRANS, log_emissions=LOG_EM)
    return {**args, **changes}


CASES = [
    (_bad(log_startprob=np.log([0.5, 0.3, 0.3])), r"log_startprob .*logsumexp"),
    (_bad(log_startprob=[0.5, 0.3, 0.2]), r"log_startprob .*logsumexp"),
    (_bad(log_startprob=np.log([0.5, 0.5])), r"log_transmat must have shape"),
    (_bad(log_transmat=LOG_TRANS + 1e-3), r"log_transmat .*rows \[0, 1, 2\]"),
    (_bad(log_transmat=LOG_TRANS[:2]), r"log_transmat must have shape"),
    (_bad(log_emissions=np.zeros((4, 2))), r"log_emissions must have n_states=3"),
    (_bad(log_emissions=np.zeros(4)), r"log_emissions must have shape"),
    (_bad(log_emissions=np.zeros((0, 3))), r"at least one frame"),
    (_bad(log_emissions=np.full((4, 3), np.nan)), r"log_emissions must be finite"),
    (_bad(lengths=[4]), r"lengths is only accepted with batched"),
    (_bad(log_emissions=np.zeros((2, 4, 3)), lengths=[4, 5]), r"lengths must lie"),
    (_bad(log_emissions=np.zeros((2, 4, 3)), lengths=[4]), r"lengths must have shape"),
    (_bad(log_emissions=np.zeros((2, 4, 3)), lengths=[0, 4]), r"lengths must lie"),
]


@pytest.mark.parametrize("fn", ["forward", "backward", "posteriors", "viterbi"])
@pytest.mark.parametrize("kwargs, match", CASES)
def test_bad_input_numpy(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(numpy_impl, fn)(**kwargs)


@pytest.mark.parametrize("kwargs, match", CASES)
def test_bad_input_tf_eager(kwargs, match):
    from dltoolkit.hmm import tf_impl  # all four share one input check

    with pytest.raises(ValueError, match=match):
        tf_impl.viterbi(**kwargs)


def test_tolerance_of_normalization(impl):
    impl.forward(LOG_START + 5e-7, LOG_TRANS, LOG_EM)
    with pytest.raises(ValueError, match="log_startprob"):
        impl.forward(LOG_START + 5e-6, LOG_TRANS, LOG_EM)


def test_nan_in_padding_is_allowed(impl):
    em = np.zeros((2, 4, 3))
    em[1, 2:] = np.nan
    _, loglik = impl.forward(LOG_START, LOG_TRANS, em, [4, 2])
    assert np.all(np.isfinite(loglik))


# === Models ===


def test_hmm_probabilities_are_checked():
    emissions = CategoricalEmissions([[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match=r"startprob must sum to 1"):
        HMM([0.5, 0.3, 0.3], np.exp(LOG_TRANS), emissions)
    with pytest.raises(ValueError, match=r"transmat must sum to 1.*rows \[1\]"):
        HMM(np.exp(LOG_START), [[1, 0, 0], [0.5, 0.6, 0], [0, 0, 1]], emissions)
    with pytest.raises(ValueError, match=r"emissions must have n_states=3"):
        HMM(np.exp(LOG_START), np.exp(LOG_TRANS), CategoricalEmissions([[1.0]] * 2))
    HMM(np.exp(LOG_START) + [5e-7, 0, 0], np.exp(LOG_TRANS), emissions)


def test_emission_parameters_are_checked():
    with pytest.raises(ValueError, match=r"emissionprob must sum to 1.*rows \[1\]"):
        CategoricalEmissions([[0.5, 0.5], [0.5, 0.4]])
    with pytest.raises(ValueError, match=r"means and covars must both have shape"):
        GaussianEmissions(np.zeros((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="covars must be positive"):
        GaussianEmissions(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"means must have shape \(n_states=3, n_mix"):
        GMMEmissions(np.full((3, 2), 0.5), np.zeros((3, 1, 2)), np.ones((3, 1, 2)))
    with pytest.raises(ValueError, match="learn must name parameters"):
        GaussianEmissions(np.zeros((3, 2)), np.ones((3, 2)), learn=("weights",))


def test_observations_are_checked():
    cat = CategoricalEmissions([[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match=r"X symbols must lie in \[0, 1\]"):
        cat.log_likelihood([0, 2])
    gauss = GaussianEmissions(np.zeros((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"X must have shape \(T, n_features=2\)"):
        gauss.log_likelihood(np.zeros((5, 3)))
    hmm = HMM(np.exp(LOG_START), np.exp(LOG_TRANS), gauss)
    with pytest.raises(ValueError, match="n_iter must be a positive integer"):
        baum_welch(hmm, [np.zeros((5, 2))], n_iter=0)
    with pytest.raises(ValueError, match="non-empty list of non-empty sequences"):
        baum_welch(hmm, [np.zeros((0, 2))])
