"""t-SNE and SNE: against brute force, finite differences and scikit-learn."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.spatial.distance import squareform
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities

from dltoolkit.embed import (
    conditional_probabilities,
    joint_probabilities,
    sne,
    sne_kl_and_gradient,
    squared_distances,
    tsne,
    tsne_kl_and_gradient,
)
from dltoolkit.errors import DataError


def _entropies(P):
    logs = np.log(np.where(P > 0, P, 1.0))
    return -np.sum(P * logs, axis=1)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.data, data.target


# === Input affinities ===


@pytest.mark.parametrize("perplexity", [2.0, 5.0, 30.0])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_binary_search_reaches_perplexity_for_every_point(perplexity, scale):
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(size=(60, 5)), rng.normal(6, 0.1, size=(40, 5))])
    P, beta = conditional_probabilities(squared_distances(X * scale), perplexity)
    assert np.all(np.diag(P) == 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    H = _entropies(P)
    assert np.max(np.abs(H - math.log(perplexity))) <= 1e-5
    assert np.all(beta > 0)


def test_binary_search_on_digits(digits):
    X = digits[0][:400]
    P, _ = conditional_probabilities(squared_distances(X), 30.0)
    assert np.max(np.abs(_entropies(P) - math.log(30.0))) <= 1e-5


def _brute_force_joint(X, perplexity):
    """Loops over van der Maaten and Hinton's (2008) formulas; sigma_i by
    Brent's method on H(sigma)."""
    n = len(X)
    cond = np.zeros((n, n))
    for i in range(n):
        d2 = [float(np.sum((X[i] - X[j]) ** 2)) for j in range(n)]

        def row(sigma, i=i, d2=d2):
            w = [0.0 if j == i else math.exp(-d2[j] / (2 * sigma**2)) for j in range(n)]
            return [v / sum(w) for v in w]

        def gap(log_sigma):
            p = row(math.exp(log_sigma))
            return -sum(v * math.log(v) for v in p if v > 0) - math.log(perplexity)

        sigma = math.exp(brentq(gap, -2.0, 4.0, xtol=1e-14))
        cond[i] = row(sigma)
    return (cond + cond.T) / (2 * n), cond


def test_joint_probabilities_match_brute_force():
    X = np.random.default_rng(0).normal(size=(7, 3))
    expected, expected_cond = _brute_force_joint(X, 3.0)
    P_cond, _ = conditional_probabilities(squared_distances(X), 3.0)
    np.testing.assert_allclose(P_cond, expected_cond, atol=1e-5)
    P = joint_probabilities(squared_distances(X), 3.0)
    np.testing.assert_allclose(P, expected, atol=1e-6)
    np.testing.assert_allclose(P, P.T)
    assert P.sum() == pytest.approx(1.0)


def test_joint_probabilities_match_scikit_learn(digits):
    X = digits[0][:300]
    D = squared_distances(X)
    ours = joint_probabilities(D, 20.0)
    theirs = squareform(_joint_probabilities(D.astype(np.float32), 20.0, 0))
    np.fill_diagonal(theirs, 0.0)
    # scikit-learn floors p_ij at machine epsilon; both match entropies to 1e-5.
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-12)
    assert np.abs(ours - theirs).max() < 1e-3 * ours.max()


# === Gradients ===


def _numerical_gradient(cost, Y, h=1e-6):
    grad = np.zeros_like(Y)
    for idx in np.ndindex(*Y.shape):
        plus, minus = Y.copy(), Y.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (cost(plus) - cost(minus)) / (2 * h)
    return grad


def test_tsne_gradient_equals_finite_differences():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(8, 4)), rng.normal(size=(8, 2))
    P = joint_probabilities(squared_distances(X), 2.5)
    kl, grad = tsne_kl_and_gradient(P, Y.copy())
    expected_kl = sum(
        P[i, j] * math.log(P[i, j] / q)
        for i in range(8)
        for j in range(8)
        if i != j
        for q in [
            (1 / (1 + np.sum((Y[i] - Y[j]) ** 2)))
            / sum(
                1 / (1 + np.sum((Y[k] - Y[m]) ** 2))
                for k in range(8)
                for m in range(8)
                if k != m
            )
        ]
    )
    assert kl == pytest.approx(expected_kl, rel=1e-10)
    numeric = _numerical_gradient(lambda y: tsne_kl_and_gradient(P, y)[0], Y)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_sne_gradient_equals_finite_differences():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(8, 4)), rng.normal(size=(8, 2))
    P, _ = conditional_probabilities(squared_distances(X), 2.5)
    kl, grad = sne_kl_and_gradient(P, Y.copy())
    Q = np.exp(-squared_distances(Y))
    np.fill_diagonal(Q, 0.0)
    Q /= Q.sum(axis=1, keepdims=True)
    off = ~np.eye(8, dtype=bool)
    assert kl == pytest.approx(np.sum(P[off] * np.log(P[off] / Q[off])), rel=1e-10)
    numeric = _numerical_gradient(lambda y: sne_kl_and_gradient(P, y)[0], Y)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


# === Embeddings ===


