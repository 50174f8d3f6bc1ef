"""HMM inference in NumPy: forward, backward, posteriors and Viterbi.

All recursions run in log space on float64. Emissions enter as per-frame
log-likelihoods ``log_emissions[t, j] = log p(x_t | z_t = j)``, shaped
``(T, N)`` or batched ``(B, T, N)`` with optional ``lengths``; frames at or
after a sequence's length are padding and never affect its results.

Forward and backward carry each frame normalized to a maximum of 0 and keep the
removed offsets apart, so the sum over predecessors is one matrix product
``log(exp(a) @ A)``. Where that product underflows although a predecessor is
reachable, the step falls back to an exact log-sum-exp, so sparse
(left-to-right) transition matrices stay exact too.

References:
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected
    applications in speech recognition. Proc. IEEE 77(2), 257-286.
    DSE 3151, "Markov Models": forward procedure, Baum-Welch,
    Viterbi.
"""

from __future__ import annotations

import numpy as np

from dltoolkit.hmm import _checks

_DTYPE = np.float64
_TINY = np.finfo(_DTYPE).tiny / np.finfo(_DTYPE).eps  # below: fall back to exact
_LOG_TINY = np.log(np.finfo(_DTYPE).tiny)  # exp() below this is subnormal: use 0
_XI_CHUNK = 1 << 20  # elements of (B, t, N, N) per vectorized xi chunk
_LOOP_MIN = 1 << 17  # elements of (B, N, N) from which Viterbi loops over states
_PRUNE_MIN_STATES = 16  # from this many states Viterbi bounds the max-plus step


def _prepare(log_startprob, log_transmat, log_emissions, lengths=None):
    """Checks inputs and brings emissions to batched form.

    Returns:
        ``(log_startprob, log_transmat, log_emissions, lengths, mask, batched)``
        with emissions ``(B, T, N)`` (padding zeroed), lengths ``(B,)`` and
        mask ``(B, T)`` True inside each sequence.
    """
    log_startprob = _checks.check_log_probabilities(
        log_startprob, "log_startprob", ndim=1
    )
    n = log_startprob.shape[0]
    log_transmat = _checks.check_log_probabilities(
        log_transmat, "log_transmat", ndim=2, size=n
    )
    em = np.asarray(log_emissions, dtype=_DTYPE)
    batched = _checks.check_emission_shape(em.shape, n)
    if not batched:
        if lengths is not None:
            raise ValueError(
                "lengths is only accepted with batched log_emissions of shape "
                f"(batch, T, n_states). Received: log_emissions={em.shape}"
            )
        em = em[None]
    b, t = em.shape[:2]
    if lengths is None:
        lengths = np.full((b,), t, dtype=np.int64)
    else:
        lengths = _checks.check_lengths(lengths, b, t)
    mask = np.arange(t)[None, :] < lengths[:, None]  # (B, T)
    _checks.check_emission_values(em, mask)
    if not mask.all():  # a copy only when there is padding to zero
        em = np.where(mask[..., None], em, 0.0)
    return log_startprob, log_transmat, em, lengths, mask, batched


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", under="ignore"):
        return np.log(np.sum(np.exp(x - m), axis=axis)) + np.squeeze(m, axis)


def _normalize(x: np.ndarray):
    """Splits rows into (x - max, max); all -inf rows get offset 0."""
    m = np.max(x, axis=-1)
    m = np.where(np.isfinite(m), m, 0.0)
    return x - m[:, None], m


def _exp(x: np.ndarray) -> np.ndarray:
    """exp() flushing subnormal results to 0 (subnormals slow BLAS down)."""
    return np.exp(np.where(x < _LOG_TINY, -np.inf, x))


