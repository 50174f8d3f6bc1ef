"""Batched forward-backward and Viterbi on left-to-right chains with skips.

The composite HMM of a transcript (silence, words, optional pauses) is a chain
of ``L`` states where state ``s`` may stay, move to ``s + 1`` or skip to
``s + skip``. Its transition matrix is sparse and differs per utterance, so
instead of dense ``(L, L)`` matrices this module keeps three log-probability
vectors per utterance and runs the recursions over a whole batch at once,
``O(T * B * L)``. The results equal :func:`dltoolkit.hmm.forward_backward` on
the equivalent dense HMM (tests/hmm/test_chain.py checks it).

References:
    Rabiner (1989), eqs. (19)-(27), (37); Young, S. et al. The HTK Book,
    sec. 8.7 (embedded training on composite models).
"""

from __future__ import annotations

import dataclasses

import numpy as np

NEG_INF = -np.inf


@dataclasses.dataclass
class Chains:
    """A batch of chain HMMs, padded to ``L`` states.

    Attributes:
        log_stay, log_next, log_skip: ``(B, L)`` log-probabilities of staying,
            moving to ``s + 1`` and to ``s + skip`` (``-inf``: no such arc).
        skip: the skip distance.
        n_states: ``(B,)`` states of each chain (padding after them).
        end_in_last: sequences must end in their chain's last state (else in
            any state).
    """

    log_stay: np.ndarray
    log_next: np.ndarray
    log_skip: np.ndarray
    skip: int
    n_states: np.ndarray
    end_in_last: bool = True

    def dense(self, b: int):
        """``(log_startprob, log_transmat)`` of chain ``b`` as a dense HMM."""
        n = int(self.n_states[b])
        lt = np.full((n, n), NEG_INF)
        for s in range(n):
            lt[s, s] = self.log_stay[b, s]
            if s + 1 < n:
                lt[s, s + 1] = self.log_next[b, s]
            if s + self.skip < n:
                lt[s, s + self.skip] = self.log_skip[b, s]
        ls = np.full(n, NEG_INF)
        ls[0] = 0.0
        return ls, lt


def _shift(x, k):
    """``out[:, s] = x[:, s - k]`` (``-inf`` for ``s < k``)."""
    out = np.full_like(x, NEG_INF)
    if k < x.shape[1]:
        out[:, k:] = x[:, :-k]
    return out


def _unshift(x, k):
    """``out[:, s] = x[:, s + k]`` (``-inf`` past the end)."""
    out = np.full_like(x, NEG_INF)
    if k < x.shape[1]:
        out[:, :-k] = x[:, k:]
    return out


def _lse(*xs):
    m = np.maximum.reduce(xs)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore"):
        total = sum(np.exp(x - safe) for x in xs)
    with np.errstate(divide="ignore"):
        return np.log(total) + safe


def _end_init(chains: Chains, shape):
    init = np.full(shape, NEG_INF)
    cols = np.arange(shape[1])[None]
    if chains.end_in_last:
        init[cols == (chains.n_states[:, None] - 1)] = 0.0
    else:
        init[cols < chains.n_states[:, None]] = 0.0
    return init


def _masked_emissions(em, chains, lengths):
    em = np.array(em, dtype=np.float64)
    b, t, ell = em.shape
    inside = np.arange(ell)[None] < chains.n_states[:, None]  # (B, L)
    em[~np.broadcast_to(inside[:, None], em.shape)] = NEG_INF
    return em


