"""t-SNE and SNE in NumPy: the E9 309 formulas exactly (O(n^2)), and t-SNE's
gradient FFT-accelerated (O(n) per step, ``method="fft"``).

References:
    E9 309, "Stochastic neighborhood embedding", "Error function and
    optimization", "t-SNE" (Student-t Q with one degree of freedom and its
    gradient), "Practical considerations" (perplexity, learning rate,
    iterations).
    van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 2008:
    symmetric P (section 3.1), early exaggeration and momentum (section 3.4);
    the gains (delta-bar-delta) of van der Maaten's reference ``tsne.py``.
    van der Maaten, "Accelerating t-SNE using Tree-Based Algorithms", JMLR
    2014: P over the 3 x perplexity nearest neighbors.
    Linderman et al., "Fast interpolation-based t-SNE for improved
    visualization of single-cell RNA-seq data", Nature Methods 2019: the
    interpolated repulsion (``dltoolkit.embed.interpolation``).
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
from threadpoolctl import threadpool_limits

from dltoolkit.embed.affinities import (
    check_data,
    conditional_probabilities,
    sparse_joint_probabilities,
    squared_distances,
)

_CHECK_EVERY = 50  # iterations between KL evaluations (progress and stopping)
_EPS = np.finfo(np.float64).eps
_AUTO_FFT_FROM = 1000  # method="auto": FFT-accelerated from this many points
_METHODS = ("auto", "fft", "exact")


def _workers(n_jobs) -> int:
    """Threads for ``method="fft"``: ``n_jobs``, or every CPU this process may use."""
    if n_jobs is None or n_jobs == -1:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(
            f"n_jobs must be a positive integer, -1 or None. Received: {n_jobs!r}"
        )
    return n_jobs


def resolve_method(method: str, n: int, n_components: int, backend: str) -> str:
    """``"fft"`` or ``"exact"`` for ``tsne(method=...)``."""
    if method not in _METHODS:
        raise ValueError(
            f"method must be 'auto', 'fft' or 'exact'. Received: {method!r}"
        )
    if method == "fft" and n_components > 2:
        raise ValueError(
            "method='fft' embeds in 1 or 2 dimensions; use method='exact' for "
            f"n_components={n_components}."
        )
    if method != "auto":
        return method
    fits = n_components <= 2 and backend == "numpy" and n >= _AUTO_FFT_FROM
    return "fft" if fits else "exact"


@dataclasses.dataclass
class TSNEResult:
    """What ``tsne`` and ``sne`` return.

    Attributes:
        embedding: ``(n, n_components)`` coordinates.
        kl_divergence: the cost of the final embedding (without exaggeration):
            KL(P || Q) for t-SNE, sum_i KL(P_i || Q_i) for SNE.
        n_iter: gradient steps taken.
        kl_history: ``(iteration, KL)`` pairs every 50 iterations (during early
            exaggeration the KL is that of the exaggerated P).
        sigmas: ``(n,)`` per-point Gaussian bandwidths found by binary search.
        learning_rate: the step size used (after ``"auto"``).
        method: ``"tsne"`` or ``"sne"``.
        gradient: ``"exact"`` (O(n^2)) or ``"fft"`` (sparse P, interpolated
            repulsion: ``tsne(method="fft")``).
    """

    embedding: np.ndarray
    kl_divergence: float
    n_iter: int
    kl_history: list
    sigmas: np.ndarray
    learning_rate: float
    method: str
    gradient: str = "exact"


# === Objectives: (KL, gradient) of an embedding ===


def _embedding_sq_distances(Y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    sq = np.einsum("ij,ij->i", Y, Y)
    D = np.matmul(Y, Y.T, out=out)
    D *= -2.0
    D += sq[:, None]
    D += sq[None, :]
    np.maximum(D, 0.0, out=D)
    return D


class _TSNEObjective:
    """``tsne_kl_and_gradient`` with its (n, n) work arrays kept between calls."""

    def __init__(self, n: int):
        self.kernel = np.empty((n, n))
        self.work = np.empty((n, n))
        self.ones = np.ones((n, 1))
        self._plogp = (None, 0.0)  # (the P it belongs to, sum p log p)

    def __call__(self, P, Y, *, compute_kl=True):
        n = Y.shape[0]
        if self.kernel.shape[0] != n:
            self.__init__(n)
        kernel, work = self.kernel, self.work
        sq = np.einsum("ij,ij->i", Y, Y)
        # A contiguous Y^T: OpenBLAS is several times faster on it.
        np.matmul(Y, np.ascontiguousarray(Y.T), out=kernel)
        kernel *= -2.0
        kernel += sq[:, None]
        kernel += (sq + 1.0)[None, :]  # 1 + |y_i - y_j|^2
        np.reciprocal(kernel, out=kernel)  # (n, n) Student-t kernel
        np.fill_diagonal(kernel, 0.0)
        total = kernel.sum()
        kl = None
        if compute_kl:
            # KL = sum p log p - sum p log kernel + log(total) sum p
            np.fill_diagonal(kernel, 1.0)
            np.log(kernel, out=work)
            np.fill_diagonal(kernel, 0.0)
            if self._plogp[0] is not P:
                mask = P > 0
                self._plogp = (P, float(np.sum(P[mask] * np.log(P[mask]))))
            kl = self._plogp[1] - float(np.vdot(P, work))
            kl += math.log(total) * float(P.sum())
        # (p_ij - q_ij) * kernel_ij
        np.multiply(kernel, -1.0 / total, out=work)
        work += P
        work *= kernel
        stacked = work @ np.hstack([Y, self.ones[:n]])  # (n, d + 1): PQ Y, row sums
        grad = stacked[:, -1:] * Y - stacked[:, :-1]
        grad *= 4.0
        return kl, grad


class _FFTObjective:
    """t-SNE's KL and gradient for a sparse joint ``P`` (``scipy.sparse.csr``).

    Attraction ``sum_j p_ij K_ij (y_i - y_j)`` over the stored pairs only;
    repulsion ``R_i / Z`` from ``interpolation.Repulsion`` (FFT-accelerated
    interpolation with exact near pairs). The KL is
    ``sum p log p - sum p log K + log(Z) sum p`` over the stored pairs, with the
    interpolated ``Z``.
    """

    def __init__(self, P, *, workers: int = 1):
        from dltoolkit.embed.interpolation import PairSums, Repulsion

        self.pairs = PairSums(np.diff(P.indptr), P.indices)
        # With two threads or more, one works through the pairs (attraction,
        # near field) while the caller's computes the grid's FFTs.
        self.pool = None
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(1, thread_name_prefix="tsne-pairs")
        self.repulsion = Repulsion(workers=max(1, workers - 1))
        self._p32 = (None, None)
        self._plogp = (None, 0.0)

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _pair_terms(self, p, Y, z, radius):
        """Attraction (float64), log K on P's pairs and the near field."""
        from dltoolkit.embed.interpolation import from_points, squared_norms

        diff = self.pairs.differences(z)
        kernel = squared_norms(diff)
        kernel += 1.0
        np.reciprocal(kernel, out=kernel)  # K_ij on the stored pairs
        diff *= p * kernel
        attraction = from_points(self.pairs.sums(diff))
        return attraction, kernel, self.repulsion.near(Y, radius, z)

    def __call__(self, P, Y, *, compute_kl=True):
        from dltoolkit.embed.interpolation import as_points, combine

        if self._p32[0] is not P:
            self._p32 = (P, P.data.astype(np.float32))
        z = as_points(Y)
        spacing, radius = self.repulsion.plan(Y)
        args = (self._p32[1], Y, z, radius)
        if self.pool is not None:
            pending = self.pool.submit(self._pair_terms, *args)
            far = self.repulsion.far(Y, spacing, radius)
            attraction, kernel, near = pending.result()
        else:
            attraction, kernel, near = self._pair_terms(*args)
            far = self.repulsion.far(Y, spacing, radius)
        R, Z = combine(*far, near)
        grad = attraction - R / Z
        grad *= 4.0
        kl = None
        if compute_kl:
            p64 = P.data
            if self._plogp[0] is not P:
                pos = p64[p64 > 0]
                self._plogp = (P, float(np.sum(pos * np.log(pos))))
            kl = self._plogp[1] - float(np.dot(p64, np.log(kernel, dtype=np.float64)))
            kl += math.log(Z) * float(p64.sum())
        return kl, grad


