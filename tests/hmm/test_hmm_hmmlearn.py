"""HMM inference and Baum-Welch against hmmlearn on random models."""

import numpy as np
import pytest
from hmmlearn import hmm as hl

from dltoolkit.hmm import (
    HMM,
    CategoricalEmissions,
    GaussianEmissions,
    GMMEmissions,
    baum_welch,
)

N_STATES, N_SYMBOLS, N_FEATURES, N_MIX = 4, 5, 3, 2


def _random_params(rng, n=N_STATES):
    return rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n), size=n)


def categorical_pair(seed):
    rng = np.random.default_rng(seed)
    start, trans = _random_params(rng)
    emit = rng.dirichlet(np.ones(N_SYMBOLS), size=N_STATES)
    ref = hl.CategoricalHMM(N_STATES, init_params="", n_features=N_SYMBOLS)
    ref.startprob_, ref.transmat_, ref.emissionprob_ = start, trans, emit
    return HMM(start, trans, CategoricalEmissions(emit)), ref


def gaussian_pair(seed):
    rng = np.random.default_rng(seed)
    start, trans = _random_params(rng)
    means = rng.normal(scale=1.5, size=(N_STATES, N_FEATURES))
    covars = rng.uniform(0.5, 2.0, size=(N_STATES, N_FEATURES))
    ref = hl.GaussianHMM(
        N_STATES, covariance_type="diag", init_params="", covars_prior=0.0
    )
    ref.startprob_, ref.transmat_, ref.means_, ref.covars_ = start, trans, means, covars
    return HMM(start, trans, GaussianEmissions(means, covars)), ref


def gmm_pair(seed, learn=("weights", "means")):
    rng = np.random.default_rng(seed)
    start, trans = _random_params(rng)
    weights = rng.dirichlet(np.ones(N_MIX), size=N_STATES)
    means = rng.normal(scale=1.5, size=(N_STATES, N_MIX, N_FEATURES))
    covars = rng.uniform(0.5, 2.0, size=(N_STATES, N_MIX, N_FEATURES))
    ref = hl.GMMHMM(N_STATES, n_mix=N_MIX, covariance_type="diag", init_params="")
    ref.startprob_, ref.transmat_ = start, trans
    ref.weights_, ref.means_, ref.covars_ = weights, means, covars
    return HMM(start, trans, GMMEmissions(weights, means, covars, learn=learn)), ref


def _sequences(model, lengths, seed):
    return [model.sample(n, seed=seed + i)[0] for i, n in enumerate(lengths)]


def _as_2d(x):
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else x


# === Inference ===


@pytest.mark.parametrize("pair", [categorical_pair, gaussian_pair, gmm_pair])
@pytest.mark.parametrize("seed", [0, 1])
def test_inference_matches_hmmlearn(impl, pair, seed):
    ours, ref = pair(seed)
    x = ours.sample(150, seed=seed)[0]
    log_em = ours.log_emissions(x)
    np.testing.assert_allclose(log_em, ref._compute_log_likelihood(_as_2d(x)))
    args = (ours.log_startprob, ours.log_transmat, log_em)
    _, loglik = impl.forward(*args)
    assert loglik == pytest.approx(ref.score(_as_2d(x)), abs=1e-6)
    path, log_prob = impl.viterbi(*args)
    ref_log_prob, ref_path = ref.decode(_as_2d(x))
    np.testing.assert_array_equal(path, ref_path)
    assert log_prob == pytest.approx(ref_log_prob, abs=1e-6)
    gamma = impl.posteriors(*args)
    np.testing.assert_allclose(gamma, ref.predict_proba(_as_2d(x)), atol=1e-8)


def test_batched_ragged_matches_hmmlearn_per_sequence(impl):
    ours, ref = gaussian_pair(3)
    lengths = [40, 7, 1, 25]
    seqs = _sequences(ours, lengths, seed=10)
    padded = np.full((4, 40, N_STATES), np.nan)  # padding must never be read
    for b, x in enumerate(seqs):
        padded[b, : len(x)] = ours.log_emissions(x)
    args = (ours.log_startprob, ours.log_transmat, padded, lengths)
    _, loglik = impl.forward(*args)
    np.testing.assert_allclose(loglik, [ref.score(x) for x in seqs], atol=1e-6)
    paths, log_probs = impl.viterbi(*args)
    for b, x in enumerate(seqs):
        ref_log_prob, ref_path = ref.decode(x)
        np.testing.assert_array_equal(paths[b, : lengths[b]], ref_path)
        assert np.all(paths[b, lengths[b] :] == -1)
        assert log_probs[b] == pytest.approx(ref_log_prob, abs=1e-6)


