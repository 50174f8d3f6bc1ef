"""Fréchet distance: closed forms, scipy's sqrtm, sampled Gaussians, callback."""

import keras
import numpy as np
import pytest
from scipy import linalg

from dltoolkit.metrics.frechet import (
    FrechetDistanceCallback,
    feature_frechet_distance,
    frechet_distance,
    gaussian_statistics,
)


def _spd(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def _scipy_frechet(mu1, s1, mu2, s2):
    """The textbook formula with scipy's matrix square root (as pytorch-fid)."""
    covmean = linalg.sqrtm(s1 @ s2).real
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1 + s2 - 2 * covmean)


def test_one_dimension_closed_form():
    # N(m1, s1^2) vs N(m2, s2^2): (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(
        (1 - 3) ** 2 + (2 - 3) ** 2
    )


def test_diagonal_covariances_closed_form():
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 0 + 4 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    value = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert value == pytest.approx(expected, rel=1e-12)


def test_scaled_covariance_closed_form():
    # S2 = c S1 commutes with S1: Tr(S1 + S2 - 2 sqrt(S1 S2)) = (1 - sqrt c)^2 Tr S1.
    s1 = _spd(5, 0)
    value = frechet_distance(np.zeros(5), s1, np.zeros(5), 4.0 * s1)
    assert value == pytest.approx((1 - 2) ** 2 * np.trace(s1), rel=1e-10)


@pytest.mark.parametrize("d", [2, 6, 20])
def test_matches_scipy_sqrtm_on_random_covariances(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _spd(d, d + 1), _spd(d, d + 2)
    expected = _scipy_frechet(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-8)


def test_identical_gaussians_are_at_zero():
    s = _spd(4, 3)
    assert frechet_distance(np.ones(4), s, np.ones(4), s) == pytest.approx(0, abs=1e-9)


def test_singular_covariances_fewer_samples_than_features():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 12)), rng.normal(size=(6, 12)) + 0.5
    value = feature_frechet_distance(a, b)
    mu1, s1 = gaussian_statistics(a)
    mu2, s2 = gaussian_statistics(b)
    assert np.linalg.matrix_rank(s1) == 4  # singular
    assert np.isfinite(value) and value > 0
    assert value == pytest.approx(_scipy_frechet(mu1, s1, mu2, s2), rel=1e-4)
    assert feature_frechet_distance(a, a) == pytest.approx(0, abs=1e-8)


def test_sampled_features_approach_the_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20000, 3)) * [1.0, 2.0, 0.5]
    b = rng.normal(size=(20000, 3)) * [2.0, 2.0, 0.5] + [1.0, 0.0, 0.0]
    expected = 1.0 + (1 - 2) ** 2  # mean shift 1; one std 1 -> 2
    assert feature_frechet_distance(a, b) == pytest.approx(expected, abs=0.05)


def test_statistics_are_mean_and_unbiased_covariance():
    x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])
    mu, sigma = gaussian_statistics(x)
    np.testing.assert_allclose(mu, [2.0, 4.0])
    np.testing.assert_allclose(sigma, np.cov(x.T, ddof=1))


@pytest.mark.parametrize(
    "a, b, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), np.ones((3, 2)), "NaN or infinite"),
        (np.ones((3, 2)), np.array([[0.0, np.inf], [1.0, 2.0]]), "NaN or infinite"),
        (np.ones((1, 2)), np.ones((3, 2)), "at least 2 feature rows"),
        (np.ones(4), np.ones((3, 2)), "2-D array"),
        (np.ones((3, 2)), np.ones((3, 3)), "same number of features"),
    ],
)
def test_bad_features(a, b, match):
    with pytest.raises(ValueError, match=match):
        feature_frechet_distance(a, b)


def test_bad_statistics():
    with pytest.raises(ValueError, match="d x d"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="sigma2 holds NaN"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.full((2, 2), np.nan))


def test_callback_logs_the_distance_each_epoch():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(200, 2))
    samples = [rng.normal(size=(200, 2)) + shift for shift in (3.0, 1.0, 0.0)]
    calls = []

    def sample_features(model):
        calls.append(model)
        return samples[len(calls) - 1]

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    callback = FrechetDistanceCallback(sample_features, reference)
    history = model.fit(
        np.zeros((4, 1)), np.zeros((4, 1)), epochs=3, verbose=0, callbacks=[callback]
    ).history
    expected = [feature_frechet_distance(s, reference) for s in samples]
    np.testing.assert_allclose(history["val_frechet_distance"], expected)
    assert calls == [model] * 3
    assert expected[0] > expected[1] > expected[2]


def test_callback_every_repeats_the_last_score():
    reference = np.random.default_rng(0).normal(size=(50, 2))
    scores = iter([np.random.default_rng(i).normal(size=(50, 2)) for i in range(9)])
    callback = FrechetDistanceCallback(lambda m: next(scores), reference, every=3)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(
        np.zeros((4, 1)), np.zeros((4, 1)), epochs=4, verbose=0, callbacks=[callback]
    ).history
    values = history["val_frechet_distance"]
    # Epoch 1: a first score; 2: repeated; 3: due; 4: the last epoch, due.
    assert values[0] == values[1] != values[2] != values[3]
    with pytest.raises(ValueError, match="every"):
        FrechetDistanceCallback(lambda m: reference, reference, every=0)
