"""Input-space affinities of SNE and t-SNE: per-point bandwidths by binary search.

References:
    E9 309, "Stochastic neighborhood embedding": p_{j|i} with a
    data-point specific variance sigma_i chosen for a uniform entropy H_i.
    van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 2008,
    section 2 (perplexity) and section 3.1 (symmetric p_ij).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dltoolkit.errors import DataError


def check_data(X, perplexity: float) -> np.ndarray:
    """``X`` as a finite float64 matrix with enough points for ``perplexity``.

    Raises:
        ValueError: ``perplexity`` is not a positive number.
        DataError: ``X`` is not a 2-D numeric array, holds NaN or infinite
            values, or has fewer than ``3 * perplexity`` points.
    """
    if (
        isinstance(perplexity, bool)
        or not isinstance(perplexity, numbers.Real)
        or not perplexity > 0
    ):
        raise ValueError(
            f"perplexity must be a positive number. Received: {perplexity!r}"
        )
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"t-SNE input must be numeric: {err}") from None
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(
            "t-SNE input must be a non-empty 2-D array (points x features). "
            f"Received shape {X.shape}."
        )
    finite = np.isfinite(X)
    if not finite.all():
        n_nan = int(np.isnan(X).sum())
        n_inf = int((~finite).sum()) - n_nan
        row, col = np.argwhere(~finite)[0]
        raise DataError(
            f"t-SNE input holds {n_nan} NaN and {n_inf} infinite values (first at "
            f"row {row}, column {col}); remove or impute them first."
        )
    n = X.shape[0]
    if n < 3 * perplexity:
        raise DataError(
            f"t-SNE needs at least 3 x perplexity points: got {n} points with "
            f"perplexity {perplexity:g} (needs {math.ceil(3 * perplexity)} points); "
            f"use perplexity <= {n / 3:.4g} or more points."
        )
    return X


def squared_distances(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(n, n)``, exactly zero on the diagonal."""
    X = np.asarray(X, dtype=np.float64)
    sq = np.einsum("ij,ij->i", X, X)
    D = X @ X.T
    D *= -2.0
    D += sq[:, None]
    D += sq[None, :]
    np.maximum(D, 0.0, out=D)
    np.fill_diagonal(D, 0.0)
    return D


def _row_distributions(D: np.ndarray, beta: np.ndarray):
    """``(P, H)``: p_{j|i} proportional to exp(-beta_i D_ij) and their entropies.

    ``D`` is shifted so that each row's smallest off-diagonal value is 0 and
    holds +inf on the diagonal.
    """
    P = np.exp(-beta[:, None] * D)  # (m, n), exp(-inf) = 0 on the diagonal
    Z = P.sum(axis=1)
    P /= Z[:, None]
    expected = np.einsum("ij,ij->i", P, np.where(np.isinf(D), 0.0, D))
    H = np.log(Z) + beta * expected  # nats
    return P, H


def conditional_probabilities(
    sq_distances, perplexity: float, *, tol: float = 1e-5, max_steps: int = 200
):
    """Conditional p_{j|i} with each point's entropy matched to log(perplexity).

    For every point i the precision beta_i = 1 / (2 sigma_i^2) is found by a
    bisection (vectorized over all points) so that the entropy
    ``H_i = -sum_j p_{j|i} log p_{j|i}`` (nats) equals ``log(perplexity)``
    within ``tol``; ``p_{j|i} = exp(-beta_i d_ij) / sum_{k != i} exp(-beta_i d_ik)``
    with ``d_ij`` the squared distance and ``p_{i|i} = 0``.

    Args:
        sq_distances: ``(n, n)`` squared distances (the diagonal is ignored).
        perplexity: the effective number of neighbors, ``exp(H_i)``.
        tol: allowed absolute error of each entropy, in nats.
        max_steps: bisection steps at most (a point whose target cannot be met,
            e.g. with more exact duplicates than the perplexity, keeps its last
            beta).

    Returns:
        ``(P, beta)``: the row-stochastic ``(n, n)`` matrix and the ``(n,)``
        precisions; ``sigma_i = sqrt(1 / (2 beta_i))``.
    """
    D = np.array(sq_distances, dtype=np.float64)
    np.fill_diagonal(D, np.inf)
    return _bisect(D, perplexity, tol, max_steps)


