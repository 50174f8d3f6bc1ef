"""best_sequence: greedy for beam width 1, else the top beam; banned tokens."""

import numpy as np
import tensorflow as tf

from dltoolkit.decoding import beam_search, best_sequence, greedy_search

V, END, LENGTH = 5, 4, 6


def _table(seed=0):
    return np.random.default_rng(seed).normal(size=(LENGTH, V, V)).astype("float32")


def test_width_one_is_greedy_and_more_is_the_top_beam(toys):
    step = toys.markov_step(_table())
    start = tf.constant([[1], [2], [3]])
    kwargs = dict(max_length=LENGTH, end_id=END)
    greedy = greedy_search(step, start, **kwargs)
    best = best_sequence(step, start, beam_width=1, **kwargs)
    np.testing.assert_array_equal(best.numpy(), greedy.numpy())
    beams, _ = beam_search(step, start, beam_width=3, length_penalty=0.6, **kwargs)
    best = best_sequence(step, start, beam_width=3, length_penalty=0.6, **kwargs)
    np.testing.assert_array_equal(best.numpy(), beams[:, 0].numpy())


def test_banned_tokens_are_never_generated(toys):
    table = np.full((LENGTH, V, V), -5.0, "float32")
    table[:, :, 2] = 5.0  # token 2 is by far the most likely ...
    table[:, :, 3] = 1.0
    step = toys.markov_step(table)
    start = tf.constant([[1], [1]])
    for width in (1, 2):
        ids = best_sequence(
            step,
            start,
            beam_width=width,
            max_length=LENGTH,
            end_id=END,
            banned_ids=(0, 2),  # ... but banned, as padding is
        ).numpy()
        assert ids[:, 0].tolist() == [1, 1]
        assert not np.isin(ids[:, 1:], (0, 2)).any() and (ids[:, 1:] == 3).all()


def test_inside_a_tf_function(toys):
    step = toys.markov_step(_table(1))

    def decode(start):
        return best_sequence(
            step, start, beam_width=2, max_length=LENGTH, end_id=END, banned_ids=[0]
        )

    traced = tf.function(decode, input_signature=[tf.TensorSpec([None, 1], tf.int32)])
    start = tf.constant([[1], [3]])
    np.testing.assert_array_equal(traced(start).numpy(), decode(start).numpy())