# === Baum-Welch: 10 iterations from the same start ===


def _fit_both(ours, ref, seqs, n_iter=10, tol=-np.inf):
    ref.n_iter, ref.tol = n_iter, tol
    ref.monitor_.n_iter, ref.monitor_.tol = n_iter, tol  # built in __init__
    ref.fit(np.concatenate([_as_2d(x) for x in seqs]), [len(x) for x in seqs])
    fitted, monitor = baum_welch(ours, seqs, n_iter=n_iter, tol=tol)
    np.testing.assert_allclose(fitted.startprob, ref.startprob_, atol=1e-4)
    np.testing.assert_allclose(fitted.transmat, ref.transmat_, atol=1e-4)
    assert monitor.iterations == ref.monitor_.iter
    np.testing.assert_allclose(monitor.history, list(ref.monitor_.history))
    return fitted, monitor


def test_baum_welch_categorical_matches_hmmlearn():
    ours, ref = categorical_pair(4)
    ref.params = "ste"
    seqs = _sequences(ours, [60, 35, 80], seed=20)
    fitted, monitor = _fit_both(ours, ref, seqs)
    assert monitor.iterations == 10 and not monitor.converged
    np.testing.assert_allclose(
        fitted.emissions.emissionprob, ref.emissionprob_, atol=1e-4
    )


def test_baum_welch_gaussian_matches_hmmlearn():
    ours, ref = gaussian_pair(5)
    ref.params = "stmc"
    seqs = _sequences(ours, [70, 50, 90], seed=30)
    fitted, _ = _fit_both(ours, ref, seqs)
    np.testing.assert_allclose(fitted.emissions.means, ref.means_, atol=1e-4)
    np.testing.assert_allclose(fitted.emissions.covars, ref._covars_, atol=1e-4)


def test_baum_welch_gmm_matches_hmmlearn():
    # hmmlearn's GMMHMM updates variances around the previous means (not the
    # maximum-likelihood update), so variances stay fixed for this comparison;
    # the full update is checked against GaussianHMM with n_mix=1 below.
    ours, ref = gmm_pair(6)
    ref.params = "stmw"
    seqs = _sequences(ours, [60, 80], seed=40)
    fitted, _ = _fit_both(ours, ref, seqs)
    np.testing.assert_allclose(fitted.emissions.weights, ref.weights_, atol=1e-4)
    np.testing.assert_allclose(fitted.emissions.means, ref.means_, atol=1e-4)


def test_baum_welch_gmm_with_one_component_is_gaussian_hmm():
    gauss, ref = gaussian_pair(7)
    ref.params = "stmc"
    em = gauss.emissions
    ours = gauss.replace(
        emissions=GMMEmissions(
            np.ones((N_STATES, 1)), em.means[:, None], em.covars[:, None]
        )
    )
    seqs = _sequences(gauss, [50, 70], seed=50)
    fitted, _ = _fit_both(ours, ref, seqs)
    np.testing.assert_allclose(fitted.emissions.means[:, 0], ref.means_, atol=1e-4)
    np.testing.assert_allclose(fitted.emissions.covars[:, 0], ref._covars_, atol=1e-4)


def test_baum_welch_gmm_full_update_never_decreases_likelihood():
    ours, _ = gmm_pair(8, learn=("weights", "means", "covars"))
    seqs = _sequences(ours, [80, 60], seed=60)
    _, monitor = baum_welch(ours, seqs, n_iter=15, tol=-np.inf)
    assert np.all(np.diff(monitor.history) > -1e-8)


def test_convergence_monitor_stops_like_hmmlearn():
    ours, ref = categorical_pair(9)
    ref.params = "ste"
    seqs = _sequences(ours, [100, 100], seed=70)
    _, monitor = _fit_both(ours, ref, seqs, n_iter=200, tol=1e-2)
    assert monitor.converged and monitor.iterations < 200
    assert monitor.history[-1] - monitor.history[-2] < 1e-2
