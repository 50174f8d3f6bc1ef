"""HMM inference in TensorFlow: forward, backward, posteriors and Viterbi.

The same algorithms and conventions as :mod:`dltoolkit.hmm.numpy_impl`, written
with ``tf.scan`` so they run batched inside ``tf.function`` and SavedModels.
Computation follows the dtype of ``log_emissions`` (float32 or float64). Frames
are kept normalized to a maximum of 0 and the removed offsets are summed in
float64, so float32 stays precise on long sequences.

``jit_compile=True`` runs the recursions through XLA: each step then costs
about a microsecond instead of tens, but XLA compiles once per input shape, so
pad batches to a few fixed ``(B, T)`` shapes (``lengths`` makes padding free).

Validation: eagerly, bad input raises ``ValueError`` naming the argument. While
tracing, static shape errors raise ``ValueError``; value checks (normalization,
NaN, lengths) raise ``tf.errors.InvalidArgumentError`` at run time. Pass
``validate=False`` to skip them.

References:
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected
    applications in speech recognition. Proc. IEEE 77(2), 257-286.
    DSE 3151, "Markov Models": forward procedure, Viterbi.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dltoolkit.hmm._tf_inputs import prepare

_F64 = tf.float64


# === Shared steps ===


def _normalize(x):
    """Splits rows into (x - max, max); all -inf rows get offset 0."""
    m = tf.reduce_max(x, axis=-1)
    m = tf.where(tf.math.is_finite(m), m, tf.zeros_like(m))
    return x - m[..., None], m


def _tiny(dtype):
    info = np.finfo(dtype.as_numpy_dtype)
    return info.tiny / info.eps  # a product below this may have lost terms


def _log_matmul_exp(x, mat, log_mat, checked):
    """Returns log(exp(x) @ mat) row-wise for x (B, N) with max(x) == 0.

    With ``checked``, entries whose product underflowed although a predecessor
    is reachable are recomputed as an exact log-sum-exp.
    """
    s = tf.matmul(tf.exp(x), mat)
    out = tf.math.log(s)
    if not checked:
        return out
    support = tf.cast(mat > 0, x.dtype)
    reachable = tf.matmul(tf.cast(x > -np.inf, x.dtype), support) > 0
    bad = (s < _tiny(x.dtype)) & reachable

    def exact():
        full = tf.reduce_logsumexp(x[:, :, None] + log_mat[None], axis=1)
        return tf.where(bad, full, out)

    return tf.cond(tf.reduce_any(bad), exact, lambda: out)


def _scan_matmul(make_step, elems, initializer, mat, reverse=False):
    """tf.scan whose step skips underflow checks when no entry of mat is tiny."""
    dense = tf.reduce_min(mat) >= _tiny(mat.dtype)
    return tf.cond(
        dense,
        lambda: tf.scan(make_step(False), elems, initializer, reverse=reverse),
        lambda: tf.scan(make_step(True), elems, initializer, reverse=reverse),
    )


def _time_major(em, lengths):
    t = tf.shape(em)[1]
    mask = tf.range(t)[None] < lengths[:, None]  # (B, T)
    em = tf.where(mask[..., None], em, tf.zeros((), em.dtype))
    return tf.transpose(em, [1, 0, 2]), mask, t  # (T, B, N)


def _final(x, lengths):
    """Gathers x[lengths[b] - 1, b] from time-major x (T, B, ...)."""
    idx = tf.stack([lengths - 1, tf.range(tf.shape(lengths)[0])], axis=1)
    return tf.gather_nd(x, idx)


def _masked(cond, x):
    return tf.where(cond, x, tf.zeros_like(x))


# === Cores: time-major, normalized frames plus float64 offsets ===


def _forward_core(ls, lt, em, lengths):
    em_t, mask, t = _time_major(em, lengths)
    mat = tf.exp(lt)
    a0, m0 = _normalize(ls[None] + em_t[0])

    def make_step(checked):
        def step(carry, inputs):
            a, _ = carry
            e, active = inputs
            new, m = _normalize(_log_matmul_exp(a, mat, lt, checked) + e)
            return tf.where(active[:, None], new, a), _masked(active, m)

        return step

    elems = (em_t[1:], tf.transpose(mask)[1:])
    alphas, ms = _scan_matmul(make_step, elems, (a0, m0), mat)
    alpha = tf.concat([a0[None], alphas], axis=0)  # (T, B, N), max 0 per frame
    offsets = tf.cumsum(tf.cast(tf.concat([m0[None], ms], axis=0), _F64), axis=0)
    final = tf.cast(tf.reduce_logsumexp(_final(alpha, lengths), axis=-1), _F64)
    return alpha, offsets, mask, _final(offsets, lengths) + final


def _backward_core(lt, em, lengths):
    em_t, mask, t = _time_major(em, lengths)
    mat_t = tf.transpose(tf.exp(lt))
    lt_t = tf.transpose(lt)
    zeros = tf.zeros_like(em_t[0])
    inside = tf.range(t - 1)[:, None] < lengths[None] - 1  # (T-1, B)

    def make_step(checked):
        def step(carry, inputs):
            bt, _ = carry
            e_next, ins = inputs
            v, m1 = _normalize(e_next + bt)
            new, m2 = _normalize(_log_matmul_exp(v, mat_t, lt_t, checked))
            m = tf.cast(m1, _F64) + tf.cast(m2, _F64)
            return tf.where(ins[:, None], new, zeros), _masked(ins, m)

        return step

    init = (zeros, tf.zeros(tf.shape(lengths), _F64))
    betas, ms = _scan_matmul(make_step, (em_t[1:], inside), init, mat_t, reverse=True)
    beta = tf.concat([betas, zeros[None]], axis=0)  # (T, B, N), max 0 per frame
    ms = tf.concat([ms, init[1][None]], axis=0)
    return beta, tf.cumsum(ms, axis=0, reverse=True), em_t


def _posteriors_core(ls, lt, em, lengths, with_xi):
    alpha, _, mask, _ = _forward_core(ls, lt, em, lengths)
    beta, _, em_t = _backward_core(lt, em, lengths)
    log_gamma, _ = _normalize(alpha + beta)
    gamma = tf.exp(log_gamma)
    total = tf.reduce_sum(gamma, axis=-1, keepdims=True)
    gamma = gamma / tf.where(total > 0, total, tf.ones_like(total))
    gamma = _masked(mask[..., None], tf.transpose(gamma, [1, 0, 2]))
    if not with_xi:
        return gamma, tf.zeros((0, 0, 0), gamma.dtype)
    eb = em_t + beta
    inside = tf.range(tf.shape(alpha)[0] - 1)[:, None] < lengths[None] - 1

    def step(acc, inputs):
        a, e, ins = inputs
        x = a[:, :, None] + lt[None] + e[:, None, :]  # (B, N, N)
        norm = tf.reduce_logsumexp(x, axis=[1, 2])
        ok = ins & tf.math.is_finite(norm)
        norm = tf.where(ok, norm, tf.fill(tf.shape(norm), tf.cast(np.inf, x.dtype)))
        xi = tf.exp(x - norm[:, None, None])
        return acc + tf.where(tf.math.is_nan(xi), tf.zeros_like(xi), xi)

    init = tf.zeros_like(alpha[0])[:, :, None] + tf.zeros_like(lt)[None]
    xi_sum = tf.foldl(step, (alpha[:-1], eb[1:], inside), initializer=init)
    return gamma, xi_sum


def _viterbi_core(ls, lt, em, lengths):
    em_t, mask, t = _time_major(em, lengths)
    log_to_from = tf.transpose(lt)  # (to, from): rows gathered when backtracking
    d0, m0 = _normalize(ls[None] + em_t[0])

    def step(carry, inputs):
        delta, _ = carry
        e, active = inputs
        scores = delta[:, :, None] + lt[None]  # (B, from, to)
        new, m = _normalize(tf.reduce_max(scores, axis=1) + e)
        return tf.where(active[:, None], new, delta), _masked(active, m)

    elems = (em_t[1:], tf.transpose(mask)[1:])
    deltas, ms = tf.scan(step, elems, initializer=(d0, m0))
    deltas = tf.concat([d0[None], deltas], axis=0)  # (T, B, N), max 0 per frame
    offset = tf.reduce_sum(tf.cast(tf.concat([m0[None], ms], axis=0), _F64), axis=0)
    last = tf.argmax(deltas[-1], axis=-1, output_type=tf.int32)  # (B,)
    log_prob = offset + tf.cast(tf.reduce_max(deltas[-1], axis=-1), _F64)

    def back(state, inputs):  # the argmax is taken again only along the path
        delta, ins = inputs
        scores = delta + tf.gather(log_to_from, state)  # (B, from)
        return tf.where(ins, tf.argmax(scores, axis=-1, output_type=tf.int32), state)

    inside = tf.range(t - 1)[:, None] < lengths[None] - 1  # (T-1, B)
    states = tf.scan(back, (deltas[:-1], inside), initializer=last, reverse=True)
    path = tf.transpose(tf.concat([states, last[None]], axis=0))  # (B, T)
    path = tf.where(mask, path, -tf.ones_like(path))
    return tf.cast(path, tf.int64), log_prob


def _compiled(fn):
    """One traced function per XLA setting; shapes relax after a retrace."""
    return {
        jit: tf.function(fn, jit_compile=jit, reduce_retracing=True, autograph=False)
        for jit in (False, True)
    }


_FORWARD = _compiled(_forward_core)
_BACKWARD = _compiled(_backward_core)
_POSTERIORS = _compiled(_posteriors_core)
_VITERBI = _compiled(_viterbi_core)


def _unbatch(batched, *tensors):
    out = tuple(x if batched else x[0] for x in tensors)
    return out if len(out) > 1 else out[0]


def _absolute(x_t, offsets, mask, dtype):
    """Time-major normalized values + offsets -> batch-major, -inf padded."""
    full = tf.cast(x_t, _F64) + offsets[..., None]
    full = tf.cast(tf.transpose(full, [1, 0, 2]), dtype)
    return tf.where(mask[..., None], full, tf.cast(-np.inf, dtype))


# === Public API ===


def forward(
    log_startprob,
    log_transmat,
    log_emissions,
    lengths=None,
    *,
    validate=True,
    jit_compile=False,
):
    """Runs the forward procedure in log space (see ``numpy_impl.forward``).

    Args:
        log_startprob: ``(N,)`` log initial state probabilities.
        log_transmat: ``(N, N)`` log transition probabilities, rows = from.
        log_emissions: ``(T, N)`` or ``(B, T, N)`` per-frame log-likelihoods.
        lengths: optional ``(B,)`` sequence lengths for batched input.
        validate: check shapes and normalization.
        jit_compile: run the recursion through XLA.

    Returns:
        ``(log_alpha, log_likelihood)``: ``(T, N)`` and a scalar, or
        ``(B, T, N)`` (``-inf`` at padded frames) and ``(B,)``.

    References:
        Rabiner (1989), eqs. (19)-(21); DSE 3151, "HMM - Forward Procedure".
    """
    ls, lt, em, lengths, batched = prepare(
        log_startprob, log_transmat, log_emissions, lengths, validate
    )
    alpha, offsets, mask, loglik = _FORWARD[jit_compile](ls, lt, em, lengths)
    log_alpha = _absolute(alpha, offsets, mask, em.dtype)
    return _unbatch(batched, log_alpha, tf.cast(loglik, em.dtype))


def backward(
    log_startprob,
    log_transmat,
    log_emissions,
    lengths=None,
    *,
    validate=True,
    jit_compile=False,
):
    """Runs the backward procedure in log space (see ``numpy_impl.backward``).

    Returns:
        ``log_beta`` shaped like ``log_emissions`` (``-inf`` at padded frames).

    References:
        Rabiner (1989), eqs. (23)-(25); DSE 3151, "Baum-Welch: Backward Phase".
    """
    _, lt, em, lengths, batched = prepare(
        log_startprob, log_transmat, log_emissions, lengths, validate
    )
    beta, offsets, _ = _BACKWARD[jit_compile](lt, em, lengths)
    mask = tf.range(tf.shape(em)[1])[None] < lengths[:, None]
    return _unbatch(batched, _absolute(beta, offsets, mask, em.dtype))


def posteriors(
    log_startprob,
    log_transmat,
    log_emissions,
    lengths=None,
    *,
    return_xi_sum=False,
    validate=True,
    jit_compile=False,
):
    """Computes state posteriors gamma and, optionally, ``sum_t xi_t``.

    Returns:
        ``gamma`` shaped like ``log_emissions`` (0 at padded frames), or
        ``(gamma, xi_sum)`` with ``xi_sum`` ``(N, N)`` or ``(B, N, N)``.

    References:
        Rabiner (1989), eqs. (26)-(27) and (37); DSE 3151, "Baum-Welch: Update phase".
    """
    ls, lt, em, lengths, batched = prepare(
        log_startprob, log_transmat, log_emissions, lengths, validate
    )
    gamma, xi_sum = _POSTERIORS[jit_compile](ls, lt, em, lengths, return_xi_sum)
    if return_xi_sum:
        return _unbatch(batched, gamma, xi_sum)
    return _unbatch(batched, gamma)


def viterbi(
    log_startprob,
    log_transmat,
    log_emissions,
    lengths=None,
    *,
    validate=True,
    jit_compile=False,
):
    """Finds the most likely state path (see ``numpy_impl.viterbi``).

    Returns:
        ``(path, log_probability)``: int64 ``(T,)`` and a scalar, or ``(B, T)``
        (``-1`` at padded frames) and ``(B,)``.

    References:
        Rabiner (1989), eqs. (32)-(35); DSE 3151, "HMM - Viterbi Algorithm".
    """
    ls, lt, em, lengths, batched = prepare(
        log_startprob, log_transmat, log_emissions, lengths, validate
    )
    path, log_prob = _VITERBI[jit_compile](ls, lt, em, lengths)
    return _unbatch(batched, path, tf.cast(log_prob, em.dtype))
