"""RBM: free energy and partition function against brute-force enumeration,
Gibbs sampling against the exact distribution, CD-k raising the exact
log-likelihood, bad data."""

import itertools

import keras
import numpy as np
import pytest

from dltoolkit.models.rbm import (
    build_rbm,
    check_binary_data,
    log_likelihood,
    log_partition,
)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _random_rbm(visible, hidden, seed=0):
    rbm = build_rbm((visible,), hidden_units=hidden, seed=seed)
    rng = np.random.default_rng(seed)
    rbm.set_weights(
        [
            rng.normal(size=(visible, hidden)).astype("float32"),
            rng.normal(size=visible).astype("float32"),
            rng.normal(size=hidden).astype("float32"),
        ]
    )
    return rbm


def _all(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def _energy(v, h, w, b, c):
    return -(v @ b) - (h @ c) - v @ w @ h


def test_free_energy_equals_the_sum_over_hidden_configurations():
    """F(v) = -log sum_h exp(-E(v, h)), every h enumerated."""
    rbm = _random_rbm(5, 4)
    w, b, c = (np.asarray(x, "float64") for x in rbm.get_weights())
    v = _all(5)[[0, 3, 17, 31]]
    brute = [
        -np.log(sum(np.exp(-_energy(vi, h, w, b, c)) for h in _all(4))) for vi in v
    ]
    np.testing.assert_allclose(_np(rbm.free_energy(v)), brute, rtol=1e-5)
    h = _all(4)[[5, 9, 2, 15]]
    energies = [_energy(vi, hi, w, b, c) for vi, hi in zip(v, h)]
    np.testing.assert_allclose(_np(rbm.energy(v, h)), energies, rtol=1e-5)


@pytest.mark.parametrize("shape", [(4, 6), (7, 3)])  # either layer summed out
def test_log_partition_and_likelihood_against_enumeration(shape):
    rbm = _random_rbm(*shape, seed=1)
    w, b, c = (np.asarray(x, "float64") for x in rbm.get_weights())
    v_all, h_all = _all(shape[0]), _all(shape[1])
    energies = np.array([[_energy(v, h, w, b, c) for h in h_all] for v in v_all])
    log_z = np.log(np.exp(-energies).sum())
    assert log_partition(rbm) == pytest.approx(log_z, rel=1e-6)
    log_p = np.log(np.exp(-energies).sum(axis=1)) - log_z
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, rtol=1e-6)
    assert log_likelihood(rbm, v_all[[1, 2]]) == pytest.approx(log_p[[1, 2]].mean())


def test_conditionals_are_the_sigmoids():
    rbm = _random_rbm(3, 2)
    w, b, c = rbm.get_weights()
    v = np.array([[1.0, 0.0, 1.0]], "float32")
    h = np.array([[0.0, 1.0]], "float32")
    expected_h = 1 / (1 + np.exp(-(v @ w + c)))
    expected_v = 1 / (1 + np.exp(-(h @ w.T + b)))
    np.testing.assert_allclose(_np(rbm.hidden_probabilities(v)), expected_h, 1e-6)
    np.testing.assert_allclose(_np(rbm.visible_probabilities(h)), expected_v, 1e-6)


def test_gibbs_samples_follow_the_exact_distribution():
    rbm = _random_rbm(3, 2, seed=4)
    w, b, c = (np.asarray(x, "float64") for x in rbm.get_weights())
    v_all = _all(3)
    unnorm = [sum(np.exp(-_energy(v, h, w, b, c)) for h in _all(2)) for v in v_all]
    exact = np.array(unnorm) / np.sum(unnorm)
    samples = _np(rbm.sample(4000, steps=50)).astype(int)
    index = samples @ np.array([4, 2, 1])
    empirical = np.bincount(index, minlength=8) / len(index)
    assert 0.5 * np.abs(empirical - exact).sum() < 0.04  # total variation


@pytest.mark.parametrize("k", [1, 3])
def test_cd_k_raises_the_exact_log_likelihood(k):
    """6 visible / 4 hidden units: log P(v) computed exactly by enumeration."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]])
    x = protos[rng.integers(0, 3, 300)].astype("float32")
    x = np.where(rng.random(x.shape) < 0.05, 1 - x, x).astype("float32")
    rbm = build_rbm((6,), hidden_units=4, k=k, seed=0)
    before = log_likelihood(rbm, x)
    assert before == pytest.approx(6 * np.log(0.5), abs=0.05)  # near uniform
    rbm.compile(keras.optimizers.SGD(0.1, momentum=0.5))
    rbm.fit(np.tile(x, (4, 1)), epochs=4, batch_size=20, verbose=0)
    after = log_likelihood(rbm, x)
    # The data's own entropy (3 patterns, 5% flips) bounds it: about -2.29.
    assert after > before + 1.0
    assert after < -2.0


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match=r"2 NaN or infinite values \(first at index"):
        check_binary_data([[0.0, np.nan], [np.inf, 1.0]])
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        check_binary_data([[0.0, 2.0]])
    rbm = _random_rbm(3, 2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        log_likelihood(rbm, [[0.0, np.nan, 1.0]])
    with pytest.raises(ValueError, match="exceeds 20"):
        log_partition(build_rbm((25,), hidden_units=21))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        build_rbm((3,), k=0)
