"""FFT-accelerated t-SNE (method="fft"): nearest neighbors, sparse P, the
interpolated repulsion and the whole gradient against brute force and the
exact method, and the embedding against scikit-learn's Barnes-Hut t-SNE."""

import math

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities_nn
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from dltoolkit.embed import interpolation, tsne, tsne_kl_and_gradient
from dltoolkit.embed.affinities import nearest_neighbors, sparse_joint_probabilities
from dltoolkit.embed.neighbor_embedding import _FFTObjective, resolve_method


@pytest.fixture(scope="module")
def digits():
    return load_digits().data


def _clusters(n, extent, seed=0, dims=2):
    """Points in 6 Gaussian clusters spread over about ``extent``."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-extent / 2, extent / 2, size=(6, dims))
    spread = max(extent / 20, 1e-3)
    return centers[rng.integers(0, 6, n)] + rng.normal(scale=spread, size=(n, dims))


def _brute_repulsion(Y):
    d = Y[:, None, :] - Y[None]
    K = 1.0 / (1.0 + np.sum(d * d, axis=-1))
    np.fill_diagonal(K, 0.0)
    return np.einsum("ij,ijk->ik", K * K, d), K.sum()


# === Sparse input affinities ===


def test_nearest_neighbors_match_scikit_learn(digits):
    X = digits[:400]
    indices, sq = nearest_neighbors(X, 20)
    distances, _ = NearestNeighbors(n_neighbors=20).fit(X).kneighbors(None)
    np.testing.assert_allclose(np.sqrt(sq), distances, rtol=1e-10, atol=1e-10)
    assert np.all(indices != np.arange(400)[:, None])  # never itself
    assert np.all(np.diff(sq, axis=1) >= 0)  # nearest first


def test_sparse_p_matches_scikit_learn_on_the_same_neighbors(digits):
    X, perplexity = digits[:300], 10.0
    k = int(3 * perplexity + 1)
    P, beta = sparse_joint_probabilities(X, perplexity)
    indices, sq = nearest_neighbors(X, k)
    graph = sparse.csr_matrix(
        (sq.ravel(), indices.ravel(), np.arange(0, 300 * k + 1, k)), shape=(300, 300)
    )
    theirs = _joint_probabilities_nn(graph, perplexity, 0).toarray()
    ours = P.toarray()
    assert P.sum() == pytest.approx(1.0) and abs(P - P.T).max() == 0
    assert beta.shape == (300,) and np.all(beta > 0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-9)
    # Row entropies of p_{j|i} match log(perplexity), as for the dense P.
    P_cond = np.exp(-beta[:, None] * (sq - sq[:, :1]))
    P_cond /= P_cond.sum(axis=1, keepdims=True)
    entropy = -np.sum(P_cond * np.log(P_cond), axis=1)
    assert np.max(np.abs(entropy - math.log(perplexity))) < 1e-5


# === Repulsion: interpolation and near pairs ===


@pytest.mark.parametrize("extent", [1e-3, 5.0, 30.0, 120.0])
def test_repulsion_matches_brute_force(extent):
    """Fine grid (small extents) and coarse grid plus exact near pairs."""
    Y = _clusters(600, extent)
    R, Z = interpolation.repulsion(Y)
    R_exact, Z_exact = _brute_repulsion(Y)
    error = np.linalg.norm(R - R_exact, axis=1).mean()
    assert error < 0.01 * np.linalg.norm(R_exact, axis=1).mean()
    assert Z == pytest.approx(Z_exact, rel=5e-3)


def test_repulsion_in_one_dimension():
    Y = _clusters(400, 40.0, dims=1)
    R, Z = interpolation.repulsion(Y)
    R_exact, Z_exact = _brute_repulsion(Y)
    assert np.abs(R - R_exact).mean() < 0.01 * np.abs(R_exact).mean()
    assert Z == pytest.approx(Z_exact, rel=5e-3)


def test_pairs_within_finds_every_close_pair():
    Y = _clusters(300, 20.0, seed=3)
    i, j = interpolation.pairs_within(Y, 1.5)
    d2 = np.sum((Y[:, None] - Y[None]) ** 2, axis=-1)
    expected = set(zip(*np.nonzero(d2 < 1.5**2)))
    assert set(zip(i.tolist(), j.tolist())) == expected  # self pairs included
    assert np.all(np.diff(i) >= 0)  # grouped by i


def test_near_list_is_rebuilt_only_when_points_moved_enough():
    Y = _clusters(500, 150.0)
    repulsion = interpolation.Repulsion()
    repulsion(Y)
    repulsion(Y + 1e-3)  # moved far less than the margin: the list is kept
    assert repulsion.rebuilds == 1
    Y2 = Y + np.random.default_rng(0).normal(scale=2.0, size=Y.shape)
    R, Z = repulsion(Y2)
    assert repulsion.rebuilds == 2
    R_exact, Z_exact = _brute_repulsion(Y2)
    assert Z == pytest.approx(Z_exact, rel=5e-3)


# === The whole gradient against the exact one for the same P ===


@pytest.mark.parametrize("extent", [0.01, 8.0, 60.0])
def test_fft_gradient_close_to_the_exact_gradient(digits, extent):
    X = digits[:500]
    P, _ = sparse_joint_probabilities(X, 20.0)
    # An embedding that looks like one: the digits' first two PCs, scaled.
    centered = X - X.mean(axis=0)
    Y = centered @ np.linalg.svd(centered, full_matrices=False)[2][:2].T
    Y *= extent / np.ptp(Y)
    kl, grad = _FFTObjective(P)(P, Y, compute_kl=True)
    exact_kl, exact_grad = tsne_kl_and_gradient(P.toarray(), Y)
    error = np.linalg.norm(grad - exact_grad, axis=1).mean()
    assert error < 0.02 * np.linalg.norm(exact_grad, axis=1).mean(), extent
    assert kl == pytest.approx(exact_kl, rel=1e-3)


# === The embedding ===


def test_fft_tsne_as_trustworthy_as_scikit_learn(digits):
    X = digits[:600]
    ours = tsne(X, perplexity=20.0, random_state=0, method="fft", n_jobs=1)
    with threadpool_limits(1):  # its OpenMP threads crawl on a busy machine
        theirs = TSNE(perplexity=20.0, random_state=0, n_jobs=1).fit_transform(X)
    t_ours = trustworthiness(X, ours.embedding, n_neighbors=5)
    t_theirs = trustworthiness(X, theirs, n_neighbors=5)
    assert abs(t_ours - t_theirs) <= 0.01, (t_ours, t_theirs)
    assert ours.gradient == "fft" and ours.n_iter == 1000
    kls = [kl for it, kl in ours.kl_history if it > 250]
    assert kls[-1] < kls[0]


def test_fft_tsne_same_result_with_one_or_two_threads(digits):
    X = digits[:300]
    a = tsne(X, perplexity=10.0, n_iter=300, method="fft", n_jobs=1)
    b = tsne(X, perplexity=10.0, n_iter=300, method="fft", n_jobs=2)
    np.testing.assert_array_equal(a.embedding, b.embedding)


def test_fft_tsne_in_one_dimension(digits):
    X = digits[:300]
    result = tsne(X, n_components=1, perplexity=10.0, n_iter=300, method="fft")
    assert result.embedding.shape == (300, 1) and np.isfinite(result.kl_divergence)


def test_method_auto_and_its_errors(digits):
    assert resolve_method("auto", 1000, 2, "numpy") == "fft"
    assert resolve_method("auto", 999, 2, "numpy") == "exact"
    assert resolve_method("auto", 5000, 3, "numpy") == "exact"
    assert resolve_method("auto", 5000, 2, "tensorflow") == "exact"
    assert resolve_method("exact", 5000, 2, "numpy") == "exact"
    X = digits[:100]
    assert tsne(X, perplexity=10.0, n_iter=50).gradient == "exact"
    with pytest.raises(ValueError, match="method must be 'auto', 'fft' or 'exact'"):
        tsne(X, perplexity=10.0, method="barnes_hut")
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        tsne(X, perplexity=10.0, method="fft", n_components=3)
    with pytest.raises(ValueError, match="runs exact t-SNE only"):
        tsne(X, perplexity=10.0, method="fft", backend="tensorflow")
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        tsne(X, perplexity=10.0, method="fft", n_jobs=0)
