"""best_sequence(no_repeat_ngram=n): no n-gram twice, against a brute-force loop."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.decoding import best_sequence

VOCAB, LENGTH = 7, 16


def markov_step(table):
    """Logits from the previous token only: greedy search cycles for ever."""
    table = tf.constant(table, tf.float32)

    def step(ids, index, state):
        return tf.gather(table, ids[:, index - 1]), state

    return step


def brute_force_greedy(table, start, n):
    """Greedy decoding that bans, by scanning, every token that would repeat
    an n-gram of the row so far."""
    out = [start]
    while len(out) < LENGTH:
        logits = table[out[-1]].copy()
        if n >= 2 and len(out) >= n - 1:
            tail = out[len(out) - n + 1 :]
            for p in range(len(out) - n + 1):
                if out[p : p + n - 1] == tail:
                    logits[out[p + n - 1]] = -np.inf
        out.append(int(np.argmax(logits)))
    return out


def ngrams(row, n):
    return [tuple(row[i : i + n]) for i in range(len(row) - n + 1)]


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_equals_brute_force(n, seed):
    table = np.random.default_rng(seed).normal(size=(VOCAB, VOCAB)).astype("float32")
    starts = np.arange(VOCAB, dtype="int32")[:, None]
    ids = best_sequence(
        markov_step(table),
        starts,
        beam_width=1,
        max_length=LENGTH,
        end_id=None,
        no_repeat_ngram=n,
    ).numpy()
    expected = [brute_force_greedy(table, s, n) for s in range(VOCAB)]
    np.testing.assert_array_equal(ids, expected)
    for row in ids.tolist():
        assert len(set(ngrams(row, n))) == len(ngrams(row, n))


def test_off_repeats_and_beam_does_not():
    table = np.full((VOCAB, VOCAB), -5.0, "float32")
    table[1, 2] = table[2, 1] = 5.0  # 1 2 1 2 ... without the ban
    starts = np.array([[1]], "int32")
    step = markov_step(table)
    plain = best_sequence(step, starts, beam_width=1, max_length=8, end_id=None)
    assert plain.numpy()[0].tolist() == [1, 2, 1, 2, 1, 2, 1, 2]
    beam = best_sequence(
        step, starts, beam_width=3, max_length=8, end_id=None, no_repeat_ngram=2
    ).numpy()[0]
    assert len(set(ngrams(beam.tolist(), 2))) == 7
    assert beam[:3].tolist() == [1, 2, 1]  # the first repeat of "1 2" is banned
    assert beam[3] != 2


def test_negative_size_is_an_error():
    with pytest.raises(ValueError, match="no_repeat_ngram must be >= 0"):
        best_sequence(
            markov_step(np.zeros((3, 3), "float32")),
            np.array([[0]], "int32"),
            beam_width=1,
            max_length=4,
            end_id=None,
            no_repeat_ngram=-1,
        )