def _log_matmul_exp(x, mat, log_mat):
    """Returns log(exp(x) @ mat) row-wise for x (B, N) with max(x) == 0."""
    s = _exp(x) @ mat
    with np.errstate(divide="ignore"):
        out = np.log(s)
    small = s < _TINY
    if np.any(small):  # recompute entries that underflowed but are reachable
        reachable = (np.isfinite(x).astype(_DTYPE) @ (mat > 0)) > 0
        bad = small & reachable
        rows = np.flatnonzero(bad.any(axis=1))
        if rows.size:
            exact = _logsumexp(x[rows, :, None] + log_mat[None], axis=1)
            out[rows] = np.where(bad[rows], exact, out[rows])
    return out


def _forward_normalized(log_startprob, log_transmat, em, lengths):
    """Forward pass; returns normalized alphas (B, T, N) and offsets (B, T)."""
    b, t, n = em.shape
    mat = np.exp(log_transmat)
    alpha = np.empty((b, t, n))
    steps = np.zeros((b, t))
    a, steps[:, 0] = _normalize(log_startprob[None] + em[:, 0])
    alpha[:, 0] = a
    shortest = lengths.min()
    for i in range(1, t):
        new, m = _normalize(_log_matmul_exp(a, mat, log_transmat) + em[:, i])
        if i >= shortest:  # some sequences ended: keep their last frame
            active = i < lengths
            new, m = np.where(active[:, None], new, a), np.where(active, m, 0.0)
        a = alpha[:, i] = new
        steps[:, i] = m
    return alpha, np.cumsum(steps, axis=1)


def _backward_normalized(log_transmat, em, lengths):
    """Backward pass; returns normalized betas (B, T, N) and offsets (B, T)."""
    b, t, n = em.shape
    mat_t = np.exp(log_transmat).T
    beta = np.zeros((b, t, n))
    steps = np.zeros((b, t))
    bt = np.zeros((b, n))
    longest = lengths.max()
    for i in range(min(t, longest) - 2, -1, -1):
        v, m1 = _normalize(em[:, i + 1] + bt)
        new, m2 = _normalize(_log_matmul_exp(v, mat_t, log_transmat.T))
        inside = i < lengths - 1
        bt = beta[:, i] = np.where(inside[:, None], new, 0.0)
        steps[:, i] = np.where(inside, m1 + m2, 0.0)
    return beta, np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]


def _max_plus(delta, log_transmat):
    """``max_i delta[:, i] + log_transmat[i, :]``: (B, N)."""
    b, n = delta.shape
    if b < 16 or b * n * n < _LOOP_MIN:  # small: one (B, from, to) temporary
        return np.max(delta[:, :, None] + log_transmat[None], axis=1)
    out = delta[:, :1] + log_transmat[0]
    for i in range(1, n):  # large: stream over from-states, cache-sized pieces
        np.maximum(out, delta[:, i : i + 1] + log_transmat[i], out=out)
    return out


