"""The "rnn" family: smoke test per builder, RNN forms, char-RNN generation."""

import keras
import numpy as np
import pytest

from dltoolkit.models import get_builder, list_builders
from dltoolkit.models.rnn import (
    generate_text,
    reset_rnn_states,
    rnn_step_fn,
)

VOCAB, LENGTH, UNITS, BATCH = 11, 6, 8, 2
# name -> (input_shape, num_classes, options, output shape without the batch)
SMOKE = {
    "rnn": ((LENGTH,), 3, {"vocab_size": VOCAB}, (3,)),
    "char_rnn": ((LENGTH,), VOCAB, {}, (LENGTH, VOCAB)),
}


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _tokens(shape, seed=0):
    return np.random.default_rng(seed).integers(1, VOCAB, size=shape).astype("int32")


def _features(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _labels(output_shape, num_classes):
    return np.random.default_rng(1).integers(
        0, num_classes, (BATCH, *output_shape[:-1])
    )


# === Smoke test ===


@pytest.mark.parametrize("name", list_builders("rnn"))
def test_builder_smoke(name, tmp_path):
    if name not in SMOKE:
        pytest.fail(f"No smoke input for {name!r}: add one to SMOKE.")
    shape, num_classes, options, out_shape = SMOKE[name]
    model = get_builder(name)(shape, num_classes, units=UNITS, **options)
    x = _tokens((BATCH, *shape))
    probs = _np(model(x))
    assert probs.shape == (BATCH, *out_shape)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)

    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    assert np.isfinite(model.train_on_batch(x, _labels(out_shape, num_classes)))
    expected = _np(model(x))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(clone(x)), expected, atol=1e-6)

    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(_np(reloaded(x)), expected, atol=1e-6)


# === RNN forms ===


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_cells_and_depth(cell):
    model = get_builder("rnn")((LENGTH, 3), 4, cell=cell, units=UNITS, num_layers=3)
    assert [layer.name for layer in model.layers if "rnn_" in layer.name] == [
        "rnn_1",
        "rnn_2",
        "rnn_3",
    ]
    assert (
        model.get_layer("rnn_3").__class__.__name__
        == {
            "simple_rnn": "SimpleRNN",
            "lstm": "LSTM",
            "gru": "GRU",
        }[cell]
    )
    assert _np(model(_features((BATCH, LENGTH, 3)))).shape == (BATCH, 4)


def test_bidirectional_merge_modes():
    x = _features((BATCH, LENGTH, 3))
    merged, weights = {}, None
    for mode in ("concat", "sum", "mul", "ave"):
        model = get_builder("rnn")(
            (LENGTH, 3),
            4,
            units=UNITS,
            bidirectional=True,
            merge_mode=mode,
            head="many_to_many",
        )
        layer = model.get_layer("bidirectional_1")
        weights = weights or layer.get_weights()
        layer.set_weights(weights)  # the same two directions for every mode
        size = 2 * UNITS if mode == "concat" else UNITS
        assert layer.output.shape == (None, LENGTH, size)
        merged[mode] = _np(keras.Model(model.input, layer.output)(x))
    forward, backward = np.split(merged["concat"], 2, axis=-1)
    np.testing.assert_allclose(merged["sum"], forward + backward, atol=1e-6)
    np.testing.assert_allclose(merged["mul"], forward * backward, atol=1e-6)
    np.testing.assert_allclose(merged["ave"], (forward + backward) / 2, atol=1e-6)


def test_one_to_many_output_length():
    model = get_builder("rnn")(
        (5,), 4, units=UNITS, head="one_to_many", output_length=7
    )
    assert _np(model(_features((BATCH, 5)))).shape == (BATCH, 7, 4)
    tokens = get_builder("rnn")(
        (1,), 4, units=UNITS, head="one_to_many", output_length=3, vocab_size=VOCAB
    )
    assert _np(tokens(_tokens((BATCH, 1)))).shape == (BATCH, 3, 4)