def tsne_kl_and_gradient(P: np.ndarray, Y: np.ndarray, *, compute_kl: bool = True):
    """t-SNE cost and gradient for joint ``P`` (symmetric, sums to 1).

    ``q_ij = (1 + |y_i - y_j|^2)^-1 / sum_{k != l} (1 + |y_k - y_l|^2)^-1`` and
    ``dC/dy_i = 4 sum_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|^2)^-1``.

    Returns:
        ``(KL(P || Q) or None, (n, d) gradient)``.
    """
    return _TSNEObjective(Y.shape[0])(P, Y, compute_kl=compute_kl)


def sne_kl_and_gradient(P: np.ndarray, Y: np.ndarray, *, compute_kl: bool = True):
    """SNE cost and gradient for conditional ``P`` (each row sums to 1).

    ``q_{j|i} = exp(-|y_i - y_j|^2) / sum_{k != i} exp(-|y_i - y_k|^2)``,
    ``C = sum_i KL(P_i || Q_i)`` and
    ``dC/dy_i = 2 sum_j (p_{j|i} - q_{j|i} + p_{i|j} - q_{i|j})(y_i - y_j)``.

    Returns:
        ``(C or None, (n, d) gradient)``.
    """
    logits = _embedding_sq_distances(Y)
    np.negative(logits, out=logits)
    np.fill_diagonal(logits, -np.inf)
    logits -= logits.max(axis=1, keepdims=True)
    Q = np.exp(logits)
    norm = Q.sum(axis=1, keepdims=True)
    Q /= norm
    kl = None
    if compute_kl:
        log_q = logits - np.log(norm)  # (n, n), -inf on the diagonal
        mask = P > 0
        p = P[mask]
        kl = float(np.sum(p * (np.log(p) - np.maximum(log_q[mask], math.log(_EPS)))))
    M = P - Q
    M += M.T
    grad = M.sum(axis=1)[:, None] * Y - M @ Y
    grad *= 2.0
    return kl, grad