class _BoundedMaxPlus:
    """``max_i delta[:, i] + log_transmat[i, :]`` step after step, exactly.

    Each step first takes the maximum over a few predecessors only: row
    ``b``'s ``k`` largest ``delta`` entries and, for each state ``j``, the
    ``k`` predecessors with the largest ``log_transmat[i, j]``. Any other
    predecessor has ``delta[b, i] <= tau[b]`` (the ``k + 1``-th largest entry
    of the row) and ``log_transmat[i, j] <= low[j]`` (the ``k + 1``-th largest
    of the column), so its score is at most ``tau[b] + low[j]``; where the
    partial maximum reaches that bound it is the full maximum. Floating-point
    addition is monotonic, so the bound holds after rounding too and the
    values are bit for bit those of the dense step. Entries below the bound
    are computed in full. With peaked deltas (well-separated emissions) or
    peaked transitions few are, and a step costs about ``2k / N`` of the dense
    one; ``k`` doubles while many entries miss the bound, and where even
    ``N / 8`` is not enough the next steps run dense before it is tried again.
    """

    _DENSE_STEPS = 16  # dense steps before the bound is tried again
    _SHRINK_AFTER = 8  # steps without a miss before k is halved

    def __init__(self, log_transmat):
        n = log_transmat.shape[0]
        self.log_transmat = log_transmat
        self.to_from = np.ascontiguousarray(log_transmat.T)
        by_column = np.argsort(-log_transmat, axis=0, kind="stable")  # (rank, to)
        self.column_order = by_column
        self.column_values = np.take_along_axis(log_transmat, by_column, axis=0)
        self.k_min, self.k_max = 2, n // 8
        self.k = self.k_min
        self.dense_left = 0 if n >= _PRUNE_MIN_STATES else -1
        self.clean_steps = 0

    def __call__(self, delta):
        if self.dense_left != 0:  # -1: never bounded (few states)
            self.dense_left -= self.dense_left > 0
            return _max_plus(delta, self.log_transmat)
        b, n = delta.shape
        k, lt = self.k, self.log_transmat
        rows = np.arange(b)
        rest = delta.copy()
        out = None
        for _ in range(k):  # the k largest entries of each row, one at a time
            i = np.argmax(rest, axis=1)
            score = rest[rows, i][:, None] + lt[i]
            out = score if out is None else np.maximum(out, score, out=out)
            rest[rows, i] = -np.inf
        tau = np.max(rest, axis=1, keepdims=True)
        for r in range(k):
            col = np.take(delta, self.column_order[r], axis=1)
            col += self.column_values[r]
            np.maximum(out, col, out=out)
        miss = out < tau + self.column_values[k]
        missed_rows = np.flatnonzero(miss.any(axis=1))
        n_missed = 0
        if missed_rows.size:
            fb, fj = np.nonzero(miss[missed_rows])
            n_missed = fb.size
            if n_missed * 4 <= missed_rows.size * n:  # a few entries: one by one
                fb = missed_rows[fb]
                out[fb, fj] = np.max(delta[fb] + self.to_from[fj], axis=1)
            else:
                out[missed_rows] = _max_plus(delta[missed_rows], lt)
        self._adapt(n_missed / (b * n))
        return out

    def _adapt(self, missed):
        if missed > 0.05:
            self.clean_steps = 0
            if self.k * 2 <= self.k_max:
                self.k *= 2
            else:
                self.dense_left = self._DENSE_STEPS
        elif missed < 0.005:
            self.clean_steps += 1
            if self.clean_steps >= self._SHRINK_AFTER and self.k > self.k_min:
                self.k, self.clean_steps = self.k // 2, 0


def _final(x, lengths):
    """Gathers x[b, lengths[b] - 1] for x of shape (B, T, ...)."""
    return x[np.arange(x.shape[0]), lengths - 1]


def _unbatch(batched, *arrays):
    out = tuple(a if batched else a[0] for a in arrays)
    return out if len(out) > 1 else out[0]


def forward(log_startprob, log_transmat, log_emissions, lengths=None):
    """Runs the forward procedure in log space.

    ``alpha_t(j) = p(x_1..x_t, z_t = j)``: ``alpha_1 = pi * b(x_1)`` and
    ``alpha_t(j) = sum_i alpha_{t-1}(i) a_ij b_j(x_t)``.

    Args:
        log_startprob: ``(N,)`` log initial state probabilities.
        log_transmat: ``(N, N)`` log transition probabilities, rows = from.
        log_emissions: ``(T, N)`` or ``(B, T, N)`` per-frame log-likelihoods.
        lengths: optional ``(B,)`` sequence lengths for batched input
            (default: all ``T``).

    Returns:
        ``(log_alpha, log_likelihood)``: ``(T, N)`` and a float, or
        ``(B, T, N)`` (``-inf`` at padded frames) and ``(B,)``.

    References:
        Rabiner (1989), eqs. (19)-(21); DSE 3151, "HMM - Forward Procedure".
    """
    ls, lt, em, lengths, mask, batched = _prepare(
        log_startprob, log_transmat, log_emissions, lengths
    )
    alpha, offsets = _forward_normalized(ls, lt, em, lengths)
    loglik = _final(offsets, lengths) + _logsumexp(_final(alpha, lengths), axis=-1)
    log_alpha = alpha  # in place: no second (B, T, N) array
    log_alpha += offsets[..., None]
    if not mask.all():
        log_alpha[~mask] = -np.inf
    return _unbatch(batched, log_alpha, loglik)


