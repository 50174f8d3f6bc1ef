"""Greedy and beam search against brute-force enumeration on toy models."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.decoding import beam_search, greedy_search

V, END, PAD = 4, 3, 0


def _brute_force(log_probs, prompt, *, max_length, end_id, alpha=0.0, pad_id=PAD):
    """Every sequence the decoders can output, best first, with GNMT scores."""
    found = []

    def grow(seq, raw):
        generated = len(seq) - len(prompt)
        if len(seq) == max_length or (generated and seq[-1] == end_id):
            padded = seq + [pad_id] * (max_length - len(seq))
            found.append((padded, raw / ((5 + generated) / 6) ** alpha))
            return
        for token, lp in enumerate(log_probs(seq)):
            grow(seq + [token], raw + lp)

    grow(list(prompt), 0.0)
    return sorted(found, key=lambda item: -item[1])


def _markov_log_probs(table, toys):
    """Reference of ``markov_step`` with a per-position table ``(L, V, V)``."""
    return lambda seq: toys.log_softmax(table[len(seq), seq[-1]])


# === Greedy ===


def test_greedy_follows_the_argmax_and_pads_after_the_end(toys):
    table = np.full((V, V), -5.0)
    table[1, 2] = table[2, 1] = 0.0  # 1 -> 2 -> 1 -> ...
    table[0, 2] = 0.0
    table[2, END] = 1.0  # ... but 2 -> end wins
    ids = greedy_search(
        toys.markov_step(table), [[1], [0]], max_length=5, end_id=END, pad_id=PAD
    )
    np.testing.assert_array_equal(ids, [[1, 2, END, PAD, PAD], [0, 2, END, PAD, PAD]])
    no_end = greedy_search(toys.markov_step(table), [[1, 2]], max_length=4, end_id=None)
    np.testing.assert_array_equal(no_end, [[1, 2, END, 0]])  # end_id off: 3 -> 0


def test_prompt_longer_than_max_length_is_rejected(toys):
    with pytest.raises(ValueError, match="prompt_length"):
        greedy_search(
            toys.markov_step(np.zeros((V, V))), [[1, 2, 3]], max_length=2, end_id=END
        )


# === Beam search ===


@pytest.mark.parametrize("stateful", [False, True])
def test_beam_width_one_equals_greedy(toys, stateful):
    rng = np.random.default_rng(1)
    start = [[1], [2], [0]]
    if stateful:
        table = rng.normal(size=(7, V)) * 2
        step = toys.prefix_sum_step(table)
        state = {"total": tf.constant([0, 3, 5]), "ids": tf.zeros([3, 6], tf.int32)}
    else:
        step, state = toys.markov_step(rng.normal(size=(V, V)) * 2), None
    greedy = greedy_search(step, start, max_length=6, end_id=END, state=state)
    beams, scores = beam_search(
        step, start, beam_width=1, max_length=6, end_id=END, state=state
    )
    assert beams.shape == (3, 1, 6) and scores.shape == (3, 1)
    np.testing.assert_array_equal(beams[:, 0], greedy)


def test_beam_search_finds_the_brute_force_ranking(toys):
    rng = np.random.default_rng(2)
    table = rng.normal(size=(4, V, V)) * 2
    start = [[0], [2]]
    # 64 beams hold every sequence of 3 tokens over 4 words: nothing is pruned.
    ids, scores = beam_search(
        toys.markov_step(table), start, beam_width=64, max_length=4, end_id=END
    )
    for row, prompt in enumerate(start):
        expected = _brute_force(
            _markov_log_probs(table, toys), prompt, max_length=4, end_id=END
        )
        n = len(expected)
        np.testing.assert_array_equal(ids[row, :n], [seq for seq, _ in expected])
        np.testing.assert_allclose(scores[row, :n], [s for _, s in expected], 1e-5)
        assert np.all(np.isneginf(scores[row, n:]))


def test_small_beam_returns_the_best_sequence(toys):
    rng = np.random.default_rng(3)
    table = rng.normal(size=(4, V, V)) * 2
    start = [[0], [1], [2]]
    ids, scores = beam_search(
        toys.markov_step(table), start, beam_width=3, max_length=4, end_id=END
    )
    for row, prompt in enumerate(start):
        best, best_score = _brute_force(
            _markov_log_probs(table, toys), prompt, max_length=4, end_id=END
        )[0]
        np.testing.assert_array_equal(ids[row, 0], best)
        np.testing.assert_allclose(scores[row, 0], best_score, rtol=1e-5)
        assert np.all(np.diff(scores[row]) <= 0)  # best first


def test_state_is_repeated_and_reordered_with_its_beam(toys):
    rng = np.random.default_rng(4)
    table = rng.normal(size=(5, V)) * 2
    start, offsets = [[1], [2]], [0, 3]
    state = {"total": tf.constant(offsets), "ids": tf.zeros([2, 4], tf.int32)}
    ids, scores = beam_search(
        toys.prefix_sum_step(table),
        start,
        beam_width=64,
        max_length=4,
        end_id=END,
        state=state,
    )
    for row, prompt in enumerate(start):
        log_probs = toys.prefix_sum_log_probs(table, offsets[row], len(prompt))
        expected = _brute_force(log_probs, prompt, max_length=4, end_id=END)
        n = len(expected)
        np.testing.assert_array_equal(ids[row, :n], [seq for seq, _ in expected])
        np.testing.assert_allclose(scores[row, :n], [s for _, s in expected], 1e-5)


def test_length_penalty_changes_the_ranking_as_documented(toys):
    # Tokens: 0 pad, 1 end, 2 word. After any token: end 45%, word 55%.
    row = np.log([1e-9, 0.45, 0.55])
    step = toys.markov_step(np.tile(row, (3, 1)))
    log_probs = lambda seq: toys.log_softmax(row)  # noqa: E731

    best = {}
    for alpha in (0.0, 3.0):
        ids, scores = beam_search(
            step, [[2]], beam_width=4, max_length=4, end_id=1, length_penalty=alpha
        )
        expected = _brute_force(log_probs, [2], max_length=4, end_id=1, alpha=alpha)
        np.testing.assert_array_equal(ids[0, 0], expected[0][0])
        # The returned score is raw / ((5 + generated) / 6) ** alpha.
        generated = int(np.sum(ids[0, 0, 1:] != 0))
        raw = sum(log_probs(None)[t] for t in ids[0, 0, 1 : 1 + generated].numpy())
        np.testing.assert_allclose(
            scores[0, 0], raw / ((5 + generated) / 6) ** alpha, rtol=1e-5
        )
        best[alpha] = ids[0, 0].numpy().tolist()
    assert best[0.0] == [2, 1, 0, 0]  # the shortest wins on raw log-probability
    assert best[3.0] == [2, 2, 2, 2]  # a strong penalty prefers the longest


def test_bad_beam_width_names_the_argument(toys):
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(
            toys.markov_step(np.zeros((V, V))),
            [[0]],
            beam_width=0,
            max_length=3,
            end_id=END,
        )
