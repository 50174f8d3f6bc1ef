"""The decoders inside tf.function and inside a saved and reloaded SavedModel."""

import numpy as np
import tensorflow as tf

from dltoolkit.decoding import beam_search, greedy_search, sample

V, END, LENGTH = 5, 4, 6


class _Decoders(tf.Module):
    """A Markov-table model with the three decoders as serving functions."""

    def __init__(self, table, toys):
        super().__init__()
        self.table = tf.Variable(table, dtype=tf.float32)
        self._step = toys.markov_step(self.table)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def greedy(self, start_ids):
        return greedy_search(self._step, start_ids, max_length=LENGTH, end_id=END)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def beam(self, start_ids):
        ids, scores = beam_search(
            self._step,
            start_ids,
            beam_width=3,
            max_length=LENGTH,
            end_id=END,
            length_penalty=0.6,
        )
        return {"ids": ids, "scores": scores}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([], tf.int64),
        ]
    )
    def sample(self, start_ids, seed):
        return sample(
            self._step, start_ids, max_length=LENGTH, end_id=END, top_k=3, seed=seed
        )


def _outputs(module, start):
    beam = module.beam(start)
    return {
        "greedy": module.greedy(start).numpy(),
        "beam_ids": beam["ids"].numpy(),
        "beam_scores": beam["scores"].numpy(),
        "sample": module.sample(start, tf.constant(11, tf.int64)).numpy(),
    }


def test_decoders_run_in_tf_function_and_saved_model(toys, tmp_path):
    table = np.random.default_rng(0).normal(size=(V, V)).astype("float32") * 2
    start = tf.constant([[0], [1], [2]], tf.int32)
    eager_step = toys.markov_step(table)
    eager = {
        "greedy": greedy_search(eager_step, start, max_length=LENGTH, end_id=END),
        "sample": sample(
            eager_step, start, max_length=LENGTH, end_id=END, top_k=3, seed=11
        ),
    }
    eager["beam_ids"], eager["beam_scores"] = beam_search(
        eager_step,
        start,
        beam_width=3,
        max_length=LENGTH,
        end_id=END,
        length_penalty=0.6,
    )

    module = _Decoders(table, toys)
    traced = _outputs(module, start)
    tf.saved_model.save(module, str(tmp_path / "decoders"))
    reloaded = _outputs(tf.saved_model.load(str(tmp_path / "decoders")), start)
    for name, value in eager.items():
        np.testing.assert_allclose(traced[name], value, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(reloaded[name], value, rtol=1e-6, err_msg=name)
    # A prompt of two tokens through the same signature.
    longer = tf.constant([[0, 1], [2, 3]], tf.int32)
    np.testing.assert_array_equal(
        module.greedy(longer),
        greedy_search(eager_step, longer, max_length=LENGTH, end_id=END),
    )


def test_stateful_beam_search_in_tf_function(toys):
    table = np.random.default_rng(5).normal(size=(7, V)) * 2
    step = toys.prefix_sum_step(table)
    state = {"total": tf.constant([0, 2]), "ids": tf.zeros([2, LENGTH], tf.int32)}
    start = tf.constant([[1], [3]], tf.int32)

    def decode(start, state):
        return beam_search(
            step, start, beam_width=4, max_length=LENGTH, end_id=END, state=state
        )

    eager = decode(start, state)
    traced = tf.function(decode)(start, state)
    np.testing.assert_array_equal(traced[0], eager[0])
    np.testing.assert_allclose(traced[1], eager[1], rtol=1e-6)
