"""Chain forward-backward and Viterbi against the dense HMM algorithms."""

import itertools

import numpy as np
import pytest

from dltoolkit.hmm import chain, numpy_impl


def _random_chains(rng, b=3, ell=7, skip=3, end_in_last=True):
    n = rng.integers(4, ell + 1, size=b)
    n[0] = ell
    stay = np.log(rng.uniform(0.2, 0.8, (b, ell)))
    rest = np.log1p(-np.exp(stay))
    split = rng.uniform(0.3, 0.7, (b, ell))
    has_skip = rng.random((b, ell)) < 0.4
    nxt = np.where(has_skip, rest + np.log(split), rest)
    skp = np.where(has_skip, rest + np.log1p(-split), -np.inf)
    for i in range(b):  # the last state only stays; no arcs past the end
        nxt[i, n[i] - 1] = -np.inf
        stay[i, n[i] - 1] = 0.0
        skp[i, max(0, n[i] - skip) :] = -np.inf
        nxt[i, n[i] - 2] = np.logaddexp(nxt[i, n[i] - 2], skp[i, n[i] - 2])
        skp[i, n[i] - 2] = -np.inf
        for s in range(n[i] - 1):  # renormalize rows left with no skip target
            total = np.logaddexp.reduce([stay[i, s], nxt[i, s], skp[i, s]])
            stay[i, s] -= total
            nxt[i, s] -= total
            skp[i, s] -= total
    return chain.Chains(stay, nxt, skp, skip, n, end_in_last)


def test_forward_backward_equals_dense_hmm():
    rng = np.random.default_rng(0)
    chains = _random_chains(rng, end_in_last=False)
    lengths = np.array([9, 6, 8])
    em = rng.normal(-2, 1, (3, 9, 7))
    gamma, counts, loglik = chain.forward_backward(chains, em, lengths)
    for b in range(3):
        n, t = chains.n_states[b], lengths[b]
        ls, lt = chains.dense(b)
        g, xi, ll = numpy_impl.forward_backward(ls, lt, em[b, :t, :n])
        np.testing.assert_allclose(loglik[b], ll, rtol=1e-10)
        np.testing.assert_allclose(gamma[b, :t, :n], g, atol=1e-10)
        assert np.all(gamma[b, t:] == 0) and np.all(gamma[b, :, n:] == 0)
        np.testing.assert_allclose(counts["stay"][b, :n], np.diag(xi), atol=1e-10)
        nxt = [xi[s, s + 1] if s + 1 < n else 0.0 for s in range(n)]
        np.testing.assert_allclose(counts["next"][b, :n], nxt, atol=1e-10)
        skp = [xi[s, s + 3] if s + 3 < n else 0.0 for s in range(n)]
        np.testing.assert_allclose(counts["skip"][b, :n], skp, atol=1e-10)


def _brute_force(ls, lt, em, last_only):
    """All state paths: total probability and the best path."""
    t, n = em.shape
    total, best, best_path = -np.inf, -np.inf, None
    for path in itertools.product(range(n), repeat=t):
        if last_only and path[-1] != n - 1:
            continue
        score = ls[path[0]] + em[0, path[0]]
        for i in range(1, t):
            score += lt[path[i - 1], path[i]] + em[i, path[i]]
        total = np.logaddexp(total, score)
        if score > best:
            best, best_path = score, path
    return total, best, best_path


@pytest.mark.parametrize("end_in_last", [True, False])
def test_small_chains_against_enumeration(end_in_last):
    rng = np.random.default_rng(1)
    chains = _random_chains(rng, b=2, ell=5, skip=2, end_in_last=end_in_last)
    lengths = np.array([6, 5])
    em = rng.normal(-1, 1, (2, 6, 5))
    _, _, loglik = chain.forward_backward(chains, em, lengths)
    path, score = chain.viterbi(chains, em, lengths)
    for b in range(2):
        n, t = chains.n_states[b], lengths[b]
        ls, lt = chains.dense(b)
        total, best, best_path = _brute_force(ls, lt, em[b, :t, :n], end_in_last)
        np.testing.assert_allclose(loglik[b], total, rtol=1e-10)
        np.testing.assert_allclose(score[b], best, rtol=1e-10)
        assert tuple(path[b, :t]) == best_path
        assert np.all(path[b, t:] == -1)


def test_impossible_sequence_has_no_posteriors():
    rng = np.random.default_rng(2)
    chains = _random_chains(rng, b=1, ell=6, skip=5)
    chains.log_skip[:] = -np.inf
    chains.log_next[0, :5] = np.log1p(-np.exp(chains.log_stay[0, :5]))
    gamma, counts, loglik = chain.forward_backward(chains, np.zeros((1, 3, 6)), [3])
    assert loglik[0] == -np.inf  # 3 frames cannot reach state 5 without skips
    assert np.all(gamma == 0) and all(np.all(c == 0) for c in counts.values())
