"""Emission models: densities, M-steps by formula, sampling, custom models."""

import numpy as np
import pytest
from scipy.stats import norm

from dltoolkit.hmm import (
    HMM,
    CategoricalEmissions,
    GaussianEmissions,
    GMMEmissions,
    MarkovChain,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _diag_logpdf(x, mean, var):
    return norm.logpdf(x, mean, np.sqrt(var)).sum(-1)


def test_log_likelihoods_match_scipy(rng):
    x = rng.normal(size=(6, 2))
    means, covars = rng.normal(size=(3, 2)), rng.uniform(0.3, 2, size=(3, 2))
    got = GaussianEmissions(means, covars).log_likelihood(x)
    want = np.stack([_diag_logpdf(x, means[j], covars[j]) for j in range(3)], 1)
    np.testing.assert_allclose(got, want)

    weights = rng.dirichlet(np.ones(2), size=3)
    gm, gc = rng.normal(size=(3, 2, 2)), rng.uniform(0.3, 2, size=(3, 2, 2))
    got = GMMEmissions(weights, gm, gc).log_likelihood(x)
    dens = [
        sum(
            weights[j, k] * np.exp(_diag_logpdf(x, gm[j, k], gc[j, k]))
            for k in range(2)
        )
        for j in range(3)
    ]
    np.testing.assert_allclose(got, np.log(np.stack(dens, 1)))

    emit = rng.dirichlet(np.ones(4), size=3)
    cat = CategoricalEmissions(emit)
    np.testing.assert_allclose(
        cat.log_likelihood([3, 0, 0]), np.log(emit[:, [3, 0, 0]].T)
    )
    np.testing.assert_allclose(
        cat.log_likelihood([[3], [0]]), np.log(emit[:, [3, 0]].T)
    )


def test_m_steps_with_known_states_are_sample_statistics(rng):
    states = rng.integers(0, 3, size=300)
    gamma = np.eye(3)[states]
    x = rng.normal(size=(300, 2)) + states[:, None]
    gauss = GaussianEmissions(np.zeros((3, 2)), np.ones((3, 2))).m_step(x, gamma)
    for j in range(3):
        np.testing.assert_allclose(gauss.means[j], x[states == j].mean(0))
        np.testing.assert_allclose(gauss.covars[j], x[states == j].var(0))
    gmm = GMMEmissions(np.ones((3, 1)), np.zeros((3, 1, 2)), np.ones((3, 1, 2)))
    gmm = gmm.m_step(x, gamma)
    np.testing.assert_allclose(gmm.means[:, 0], gauss.means)
    np.testing.assert_allclose(gmm.covars[:, 0], gauss.covars)
    symbols = rng.integers(0, 4, size=300)
    cat = CategoricalEmissions(np.full((3, 4), 0.25)).m_step(symbols, gamma)
    for j in range(3):
        counts = np.bincount(symbols[states == j], minlength=4)
        np.testing.assert_allclose(cat.emissionprob[j], counts / counts.sum())


def test_m_step_keeps_unvisited_states_and_frozen_parameters(rng):
    x = rng.normal(size=(50, 2))
    gamma = np.zeros((50, 3))
    gamma[:, 0] = 1.0
    start = GaussianEmissions(np.full((3, 2), 7.0), np.full((3, 2), 3.0), learn="means")
    new = start.m_step(x, gamma)
    np.testing.assert_allclose(new.means[1:], 7.0)
    np.testing.assert_allclose(new.means[0], x.mean(0))
    np.testing.assert_allclose(new.covars, 3.0)
    floored = GaussianEmissions(np.zeros((3, 2)), np.ones((3, 2)), min_covar=0.5)
    const = np.ones((50, 2))
    assert np.all(floored.m_step(const, gamma).covars[0] == 0.5)


def test_sampling_is_seeded_and_matches_the_model():
    hmm = HMM(
        [0.5, 0.5],
        [[0.9, 0.1], [0.2, 0.8]],
        GMMEmissions(
            [[0.3, 0.7], [1.0, 0.0]],
            [[[-4.0], [4.0]], [[10.0], [0.0]]],
            [[[1.0], [1.0]], [[0.25], [1.0]]],
        ),
    )
    x, states = hmm.sample(20_000, seed=1)
    x2, states2 = hmm.sample(20_000, seed=1)
    np.testing.assert_array_equal(states, states2)
    np.testing.assert_array_equal(x, x2)
    assert x.shape == (20_000, 1)
    chain = MarkovChain.from_sequences(states, n_states=2)
    np.testing.assert_allclose(chain.transmat, hmm.transmat, atol=0.02)
    in_0 = x[states == 0, 0]
    assert np.mean(in_0 > 0) == pytest.approx(0.7, abs=0.02)
    assert x[states == 1, 0].mean() == pytest.approx(10.0, abs=0.02)
    assert x[states == 1, 0].std() == pytest.approx(0.5, abs=0.02)


def test_any_emission_model_plugs_in():
    class Scores:
        """Pre-computed log-likelihoods, as a neural acoustic model would give."""

        n_states = 2

        def log_likelihood(self, X):
            return np.log(np.asarray(X, dtype=float))

    hmm = HMM([0.6, 0.4], [[0.7, 0.3], [0.4, 0.6]], Scores())
    # The ice-cream example with b(x_t) given directly per frame.
    frames = [[0.4, 0.2], [0.5, 0.1], [0.1, 0.7], [0.4, 0.2]]
    assert np.exp(hmm.score(frames)) == pytest.approx(0.0098344)
    path, _ = hmm.decode(frames)
    np.testing.assert_array_equal(path, [0, 0, 1, 0])
    np.testing.assert_allclose(hmm.predict_proba(frames).sum(1), 1.0)
