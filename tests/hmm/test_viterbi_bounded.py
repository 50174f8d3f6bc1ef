"""Viterbi's bounded max-plus step (16 states and more): bit for bit the dense
recursion and hmmlearn's paths, on peaked, flat, sparse and tied inputs."""

import numpy as np
import pytest
from hmm_helpers import random_model
from hmmlearn import _hmmc

from dltoolkit.hmm import numpy_impl


def _dense_viterbi(log_startprob, log_transmat, log_emissions, lengths):
    """The textbook recursion: full (B, from, to) maxima and stored pointers."""
    b, t, n = log_emissions.shape
    delta = log_startprob[None] + log_emissions[:, 0]
    pointers = np.zeros((b, t, n), dtype=np.int64)
    for i in range(1, t):
        scores = delta[:, :, None] + log_transmat[None]  # (B, from, to)
        new = scores.max(axis=1) + log_emissions[:, i]
        pointers[:, i] = scores.argmax(axis=1)  # ties: the lowest state
        delta = np.where((i < lengths)[:, None], new, delta)
    last = delta.argmax(axis=1)
    paths = np.full((b, t), -1)
    for row in range(b):
        state = last[row]
        for i in range(lengths[row] - 1, -1, -1):
            paths[row, i] = state
            state = pointers[row, i, state]
    return paths, delta[np.arange(b), last]


def _case(kind, n, rng, b=10, t=40):
    log_startprob, log_transmat = random_model(rng, n, concentration=0.3)
    if kind == "peaked":  # well-separated emissions: the bound holds almost always
        em = rng.normal(scale=8.0, size=(b, t, n))
    elif kind == "flat":  # flat emissions, sparse transitions
        em = rng.normal(scale=0.05, size=(b, t, n))
    elif kind == "uniform":  # flat emissions and nearly uniform transitions
        _, log_transmat = random_model(rng, n, concentration=50.0)
        em = rng.normal(scale=0.05, size=(b, t, n))
    elif kind == "left_to_right":  # impossible transitions and emissions
        trans = np.triu(rng.uniform(0.1, 1.0, size=(n, n)))
        trans = np.where(np.triu(np.ones((n, n)), 3) > 0, 0.0, trans)
        with np.errstate(divide="ignore"):
            log_transmat = np.log(trans / trans.sum(axis=1, keepdims=True))
            log_startprob = np.log(np.eye(n)[0])
            em = np.where(rng.uniform(size=(b, t, n)) < 0.1, -np.inf, 0.0)
        em = em + rng.normal(scale=2.0, size=(b, t, n))
    elif kind == "ties":  # uniform transitions, integer emissions: many ties
        log_transmat = np.full((n, n), -np.log(n))
        log_startprob = np.full(n, -np.log(n))
        em = rng.integers(-2, 1, size=(b, t, n)).astype(np.float64)
    lengths = rng.integers(1, t + 1, size=b)
    lengths[0] = t
    return log_startprob, log_transmat, em, lengths


@pytest.mark.parametrize("kind", ["peaked", "flat", "uniform", "left_to_right", "ties"])
@pytest.mark.parametrize("n", [16, 40])
def test_bounded_viterbi_equals_the_dense_recursion(kind, n):
    rng = np.random.default_rng(n)
    args = _case(kind, n, rng)
    paths, log_probs = numpy_impl.viterbi(*args)
    expected_paths, expected_log_probs = _dense_viterbi(*args)
    np.testing.assert_array_equal(paths, expected_paths)
    np.testing.assert_array_equal(log_probs, expected_log_probs)  # bit for bit


@pytest.mark.parametrize("kind", ["peaked", "flat", "uniform"])
def test_bounded_viterbi_equals_hmmlearn(kind):
    rng = np.random.default_rng(7)
    log_startprob, log_transmat, em, lengths = _case(kind, 32, rng)
    paths, log_probs = numpy_impl.viterbi(log_startprob, log_transmat, em, lengths)
    start, trans = np.exp(log_startprob), np.exp(log_transmat)
    for row, length in enumerate(lengths):
        ref_log_prob, ref_path = _hmmc.viterbi(start, trans, em[row, :length])
        np.testing.assert_array_equal(paths[row, :length], ref_path)
        assert log_probs[row] == pytest.approx(ref_log_prob, abs=1e-9)


def test_bounded_step_takes_every_branch_and_stays_exact():
    """Peaked rows (bound holds), a few misses (fixed one by one), many misses
    (dense rows, k doubles, then dense steps): always the dense values."""
    rng = np.random.default_rng(0)
    n = 32
    _, log_transmat = random_model(rng, n, concentration=1.0)
    step = numpy_impl._BoundedMaxPlus(log_transmat)
    ks, dense_seen = set(), False
    for scale in [30.0] * 10 + [1.0] * 30 + [30.0] * 30:
        delta = rng.normal(scale=scale, size=(64, n))
        ks.add(step.k)
        dense_seen |= step.dense_left > 0
        out = step(delta)
        np.testing.assert_array_equal(out, numpy_impl._max_plus(delta, log_transmat))
    assert ks == {2, 4} and dense_seen
    assert step.k == 2  # shrunk back once the rows are peaked again