def _bisect(D, perplexity, tol, max_steps):
    """``(P, beta)`` for rows of squared distances ``D`` (+inf: left out)."""
    m, n = D.shape
    D -= D.min(axis=1, keepdims=True)  # exp() cannot underflow for every j
    target = math.log(perplexity)
    # A scale-aware start: beta * (the mean shifted distance) = 1.
    finite = ~np.isinf(D)
    mean = np.where(finite, D, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
    beta = 1.0 / np.maximum(mean, 1e-12)
    lo = np.zeros(m)
    hi = np.full(m, np.inf)
    P = np.empty_like(D)
    active = np.arange(m)
    for _ in range(max_steps):
        P_a, H = _row_distributions(D[active], beta[active])
        P[active] = P_a
        err = H - target
        done = np.abs(err) <= tol
        b = beta[active]
        # Entropy falls as beta rises: too high an entropy -> larger beta.
        up = err > 0
        lo_a = np.where(up, b, lo[active])
        hi_a = np.where(up, hi[active], b)
        grow = np.where(np.isinf(hi_a), b * 2.0, (b + hi_a) / 2.0)
        shrink = np.where(lo_a == 0.0, b / 2.0, (b + lo_a) / 2.0)
        new = np.where(up, grow, shrink)
        keep = ~done
        lo[active], hi[active] = lo_a, hi_a
        beta[active[keep]] = new[keep]
        active = active[keep]
        if active.size == 0:
            break
    return P, beta


def joint_probabilities(sq_distances, perplexity: float) -> np.ndarray:
    """Symmetric t-SNE affinities ``p_ij = (p_{j|i} + p_{i|j}) / (2n)``.

    Returns:
        ``(n, n)`` matrix summing to 1 with a zero diagonal.
    """
    P, _ = conditional_probabilities(sq_distances, perplexity)
    n = P.shape[0]
    return (P + P.T) / (2.0 * n)


def nearest_neighbors(X, k: int, *, block: int = 1024):
    """The ``k`` nearest neighbors of every row of ``X`` (itself left out).

    Exact, by brute force: squared distances of ``block`` rows at a time
    against all rows (BLAS), then a partial sort per row.

    Returns:
        ``(indices, sq_distances)``, both ``(n, k)``, nearest first; ties
        go to the lower index.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if not 0 < k < n:
        raise ValueError(f"k must lie in [1, n - 1 = {n - 1}]. Received: {k}")
    sq = np.einsum("ij,ij->i", X, X)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k))
    for start in range(0, n, block):
        stop = min(start + block, n)
        D = X[start:stop] @ X.T
        D *= -2.0
        D += sq[start:stop, None]
        D += sq[None, :]
        np.maximum(D, 0.0, out=D)
        rows = np.arange(stop - start)
        D[rows, rows + start] = np.inf  # not its own neighbor
        part = np.argpartition(D, k - 1, axis=1)[:, :k]
        d = np.take_along_axis(D, part, axis=1)
        order = np.lexsort((part, d), axis=1)  # by distance, then by index
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        distances[start:stop] = np.take_along_axis(d, order, axis=1)
    return indices, distances


def sparse_joint_probabilities(
    X, perplexity: float, *, n_neighbors: int | None = None, tol: float = 1e-5
):
    """Symmetric t-SNE affinities restricted to nearest neighbors (sparse).

    Each point's ``p_{j|i}`` is spread over its ``n_neighbors`` nearest
    neighbors only (default ``min(n - 1, floor(3 * perplexity + 1))``, as
    van der Maaten 2014 and scikit-learn's Barnes-Hut t-SNE) with sigma_i by
    the same bisection as ``conditional_probabilities``; then
    ``p_ij = (p_{j|i} + p_{i|j}) / (2n)``. Beyond three sigmas (the
    neighborhood that perplexity ``u`` covers) the dropped ``p_{j|i}`` are
    negligible.

    Returns:
        ``(P, beta)``: ``P`` a ``scipy.sparse.csr_matrix`` ``(n, n)``
        (symmetric, sums to 1, sorted indices), ``beta`` the ``(n,)``
        precisions.
    """
    from scipy import sparse

    n = X.shape[0]
    k = n_neighbors if n_neighbors is not None else min(n - 1, int(3 * perplexity + 1))
    indices, D = nearest_neighbors(X, k)
    P_cond, beta = _bisect(D, perplexity, tol, 200)
    P = sparse.csr_matrix(
        (P_cond.ravel(), indices.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n)
    )
    P = (P + P.T).tocsr()
    P.sum_duplicates()
    P.sort_indices()
    P.data /= 2.0 * n
    return P, beta
