"""The "text_cnn" family: smoke test, masked pooling, bad options."""

import keras
import numpy as np
import pytest

from dltoolkit.models import get_builder, list_builders

VOCAB, LENGTH, BATCH = 13, 7, 2
TINY = dict(vocab_size=VOCAB, embedding_dim=8, filters=4, kernel_sizes=(2, 3))


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _tokens(shape, seed=0):
    return np.random.default_rng(seed).integers(1, VOCAB, size=shape).astype("int32")


@pytest.mark.parametrize("name", list_builders("text_cnn"))
def test_builder_smoke(name, tmp_path):
    model = get_builder(name)((LENGTH,), 3, **TINY)
    x = _tokens((BATCH, LENGTH))
    probs = _np(model(x))
    assert probs.shape == (BATCH, 3)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)

    model.compile("adam", "sparse_categorical_crossentropy")
    assert np.isfinite(model.train_on_batch(x, np.array([0, 2])))
    expected = _np(model(x))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(clone(x)), expected, atol=1e-6)

    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(_np(reloaded(x)), expected, atol=1e-6)


def test_any_length_and_fully_padded_rows():
    model = get_builder("text_cnn")((None,), 2, conv_layers=2, dropout=0.0, **TINY)
    assert _np(model(_tokens((1, 9)))).shape == (1, 2)
    assert _np(model(_tokens((1, 1)))).shape == (1, 2)  # shorter than every kernel
    empty = np.zeros((2, 3), "int32")  # fully padded: pooled features are 0
    probs = _np(model(empty))
    bias = model.get_layer("predictions").get_weights()[1]
    expected = np.exp(bias) / np.exp(bias).sum()
    np.testing.assert_allclose(probs, np.stack([expected] * 2), atol=1e-6)


def test_pooling_skips_padding_positions():
    model = get_builder("text_cnn")((None,), 2, dropout=0.0, **TINY)
    probe = keras.Model(model.input, model.get_layer("pooled").output)
    x = np.array([[3, 4, 5, 0, 0]], "int32")
    conv = keras.Model(
        model.input,
        [model.get_layer("conv2_1").output, model.get_layer("conv3_1").output],
    )
    maps = [_np(m)[0, :3] for m in conv(x)]  # the 3 valid steps
    np.testing.assert_allclose(
        _np(probe(x))[0], np.concatenate([m.max(axis=0) for m in maps]), atol=1e-6
    )


@pytest.mark.parametrize(
    "options, match",
    [
        ({"vocab_size": None}, "vocab_size"),
        ({"filters": 0}, "filters"),
        ({"kernel_sizes": ()}, "kernel_sizes"),
        ({"kernel_sizes": (3, 0)}, "kernel_sizes"),
        ({"dropout": 1.0}, "dropout"),
        ({"conv_layers": 0}, "conv_layers"),
    ],
)
def test_bad_options_name_the_argument(options, match):
    with pytest.raises(ValueError, match=match):
        get_builder("text_cnn")((LENGTH,), 2, **{**TINY, **options})


def test_input_shape_must_be_token_ids():
    with pytest.raises(ValueError, match=r"input_shape=\(4, 5\)"):
        get_builder("text_cnn")((4, 5), 2, **TINY)


def test_learns_negated_bigrams():
    """Label 1 iff token 5 follows token 4 ("not good"): a window of 2 sees it."""
    rng = np.random.default_rng(0)
    x = rng.integers(6, VOCAB, size=(256, LENGTH)).astype("int32")
    y = rng.integers(0, 2, size=256)
    for i in range(256):
        at = rng.integers(0, LENGTH - 1)
        x[i, at : at + 2] = (4, 5) if y[i] else (5, 4)
    model = get_builder("text_cnn")((LENGTH,), 2, dropout=0.0, **TINY)
    model.compile(
        keras.optimizers.Adam(0.02),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95
