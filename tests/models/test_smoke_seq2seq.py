"""The "seq2seq" family: smoke test, attention outputs, step function, learning."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.decoding import greedy_search
from dltoolkit.models import get_builder, list_builders
from dltoolkit.models.seq2seq import seq2seq_decode, seq2seq_step_fn

VOCAB, LENGTH, UNITS, BATCH = 11, 6, 8, 2
SMALL = {"units": UNITS, "embedding_dim": UNITS}
VARIANTS = [
    {"cell": "gru"},
    {"cell": "lstm"},
    {"cell": "gru", "attention": "bahdanau"},
    {"cell": "lstm", "attention": "bahdanau"},
]


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    source = rng.integers(1, VOCAB, size=(BATCH, LENGTH)).astype("int32")
    source[0, 4:] = 0  # padding
    target_in = rng.integers(1, VOCAB, size=(BATCH, LENGTH)).astype("int32")
    labels = rng.integers(1, VOCAB, size=(BATCH, LENGTH))
    return source, target_in, labels


# === Smoke test ===


@pytest.mark.parametrize("name", list_builders("seq2seq"))
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v.values()))
def test_builder_smoke(name, variant, tmp_path):
    model = get_builder(name)((LENGTH,), VOCAB, **SMALL, **variant)
    source, target_in, labels = _batch()
    probs = _np(model([source, target_in]))
    assert probs.shape == (BATCH, LENGTH, VOCAB)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)

    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    assert np.isfinite(model.train_on_batch([source, target_in], labels))
    expected = _np(model([source, target_in]))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(clone([source, target_in])), expected, atol=1e-6)

    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(_np(reloaded([source, target_in])), expected, atol=1e-6)


# === Attention ===


def test_returned_attention_sums_to_one_and_skips_padding():
    model = get_builder("seq2seq")(
        (LENGTH,),
        VOCAB,
        source_vocab_size=7,
        attention="bahdanau",
        return_attention=True,
        **SMALL,
    )
    source, target_in, _ = _batch()
    source = source % 7
    assert model.output_names == ["predictions", "attention"]
    probs, weights = (_np(t) for t in model([source, target_in]))
    assert probs.shape == (BATCH, LENGTH, VOCAB)
    assert weights.shape == (BATCH, LENGTH, LENGTH)  # (B, T, S)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    by_source = weights.transpose(0, 2, 1)  # (B, S, T)
    assert np.any(source == 0) and np.any(source[1] == 0)
    np.testing.assert_array_equal(by_source[source == 0], 0.0)
    assert np.all(by_source[source != 0] > 0)


@pytest.mark.parametrize("attention", [None, "bahdanau"])
def test_padded_target_steps_are_left_out_of_the_loss(attention):
    model = get_builder("seq2seq")((LENGTH,), VOCAB, attention=attention, **SMALL)
    source, target_in, labels = _batch()
    target_in[:, 4:] = 0
    labels[:, 4:] = 0
    probs = _np(model([source, target_in]))
    nll = -np.log(np.take_along_axis(probs, labels[..., None], axis=-1))[..., 0]
    model.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=True)
    loss = model.evaluate([source, target_in], labels, verbose=0)
    np.testing.assert_allclose(loss, nll[:, :4].mean(), rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v.values()))
def test_step_fn_matches_teacher_forcing(variant):
    model = get_builder("seq2seq")((None,), VOCAB, **SMALL, **variant)
    source, target_in, _ = _batch()
    expected = _np(model([source, target_in]))  # (B, T, V)
    encode, next_logits = seq2seq_step_fn(model)
    state = encode(source)
    for index in range(1, LENGTH + 1):
        logits, state = next_logits(target_in, index, state)
        np.testing.assert_allclose(
            _np(keras.ops.softmax(logits)), expected[:, index - 1], atol=1e-5
        )


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v.values()))
@pytest.mark.parametrize("beam_width", [1, 3])
def test_decode_runs_greedy_and_beam(variant, beam_width):
    model = get_builder("seq2seq")((None,), VOCAB, **SMALL, **variant)
    source, _, _ = _batch()
    ids = _np(
        seq2seq_decode(
            model, source, start_id=1, end_id=2, max_length=5, beam_width=beam_width
        )
    )
    assert ids.shape == (BATCH, 5) and np.all(ids[:, 0] == 1)
    assert ids.min() >= 0 and ids.max() < VOCAB


@pytest.mark.parametrize(
    "options, match",
    [
        ({"cell": "transformer"}, "cell"),
        ({"attention": "luong"}, "attention"),
        ({"return_attention": True}, "return_attention"),
        ({"units": 0}, "units"),
    ],
)
def test_bad_options_name_the_argument(options, match):
    with pytest.raises(ValueError, match=match):
        get_builder("seq2seq")((LENGTH,), VOCAB, **options)
    with pytest.raises(ValueError, match="input_shape"):
        get_builder("seq2seq")((LENGTH, 3), VOCAB)


# === Learning to reverse ===


def test_attention_learns_to_reverse():
    # 0 padding, 1 start, 2 end, 3..5 content: 81 sequences of length 4.
    start, end, length = 1, 2, 4
    every = np.array(list(itertools.product(range(3, 6), repeat=length)), "int32")
    source = np.tile(every, (8, 1))
    target = source[:, ::-1]
    target_in = np.concatenate([np.full((len(source), 1), start), target], axis=1)
    labels = np.concatenate([target, np.full((len(source), 1), end)], axis=1)
    model = get_builder("seq2seq")(
        (length,),
        6,
        units=32,
        embedding_dim=16,
        attention="bahdanau",
        return_attention=True,
    )
    model.compile(
        keras.optimizers.Adam(0.01), ["sparse_categorical_crossentropy", None]
    )
    model.fit([source, target_in], [labels], epochs=5, batch_size=32, verbose=0)

    reversed_ = every[:, ::-1]

    @tf.function
    def greedy(source):  # the step function, in-graph
        encode, next_logits = seq2seq_step_fn(model)
        start_ids = tf.fill([tf.shape(source)[0], 1], start)
        return greedy_search(
            next_logits,
            start_ids,
            max_length=length + 2,
            end_id=end,
            state=encode(source),
        )

    decoded = _np(greedy(tf.constant(every)))  # (N, 1 + length + 1)
    assert np.all(decoded[:, 0] == start)
    correct = np.all(decoded[:, 1 : length + 1] == reversed_, axis=1)
    assert correct.mean() > 0.9
    assert np.all(decoded[correct, length + 1] == end)

    beams = _np(
        seq2seq_decode(
            model, every, start_id=start, end_id=end, max_length=6, beam_width=3
        )
    )
    assert np.mean(np.all(beams[:, 1 : length + 1] == reversed_, axis=1)) > 0.9

    # Output step t attends mostly to source position length - 1 - t.
    _, weights = model([every, target_in[: len(every)]])
    focus = _np(weights)[:, :length].argmax(axis=-1)  # (N, T)
    assert np.mean(focus == np.arange(length)[::-1]) > 0.8