def test_tsne_on_a_digits_subset_is_as_trustworthy_as_scikit_learn(digits):
    X = digits[0][:300]
    ours = tsne(X, perplexity=20.0, random_state=0)
    ref = TSNE(perplexity=20.0, method="exact", random_state=0).fit(X)
    t_ours = trustworthiness(X, ours.embedding, n_neighbors=5)
    t_ref = trustworthiness(X, ref.embedding_, n_neighbors=5)
    assert t_ours >= t_ref - 0.01
    assert t_ours > 0.98
    assert ours.kl_divergence == pytest.approx(ref.kl_divergence_, rel=0.05)
    assert ours.embedding.shape == (300, 2)
    kls = [kl for it, kl in ours.kl_history if it > 250]
    assert kls[-1] < kls[0]  # the KL falls after early exaggeration


def test_sne_crowds_more_than_tsne(digits):
    X = digits[0][:250]
    t_sne = trustworthiness(X, sne(X, perplexity=20.0).embedding, n_neighbors=5)
    t_tsne = trustworthiness(X, tsne(X, perplexity=20.0).embedding, n_neighbors=5)
    assert 0.9 < t_sne < t_tsne


def test_tsne_is_deterministic_with_a_seed():
    X = np.random.default_rng(0).normal(size=(40, 6))
    a = tsne(X, perplexity=5.0, init="random", random_state=3, n_iter=300)
    b = tsne(X, perplexity=5.0, init="random", random_state=3, n_iter=300)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    assert a.n_iter == 300 and a.method == "tsne"
    assert a.sigmas.shape == (40,) and np.all(a.sigmas > 0)


def test_progress_bar_and_three_components(capsys):
    X = np.random.default_rng(0).normal(size=(40, 6))
    result = tsne(X, n_components=3, perplexity=5.0, n_iter=100, verbose=True)
    assert result.embedding.shape == (40, 3)
    err = capsys.readouterr().err
    assert "tsne" in err and "100/100" in err and "kl=" in err


@pytest.mark.slow
def test_tsne_on_all_digits_within_001_of_scikit_learn(digits):
    X = digits[0]
    ours = tsne(X, perplexity=30.0, random_state=0)
    ref = TSNE(perplexity=30.0, random_state=0).fit_transform(X)
    t_ours = trustworthiness(X, ours.embedding, n_neighbors=5)
    t_ref = trustworthiness(X, ref, n_neighbors=5)
    assert abs(t_ours - t_ref) <= 0.01, (t_ours, t_ref)
    tf_run = tsne(X, perplexity=30.0, random_state=0, backend="tensorflow")
    t_tf = trustworthiness(X, tf_run.embedding, n_neighbors=5)
    assert abs(t_tf - t_ref) <= 0.01, (t_tf, t_ref)


# === Bad input ===


@pytest.mark.parametrize(
    ("value", "kind"),
    [(np.nan, "1 NaN and 0 infinite"), (np.inf, "0 NaN and 1 infinite")],
)
def test_non_finite_data(value, kind):
    X = np.random.default_rng(0).normal(size=(40, 3))
    X[4, 2] = value
    with pytest.raises(
        DataError, match=f"holds {kind} values \\(first at row 4, column 2\\)"
    ):
        tsne(X, perplexity=5.0)
    with pytest.raises(DataError, match="NaN"):
        sne(X, perplexity=5.0)


def test_fewer_points_than_three_times_perplexity():
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(
        DataError,
        match=r"needs at least 3 x perplexity points: got 50 points with perplexity "
        r"30 \(needs 90 points\); use perplexity <= 16.67",
    ):
        tsne(X)
    assert tsne(X, perplexity=16.0, n_iter=50).embedding.shape == (50, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"perplexity": 0}, "perplexity must be a positive number. Received: 0"),
        ({"n_iter": 0}, "n_iter must be a positive integer. Received: 0"),
        ({"learning_rate": "fast"}, "learning_rate must be 'auto' or a positive"),
        ({"init": "spectral"}, "init must be 'pca', 'random' or an array"),
        ({"init": np.zeros((3, 2))}, r"shape \(40, 2\). Received shape \(3, 2\)"),
    ],
)
def test_bad_parameters(kwargs, message):
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match=message):
        tsne(X, **{"perplexity": 5.0, **kwargs})


def test_not_a_matrix():
    with pytest.raises(
        DataError, match=r"non-empty 2-D array .* Received shape \(40,\)"
    ):
        tsne(np.arange(40.0), perplexity=5.0)


# === TensorFlow backend ===


def test_tensorflow_gradient_and_kl_equal_numpy():
    import tensorflow as tf

    from dltoolkit.embed import tf_backend

    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(30, 5)), rng.normal(size=(30, 2))
    P = joint_probabilities(squared_distances(X), 5.0)
    kl, grad = tsne_kl_and_gradient(P, Y.copy())
    P64, Y64 = tf.constant(P), tf.constant(Y)
    np.testing.assert_allclose(tf_backend.gradient(P64, Y64)[0], grad, rtol=1e-10)
    assert float(tf_backend.kl_divergence(P64, Y64)) == pytest.approx(kl, rel=1e-10)


def test_tensorflow_backend_matches_numpy_run(digits):
    X = digits[0][:200]
    ours = tsne(X, perplexity=15.0, n_iter=400)
    tf_run = tsne(X, perplexity=15.0, n_iter=400, backend="tensorflow")
    assert tf_run.n_iter == 400
    assert tf_run.kl_divergence == pytest.approx(ours.kl_divergence, rel=0.05)
    t_np = trustworthiness(X, ours.embedding, n_neighbors=5)
    t_tf = trustworthiness(X, tf_run.embedding, n_neighbors=5)
    assert abs(t_np - t_tf) <= 0.005
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'tensorflow'"):
        tsne(X, perplexity=15.0, backend="jax")