# === Optimizer: gradient descent with momentum and gains ===


def _descend(P, Y, *, learning_rate, n_iter, start, momentum, state, bar):
    """Steps ``start .. n_iter - 1``; returns the last iteration done."""
    objective = state["objective"]
    update, gains, history = state["update"], state["gains"], state["history"]
    best, best_iter = np.inf, start
    it = start
    for it in range(start, n_iter):
        check = (it + 1) % _CHECK_EVERY == 0
        kl, grad = objective(P, Y, compute_kl=check)
        inc = update * grad < 0.0  # sign changed: speed up this coordinate
        gains[inc] += 0.2
        gains[~inc] *= 0.8
        np.maximum(gains, 0.01, out=gains)
        grad *= gains
        update *= momentum
        update -= learning_rate * grad
        Y += update
        if bar is not None:
            bar.update(1)
        if check:
            history.append((it + 1, kl))
            if bar is not None:
                bar.set_postfix(kl=f"{kl:.4f}")
            if np.linalg.norm(grad) <= 1e-7:
                break
            if kl < best:
                best, best_iter = kl, it
            elif it - best_iter > 300:
                break
    return it


def _initial_embedding(X, init, n_components, rng):
    n = X.shape[0]
    if isinstance(init, str):
        if init == "random":
            return 1e-4 * rng.standard_normal((n, n_components))
        if init == "pca":
            if n_components > min(X.shape):
                raise ValueError(
                    f"init='pca' needs n_components <= min(n_points, n_features) = "
                    f"{min(X.shape)}. Received: n_components={n_components}"
                )
            centered = X - X.mean(axis=0)
            U, S, Vt = np.linalg.svd(centered, full_matrices=False)
            Vt = Vt[:n_components]
            signs = np.sign(Vt[np.arange(n_components), np.abs(Vt).argmax(axis=1)])
            Y = centered @ (Vt * signs[:, None]).T
            std = Y[:, 0].std()
            return Y / (std if std > 0 else 1.0) * 1e-4
        raise ValueError(
            f"init must be 'pca', 'random' or an array. Received: {init!r}"
        )
    Y = np.array(init, dtype=np.float64)
    if Y.shape != (n, n_components) or not np.isfinite(Y).all():
        raise ValueError(
            f"init must be a finite array of shape ({n}, {n_components}). "
            f"Received shape {Y.shape}."
        )
    return Y


