"""Decoding with the transformer and GPT step functions, in-graph."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.decoding import beam_search, greedy_search, sample
from dltoolkit.models import get_builder
from dltoolkit.models.gpt import gpt_step_fn
from dltoolkit.models.transformer import transformer_step_fn

SEQ, VOCAB, START = 6, 11, 1
TINY = {"num_layers": 1, "d_model": 16, "num_heads": 2, "d_ff": 32, "dropout": 0.0}


def _reference_greedy(predict, batch):
    """Greedy decoding by hand: run the model on the prefix, take the argmax."""
    ids = np.full((batch, 1), START, "int32")
    for t in range(SEQ):
        padded = np.pad(ids, [(0, 0), (0, SEQ - ids.shape[1])])
        probs = keras.ops.convert_to_numpy(predict(padded))  # (B, T, V)
        ids = np.concatenate([ids, probs[:, t].argmax(-1)[:, None]], axis=1)
    return ids  # (B, SEQ + 1)


@pytest.fixture
def translation():
    model = get_builder("transformer")((SEQ,), VOCAB, **TINY)
    source = np.array([[3, 4, 5, 6, 0, 0], [7, 8, 9, 10, 2, 0]], "int32")
    return model, source


def test_transformer_greedy_in_tf_function(translation):
    model, source = translation

    @tf.function
    def translate(source_ids):
        step, state = transformer_step_fn(model, source_ids)
        start = tf.fill([tf.shape(source_ids)[0], 1], START)
        return greedy_search(step, start, max_length=SEQ + 1, end_id=None, state=state)

    expected = _reference_greedy(lambda t: model([source, t]), batch=2)
    np.testing.assert_array_equal(translate(tf.constant(source)), expected)


def test_transformer_beam_search_in_tf_function(translation):
    model, source = translation

    @tf.function
    def translate(source_ids, beam_width):
        step, state = transformer_step_fn(model, source_ids)
        start = tf.fill([tf.shape(source_ids)[0], 1], START)
        return beam_search(
            step,
            start,
            beam_width=beam_width,
            max_length=SEQ + 1,
            end_id=2,
            state=state,
        )

    step, state = transformer_step_fn(model, source)
    greedy = greedy_search(
        step, np.full((2, 1), START), max_length=SEQ + 1, end_id=2, state=state
    )
    ids, _ = translate(tf.constant(source), 1)
    np.testing.assert_array_equal(ids[:, 0], greedy)
    ids, scores = translate(tf.constant(source), 3)
    assert ids.shape == (2, 3, SEQ + 1)
    assert np.all(np.diff(scores.numpy(), axis=1) <= 0)
    assert np.all(scores[:, 0] >= -1e9)


def test_transformer_decoding_exports(translation, tmp_path):
    model, source = translation

    class Translator(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([None, SEQ], tf.int32)])
        def translate(self, source_ids):
            step, state = transformer_step_fn(self.model, source_ids)
            start = tf.fill([tf.shape(source_ids)[0], 1], START)
            return greedy_search(step, start, max_length=SEQ + 1, end_id=2, state=state)

    translator = Translator()
    expected = translator.translate(tf.constant(source))
    tf.saved_model.save(translator, str(tmp_path / "translator"))
    reloaded = tf.saved_model.load(str(tmp_path / "translator"))
    np.testing.assert_array_equal(reloaded.translate(tf.constant(source)), expected)


def test_linear_outputs_decode_like_softmax(translation):
    model, source = translation
    logits_model = get_builder("transformer")(
        (SEQ,), VOCAB, classifier_activation="linear", **TINY
    )
    logits_model.set_weights(model.get_weights())
    results = []
    for m in (model, logits_model):
        step, state = transformer_step_fn(m, source)
        results.append(
            beam_search(
                step,
                np.full((2, 1), START),
                beam_width=2,
                max_length=SEQ + 1,
                end_id=2,
                state=state,
            )
        )
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4)


def test_gpt_greedy_and_sampling_in_tf_function():
    model = get_builder("gpt_like")((SEQ,), VOCAB, **TINY)
    step = gpt_step_fn(model)
    start = tf.fill([3, 1], START)
    greedy = tf.function(
        lambda s: greedy_search(step, s, max_length=SEQ + 1, end_id=None)
    )(start)
    np.testing.assert_array_equal(greedy, _reference_greedy(model, batch=3))

    draw = tf.function(
        lambda s, seed: sample(step, s, max_length=SEQ, top_k=4, seed=seed)
    )
    first = draw(start, tf.constant(5))
    assert first.shape == (3, SEQ)
    np.testing.assert_array_equal(draw(start, tf.constant(5)), first)

    with pytest.raises(ValueError, match="max_length can be at most 7"):
        greedy_search(step, start, max_length=SEQ + 2, end_id=None)


@pytest.mark.slow
def test_trained_transformer_decodes_reversal():
    """A one-layer model learns to reverse; greedy and beam decoding agree."""
    seq, vocab, end = 5, 12, 2
    rng = np.random.default_rng(0)

    def data(n):
        source = rng.integers(3, vocab, (n, seq)).astype("int32")
        target = np.concatenate([source[:, ::-1], np.full((n, 1), end)], 1)
        shifted = np.concatenate([np.full((n, 1), START), target[:, :-1]], 1)
        return source, shifted, target

    model = get_builder("transformer")(
        (seq,), vocab, target_length=seq + 1, **{**TINY, "d_model": 32, "d_ff": 64}
    )
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    source, shifted, target = data(4000)
    model.fit([source, shifted], target, batch_size=64, epochs=6, verbose=0)

    source, _, target = data(100)
    step, state = transformer_step_fn(model, source)
    start = tf.fill([100, 1], START)
    greedy = tf.function(
        lambda: greedy_search(step, start, max_length=seq + 2, end_id=end, state=state)
    )()
    beams, _ = beam_search(
        step, start, beam_width=3, max_length=seq + 2, end_id=end, state=state
    )
    assert np.mean(np.all(greedy[:, 1:].numpy() == target, axis=1)) > 0.9
    assert np.mean(np.all(beams[:, 0, 1:].numpy() == target, axis=1)) > 0.9


def test_variable_length_transformer_equals_the_fixed_one():
    """input_shape=(None,): the same weights read batches of any length, and
    greedy decoding gives what the fixed-length model gives."""
    fixed = get_builder("transformer")((SEQ,), VOCAB, **TINY)
    free = get_builder("transformer")((None,), VOCAB, **TINY)
    free.set_weights(fixed.get_weights())
    source = np.array([[3, 4, 5, 6, 0, 0], [7, 8, 9, 10, 2, 0]], "int32")
    target = np.array([[START, 5, 6, 0, 0, 0]] * 2, "int32")
    np.testing.assert_allclose(
        free([source[:, :5], target[:, :3]]),
        fixed([source, target])[:, :3],
        atol=1e-5,
    )

    def greedy(model):
        step, state = transformer_step_fn(model, tf.constant(source))
        start = tf.fill([2, 1], START)
        return greedy_search(step, start, max_length=SEQ + 1, end_id=None, state=state)

    np.testing.assert_array_equal(greedy(free), greedy(fixed))


def test_variable_length_transformer_takes_no_target_length():
    with pytest.raises(ValueError, match="target_length must be None"):
        get_builder("transformer")((None,), VOCAB, target_length=5, **TINY)