def backward(log_startprob, log_transmat, log_emissions, lengths=None):
    """Runs the backward procedure in log space.

    ``beta_t(i) = p(x_{t+1}..x_T | z_t = i)``: ``beta_T = 1`` and
    ``beta_t(i) = sum_j a_ij b_j(x_{t+1}) beta_{t+1}(j)``.

    Args:
        log_startprob: ``(N,)`` log initial state probabilities (checked only).
        log_transmat: ``(N, N)`` log transition probabilities.
        log_emissions: ``(T, N)`` or ``(B, T, N)`` per-frame log-likelihoods.
        lengths: optional ``(B,)`` sequence lengths for batched input.

    Returns:
        ``log_beta`` shaped like ``log_emissions`` (``-inf`` at padded frames).

    References:
        Rabiner (1989), eqs. (23)-(25); DSE 3151, "Baum-Welch: Backward Phase".
    """
    _, lt, em, lengths, mask, batched = _prepare(
        log_startprob, log_transmat, log_emissions, lengths
    )
    beta, offsets = _backward_normalized(lt, em, lengths)
    return _unbatch(
        batched, np.where(mask[..., None], beta + offsets[..., None], -np.inf)
    )


def posteriors(
    log_startprob, log_transmat, log_emissions, lengths=None, *, return_xi_sum=False
):
    """Computes state posteriors gamma and, optionally, summed xi.

    ``gamma_t(i) = p(z_t = i | x)`` and ``xi_t(i, j) = p(z_t = i, z_{t+1} = j | x)``.
    Each frame is normalized on its own, which is exact (every frame's total is
    ``p(x)``) and keeps long sequences precise.

    Args:
        log_startprob: ``(N,)`` log initial state probabilities.
        log_transmat: ``(N, N)`` log transition probabilities.
        log_emissions: ``(T, N)`` or ``(B, T, N)`` per-frame log-likelihoods.
        lengths: optional ``(B,)`` sequence lengths for batched input.
        return_xi_sum: also return ``sum_t xi_t``.

    Returns:
        ``gamma`` shaped like ``log_emissions`` (0 at padded frames), or
        ``(gamma, xi_sum)`` with ``xi_sum`` ``(N, N)`` or ``(B, N, N)``.

    References:
        Rabiner (1989), eqs. (26)-(27) and (37); DSE 3151, "Baum-Welch: Update phase".
    """
    gamma, xi_sum, _ = forward_backward(
        log_startprob, log_transmat, log_emissions, lengths, return_batched=True
    )
    batched = np.ndim(log_emissions) == 3
    if return_xi_sum:
        return _unbatch(batched, gamma, xi_sum)
    return _unbatch(batched, gamma)


def forward_backward(
    log_startprob, log_transmat, log_emissions, lengths=None, *, return_batched=False
):
    """The E-step: ``(gamma, xi_sum, log_likelihood)`` in one pass each way.

    Shapes are those of :func:`posteriors`; with ``return_batched`` they keep a
    leading batch axis even for ``(T, N)`` input.
    """
    ls, lt, em, lengths, mask, batched = _prepare(
        log_startprob, log_transmat, log_emissions, lengths
    )
    alpha, a_off = _forward_normalized(ls, lt, em, lengths)
    beta, _ = _backward_normalized(lt, em, lengths)
    loglik = _final(a_off, lengths) + _logsumexp(_final(alpha, lengths), axis=-1)
    log_gamma, _ = _normalize((alpha + beta).reshape(-1, alpha.shape[-1]))
    with np.errstate(under="ignore"):
        gamma = np.exp(log_gamma).reshape(alpha.shape)
    gamma /= gamma.sum(axis=-1, keepdims=True)
    gamma = np.where(mask[..., None], gamma, 0.0)
    xi_sum = _xi_sum(alpha, beta, em, lt, lengths)
    if return_batched or batched:
        return gamma, xi_sum, loglik
    return gamma[0], xi_sum[0], loglik[0]