def _embed(
    method,
    X,
    *,
    n_components,
    perplexity,
    early_exaggeration,
    learning_rate,
    n_iter,
    random_state,
    init,
    exaggeration_iter,
    verbose,
    backend="numpy",
    gradient="exact",
    n_jobs=None,
):
    X = check_data(X, perplexity)
    if backend not in ("numpy", "tensorflow"):
        raise ValueError(
            f"backend must be 'numpy' or 'tensorflow'. Received: {backend!r}"
        )
    if not isinstance(n_components, int) or n_components < 1:
        raise ValueError(
            f"n_components must be a positive integer. Received: {n_components!r}"
        )
    if not isinstance(n_iter, int) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer. Received: {n_iter!r}")
    if not early_exaggeration >= 1.0:
        raise ValueError(
            f"early_exaggeration must be >= 1. Received: {early_exaggeration!r}"
        )
    n = X.shape[0]
    workers = _workers(n_jobs)
    if method == "tsne":
        gradient = resolve_method(gradient, n, n_components, backend)
    if gradient == "fft":
        if backend != "numpy":
            raise ValueError(
                "backend='tensorflow' runs exact t-SNE only: pass method='exact' "
                "(or method='auto')."
            )
        P, beta = sparse_joint_probabilities(X, perplexity)
        objective = _FFTObjective(P, workers=workers)
        auto_rate = max(n / early_exaggeration / 4.0, 50.0)
    elif method == "tsne":
        P_cond, beta = conditional_probabilities(squared_distances(X), perplexity)
        P, objective = (P_cond + P_cond.T) / (2.0 * n), _TSNEObjective(n)
        auto_rate = max(n / early_exaggeration / 4.0, 50.0)
    else:
        P_cond, beta = conditional_probabilities(squared_distances(X), perplexity)
        P, objective = P_cond, sne_kl_and_gradient
        # Conditional P is about 2n times the joint P, so is the gradient.
        auto_rate = max(1.0 / early_exaggeration / 8.0, 50.0 / (2.0 * n))
    if learning_rate == "auto":
        learning_rate = auto_rate
    elif not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(
            f"learning_rate must be 'auto' or a positive number. "
            f"Received: {learning_rate!r}"
        )
    rng = np.random.default_rng(random_state)
    Y = _initial_embedding(X, init, n_components, rng)
    descend = _descend
    if backend == "tensorflow":
        from dltoolkit.embed.tf_backend import descend

    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_iter, desc=method, unit="it", leave=False)
    history = []
    phases = [
        (min(exaggeration_iter, n_iter), 0.5, early_exaggeration),
        (n_iter, 0.8, 1.0),
    ]
    it, start = -1, 0
    # One BLAS thread: the (n, n) x (n, 3) products are memory-bound and
    # OpenBLAS threads slow them down several times on a busy machine.
    limits = threadpool_limits(limits=1, user_api="blas")
    try:
        for end, momentum, exaggeration in phases:
            if end <= start:
                continue
            # Each phase starts afresh (as scikit-learn does): no carried step.
            state = {
                "update": np.zeros_like(Y),
                "gains": np.ones_like(Y),
                "history": history,
                "objective": objective,
            }
            it = descend(
                P * exaggeration if exaggeration != 1.0 else P,
                Y,
                learning_rate=learning_rate,
                n_iter=end,
                start=start,
                momentum=momentum,
                state=state,
                bar=bar,
            )
            start = it + 1
        kl, _ = objective(P, Y, compute_kl=True)
    finally:
        limits.restore_original_limits()
        if bar is not None:
            bar.close()
        if hasattr(objective, "close"):
            objective.close()
    return TSNEResult(
        embedding=Y,
        kl_divergence=kl,
        n_iter=it + 1,
        kl_history=history,
        sigmas=np.sqrt(1.0 / (2.0 * beta)),
        learning_rate=float(learning_rate),
        method=method,
        gradient=gradient,
    )