@pytest.mark.parametrize("cell, num_layers", [("lstm", 1), ("gru", 2)])
def test_stateful_windows_equal_the_whole_sequence(cell, num_layers):
    model = get_builder("rnn")(
        (None, 3),
        4,
        cell=cell,
        units=UNITS,
        num_layers=num_layers,
        stateful=True,
        batch_size=BATCH,
        head="many_to_many",
    )
    x = _features((BATCH, 8, 3))
    whole = _np(model(x))
    reset_rnn_states(model)
    first, second = _np(model(x[:, :5])), _np(model(x[:, 5:]))
    np.testing.assert_allclose(
        np.concatenate([first, second], axis=1), whole, atol=1e-5
    )

    # After a reset the second window starts from zeros again.
    reset_rnn_states(model)
    fresh = _np(model(x[:, 5:]))
    assert not np.allclose(fresh, second, atol=1e-4)
    reset_rnn_states(model)
    np.testing.assert_allclose(_np(model(x[:, 5:])), fresh, atol=1e-6)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"cell": "transformer"}, "cell"),
        ({"head": "many_to_few"}, "head"),
        ({"merge_mode": "max"}, "merge_mode"),
        ({"num_layers": 0}, "num_layers"),
        ({"stateful": True}, "batch_size"),
        ({"stateful": True, "batch_size": 2, "bidirectional": True}, "bidirectional"),
        ({"output_length": 3}, "output_length"),
        ({"head": "one_to_many"}, "output_length"),
        ({"dropout": 1.0}, "dropout"),
        ({"vocab_size": VOCAB}, r"input_shape=\(6, 3\)"),
    ],
)
def test_bad_options_name_the_argument(options, match):
    with pytest.raises(ValueError, match=match):
        get_builder("rnn")((LENGTH, 3), 4, **options)


# === Char-RNN ===


def test_step_fn_matches_the_whole_model():
    model = get_builder("char_rnn")((None,), VOCAB, units=UNITS, num_layers=2)
    x = _tokens((BATCH, LENGTH))
    prime, next_logits = rnn_step_fn(model)
    logits, _ = next_logits(x, LENGTH, prime(x))
    probs = _np(keras.ops.softmax(logits))
    np.testing.assert_allclose(probs, _np(model(x))[:, -1], atol=1e-5)


def test_step_fn_rejects_other_models():
    for options in ({"vocab_size": VOCAB}, {"head": "many_to_many"}):
        shape = (LENGTH,) if options.get("vocab_size") else (LENGTH, 3)
        model = get_builder("rnn")(shape, 4, units=UNITS, **options)
        with pytest.raises(ValueError, match="many_to_many token model"):
            rnn_step_fn(model)


def test_small_temperature_gives_the_argmax_continuation():
    vocabulary = "abcde"
    model = get_builder("char_rnn")((None,), len(vocabulary), units=16, cell="gru")
    ids = [vocabulary.index(c) for c in "cab"]
    for _ in range(6):  # greedy, re-reading the whole text each step
        probs = _np(model(np.array([ids], dtype="int32")))
        ids.append(int(probs[0, -1].argmax()))
    greedy = "".join(vocabulary[i] for i in ids)
    for temperature in (1e-4, 0):
        text = generate_text(
            model, "cab", vocabulary=vocabulary, length=6, temperature=temperature
        )
        assert text == greedy


def test_trained_char_rnn_continues_the_pattern():
    vocabulary = "abc"
    ids = np.array([vocabulary.index(c) for c in "abc" * 40], dtype="int32")
    x = np.stack([ids[i : i + 8] for i in range(100)])
    y = np.stack([ids[i + 1 : i + 9] for i in range(100)])
    model = get_builder("char_rnn")((None,), 3, units=16)
    model.compile(keras.optimizers.Adam(0.03), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=20, verbose=0)
    text = generate_text(model, "ca", vocabulary=vocabulary, length=9, temperature=0.1)
    assert text == "ca" + "bcabcabca"
    sampled = generate_text(model, "b", vocabulary=vocabulary, length=20, seed=3)
    assert len(sampled) == 21 and set(sampled) <= set(vocabulary)


def test_generate_text_errors():
    model = get_builder("char_rnn")((None,), 3, units=4)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        generate_text(model, "abz", vocabulary="abc", length=2)
    with pytest.raises(ValueError, match="temperature"):
        generate_text(model, "ab", vocabulary="abc", length=2, temperature=-1)
    with pytest.raises(ValueError, match="length"):
        generate_text(model, "ab", vocabulary="abc", length=0)