def forward_backward(chains: Chains, log_emissions, lengths):
    """Posteriors and expected arc counts of a batch of chains.

    Args:
        chains: the chain HMMs.
        log_emissions: ``(B, T, L)`` log-likelihood of each frame in each chain
            position.
        lengths: ``(B,)`` frames per sequence.

    Returns:
        ``(gamma, counts, log_likelihood)``: ``gamma`` ``(B, T, L)`` (0 at
        padding), ``counts`` a dict of ``(B, L)`` expected arc uses
        (``"stay"``, ``"next"``, ``"skip"``) and ``(B,)`` log-likelihoods
        (``-inf`` where the sequence cannot be produced).
    """
    em = _masked_emissions(log_emissions, chains, lengths)
    lengths = np.asarray(lengths)
    b, t, ell = em.shape
    k = chains.skip
    stay, nxt, skp = chains.log_stay, chains.log_next, chains.log_skip
    alpha = np.full((t, b, ell), NEG_INF)
    alpha[0, :, 0] = em[:, 0, 0]
    for i in range(1, t):
        a = alpha[i - 1]
        alpha[i] = _lse(a + stay, _shift(a + nxt, 1), _shift(a + skp, k)) + em[:, i]
    rows = np.arange(b)
    end = _end_init(chains, (b, ell))
    loglik = _lse(*np.moveaxis(alpha[lengths - 1, rows] + end, 1, 0))
    beta = np.full((t, b, ell), NEG_INF)
    last = (lengths - 1)[:, None]
    beta[t - 1] = np.where(last == t - 1, end, NEG_INF)
    for i in range(t - 2, -1, -1):
        v = em[:, i + 1] + beta[i + 1]
        rec = _lse(stay + v, nxt + _unshift(v, 1), skp + _unshift(v, k))
        beta[i] = np.where(last == i, end, np.where(i < last, rec, NEG_INF))
    ok = np.isfinite(loglik)
    norm = np.where(ok, loglik, 0.0)[None, :, None]
    with np.errstate(under="ignore"):
        gamma = np.exp(alpha + beta - norm)
    frame_ok = (np.arange(t)[:, None] < lengths[None]) & ok[None]
    gamma = np.where(frame_ok[..., None], gamma, 0.0).transpose(1, 0, 2)
    counts = {}
    inner = (np.arange(t - 1)[:, None] < (lengths - 1)[None]) & ok[None]  # (T-1, B)
    v = em.transpose(1, 0, 2)[1:] + beta[1:]  # (T-1, B, L)
    for name, arc, shift in (("stay", stay, 0), ("next", nxt, 1), ("skip", skp, k)):
        target = v
        if shift:
            target = np.full_like(v, NEG_INF)
            target[..., :-shift] = v[..., shift:]
        with np.errstate(under="ignore"):
            xi = np.exp(alpha[:-1] + arc[None] + target - norm)
        counts[name] = np.where(inner[..., None], xi, 0.0).sum(axis=0)
    return gamma, counts, loglik


def viterbi(chains: Chains, log_emissions, lengths):
    """The best state path of each chain: ``(B, T)`` int (``-1`` at padding)
    and ``(B,)`` log-probabilities."""
    em = _masked_emissions(log_emissions, chains, lengths)
    lengths = np.asarray(lengths)
    b, t, ell = em.shape
    k = chains.skip
    stay, nxt, skp = chains.log_stay, chains.log_next, chains.log_skip
    delta = np.full((b, ell), NEG_INF)
    delta[:, 0] = em[:, 0, 0]
    deltas = [delta]
    backs = np.zeros((t, b, ell), np.int64)
    cols = np.arange(ell)[None]
    for i in range(1, t):
        cand = np.stack(
            [delta + stay, _shift(delta + nxt, 1), _shift(delta + skp, k)]
        )  # (3, B, L)
        choice = np.argmax(cand, axis=0)
        backs[i] = cols - np.array([0, 1, k])[choice]
        delta = np.max(cand, axis=0) + em[:, i]
        deltas.append(delta)
    rows = np.arange(b)
    final = np.stack(deltas)[lengths - 1, rows] + _end_init(chains, (b, ell))
    state = np.argmax(final, axis=1)
    score = final[rows, state]
    path = np.full((b, t), -1, np.int64)
    for bi in range(b):
        s = state[bi]
        for i in range(lengths[bi] - 1, -1, -1):
            path[bi, i] = s
            s = backs[i, bi, s]
    return path, score