def tsne(
    X,
    *,
    n_components: int = 2,
    perplexity: float = 30.0,
    early_exaggeration: float = 12.0,
    learning_rate="auto",
    n_iter: int = 1000,
    random_state=None,
    init="pca",
    exaggeration_iter: int = 250,
    verbose: bool = False,
    backend: str = "numpy",
    method: str = "auto",
    n_jobs: int | None = None,
) -> TSNEResult:
    """t-SNE (van der Maaten and Hinton, 2008): exact, or FFT-accelerated.

    Input affinities: per-point sigma_i by binary search so that the entropy
    of p_{j|i} equals log(perplexity); ``p_ij = (p_{j|i} + p_{i|j}) / (2n)``.
    With ``method="fft"`` each p_{j|i} covers only the ``floor(3 * perplexity
    + 1)`` nearest neighbors (exact search; van der Maaten 2014) and P is
    sparse.
    Output affinities: Student-t with one degree of freedom. Gradient descent
    on KL(P || Q) with the gradient
    ``4 sum_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|^2)^-1``; for the first
    ``exaggeration_iter`` steps P is multiplied by ``early_exaggeration`` and
    the momentum is 0.5, then 0.8; per-coordinate gains (+0.2 when the
    gradient changes sign, x0.8 otherwise, at least 0.01) as in the reference
    implementation. Stops early when the KL (checked every 50 steps) has not
    improved for 300 steps.

    ``method="exact"`` computes every pair: O(n^2) time and memory, the
    course's formulas. ``method="fft"`` (O(n) per step): attraction over the
    sparse P's pairs; repulsion and the normalization Z by FFT-accelerated
    interpolation on a grid (Linderman et al. 2019, FIt-SNE), with the
    short-range part of the kernel summed exactly over nearby pairs (see
    ``dltoolkit.embed.interpolation``); its gradient is within a few percent
    of the exact one for the same P and its KL uses the interpolated Z.

    Args:
        X: ``(n, features)`` finite data, ``n >= 3 * perplexity``.
        n_components: embedding dimensions.
        perplexity: effective number of neighbors per point.
        early_exaggeration: factor on P during the first phase (>= 1).
        learning_rate: step size, or ``"auto"``: ``max(n / early_exaggeration
            / 4, 50)`` (Belkina et al. 2019, scikit-learn's default).
        n_iter: gradient steps at most.
        random_state: seed for ``init="random"``.
        init: ``"pca"`` (first principal components scaled to std 1e-4, as
            scikit-learn), ``"random"`` (N(0, 1e-8), as the paper) or an
            ``(n, n_components)`` array (used as is).
        exaggeration_iter: steps of the first phase.
        verbose: show a tqdm progress bar with the KL.
        backend: ``"numpy"`` (float64), or ``"tensorflow"``: the same steps
            in float32, 50 at a time in one XLA program (on a GPU when
            TensorFlow sees one); its ``kl_history`` holds the KL after each
            50th step instead of at it. Exact t-SNE only.
        method: ``"auto"`` (``"fft"`` from 1,000 points in 1 or 2 dimensions
            with the NumPy backend, else ``"exact"``), ``"fft"`` or
            ``"exact"``.
        n_jobs: threads for ``method="fft"``: from 2, one thread works
            through the pairs (attraction, near field) while the others run
            the grid's FFTs; None or -1: every CPU this process may use. The
            result does not depend on it.

    Returns:
        A ``TSNEResult``: ``.embedding``, ``.kl_divergence``, ``.gradient``
        (the method used), ...

    Raises:
        DataError: NaN/infinite values, not a 2-D array, or fewer than
            ``3 * perplexity`` points.
        ValueError: a bad parameter value.
    """
    return _embed(
        "tsne",
        X,
        n_components=n_components,
        perplexity=perplexity,
        early_exaggeration=early_exaggeration,
        learning_rate=learning_rate,
        n_iter=n_iter,
        random_state=random_state,
        init=init,
        exaggeration_iter=exaggeration_iter,
        verbose=verbose,
        backend=backend,
        gradient=method,
        n_jobs=n_jobs,
    )


def sne(
    X,
    *,
    n_components: int = 2,
    perplexity: float = 30.0,
    early_exaggeration: float = 4.0,
    learning_rate="auto",
    n_iter: int = 1000,
    random_state=None,
    init="pca",
    exaggeration_iter: int = 250,
    verbose: bool = False,
) -> TSNEResult:
    """Plain (asymmetric) SNE, for comparison with ``tsne``.

    Conditional ``p_{j|i}`` as in ``tsne`` (no symmetrization), Gaussian
    ``q_{j|i}``, cost ``sum_i KL(P_i || Q_i)`` and gradient
    ``2 sum_j (p_{j|i} - q_{j|i} + p_{i|j} - q_{i|j})(y_i - y_j)``, optimized
    by the same momentum-and-gains descent. ``learning_rate="auto"`` is
    ``max(1 / early_exaggeration / 8, 25 / n)``: the conditional P is about
    2n times the joint one, so is the gradient.

    Args and returns: as ``tsne``.
    """
    return _embed(
        "sne",
        X,
        n_components=n_components,
        perplexity=perplexity,
        early_exaggeration=early_exaggeration,
        learning_rate=learning_rate,
        n_iter=n_iter,
        random_state=random_state,
        init=init,
        exaggeration_iter=exaggeration_iter,
        verbose=verbose,
    )