def _xi_sum(alpha, beta, em, log_transmat, lengths):
    """Sums per-frame normalized xi_t over t < length - 1, in chunks of frames."""
    b, t, n = alpha.shape
    xi_sum = np.zeros((b, n, n))
    step = max(1, _XI_CHUNK // max(1, b * n * n))
    eb = em + beta
    for start in range(0, t - 1, step):
        stop = min(start + step, t - 1)
        x = (
            alpha[:, start:stop, :, None]
            + log_transmat[None, None]
            + eb[:, start + 1 : stop + 1, None, :]
        )  # (B, c, N, N)
        flat = x.reshape(b, stop - start, n * n)
        norm = _logsumexp(flat, axis=-1)
        inside = np.arange(start, stop)[None, :] < (lengths - 1)[:, None]
        norm = np.where(inside & np.isfinite(norm), norm, np.inf)
        with np.errstate(under="ignore", invalid="ignore"):
            xi = np.exp(flat - norm[..., None])
        xi_sum += np.nan_to_num(xi).sum(axis=1).reshape(b, n, n)
    return xi_sum


def viterbi(log_startprob, log_transmat, log_emissions, lengths=None):
    """Finds the most likely state path (max-product in log space).

    ``delta_t(j) = max_i delta_{t-1}(i) + log a_ij + log b_j(x_t)``, then
    backtracking from ``argmax_j delta_T(j)``. Ties go to the lowest state.
    From 16 states on, each step first maximizes over a few likely
    predecessors and completes only the entries a bound cannot settle
    (``_BoundedMaxPlus``): the same values bit for bit, several times faster
    when the emissions are peaked, never much slower.

    Args:
        log_startprob: ``(N,)`` log initial state probabilities.
        log_transmat: ``(N, N)`` log transition probabilities.
        log_emissions: ``(T, N)`` or ``(B, T, N)`` per-frame log-likelihoods.
        lengths: optional ``(B,)`` sequence lengths for batched input.

    Returns:
        ``(path, log_probability)``: int64 ``(T,)`` and a float, or ``(B, T)``
        (``-1`` at padded frames) and ``(B,)``.

    References:
        Rabiner (1989), eqs. (32)-(35); DSE 3151, "HMM - Viterbi Algorithm".
    """
    ls, lt, em, lengths, mask, batched = _prepare(
        log_startprob, log_transmat, log_emissions, lengths
    )
    b, t, n = em.shape
    log_to_from = lt.T  # (to, from): rows gathered when backtracking
    deltas = np.empty((b, t, n))
    delta = ls[None] + em[:, 0]
    deltas[:, 0] = delta
    max_plus = _BoundedMaxPlus(lt)
    for i in range(1, t):
        best = max_plus(delta)
        delta = np.where((i < lengths)[:, None], best + em[:, i], delta)
        deltas[:, i] = delta
    rows = np.arange(b)
    last = np.argmax(delta, axis=-1)
    log_prob = delta[rows, last]
    path = np.empty((b, t), dtype=np.int64)
    path[:, t - 1] = last
    for i in range(t - 2, -1, -1):  # the argmax is taken again only along the path
        best = np.argmax(deltas[:, i] + log_to_from[path[:, i + 1]], axis=-1)
        path[:, i] = np.where(i < lengths - 1, best, path[:, i + 1])
    path = np.where(mask, path, -1)
    if batched:
        return path, log_prob
    return path[0], float(log_prob[0])
