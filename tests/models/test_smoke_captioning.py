"""The captioner: every decoder form builds, trains, reloads and decodes stepwise."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.decoding import greedy_search
from dltoolkit.layers.spatial_coordinates import SpatialCoordinates
from dltoolkit.models import get_builder, list_builders
from dltoolkit.models.captioner import (
    attention_weights,
    captioner_step_fn,
    feature_extractor,
)

VOCAB, T = 12, 6
SHAPE = (32, 32, 3)
TINY = dict(feature_dim=8, embedding_dim=8, units=16, num_heads=2)
FORMS = [
    dict(),
    dict(attention=False),
    dict(conditioning="concat"),
    dict(conditioning="both", attention=False),
    dict(decoder="transformer", num_layers=1),
]


def _batch():
    rng = np.random.default_rng(0)
    return {
        "image": rng.random((2, *SHAPE)).astype("float32"),
        "tokens": rng.integers(1, VOCAB, (2, T)).astype("int32"),
    }


@pytest.mark.parametrize("name", list_builders("captioning"))
@pytest.mark.parametrize("form", FORMS, ids=lambda f: "-".join(map(str, f.values())))
def test_builds_trains_reloads_and_steps(name, form, tmp_path):
    model = get_builder(name)(SHAPE, VOCAB, caption_length=T, **TINY, **form)
    x = _batch()
    probs = model(x).numpy()
    assert probs.shape == (2, T, VOCAB)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)

    if form == FORMS[0]:  # the costly parts on fewer forms
        loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
        model.compile("adam", loss)
        y = np.roll(x["tokens"], -1, axis=1)
        assert np.isfinite(model.train_on_batch(x, y))
    if form in (FORMS[0], FORMS[-1]):
        path = tmp_path / "m.keras"
        model.save(path)
        reloaded = keras.models.load_model(path)
        np.testing.assert_allclose(reloaded(x).numpy(), model(x).numpy(), atol=1e-6)

    # The step function reproduces teacher forcing position by position.
    probs = model(x).numpy()
    encode, next_logits = captioner_step_fn(model)
    state = encode(x["image"])
    ids = tf.constant(x["tokens"])
    for index in range(1, T + 1):
        logits, state = next_logits(ids, index, state)
        np.testing.assert_allclose(
            tf.nn.softmax(logits).numpy(), probs[:, index - 1], atol=1e-5
        )
    out = greedy_search(
        next_logits, ids[:, :1], max_length=T + 1, end_id=3, state=encode(x["image"])
    )
    assert out.shape == (2, T + 1)


def test_conditioning_options_change_the_wiring():
    names = {}
    for conditioning in ("init", "concat", "both"):
        model = get_builder("captioner")(
            SHAPE, VOCAB, conditioning=conditioning, **TINY
        )
        names[conditioning] = {layer.name for layer in model.layers}
    assert {"init_h", "init_c"} <= names["init"] and "word_and_image" not in names[
        "init"
    ]
    assert "word_and_image" in names["concat"] and "init_h" not in names["concat"]
    assert {"init_h", "word_and_image"} <= names["both"]


def test_attention_weights_are_distributions_over_the_feature_map():
    model = get_builder("captioner")(SHAPE, VOCAB, **TINY)
    x = _batch()
    weights = attention_weights(model, x["image"], x["tokens"])
    grid = model.get_layer("encoder").get_layer("cnn").output.shape[1:3]
    assert weights.shape == (2, T, grid[0] * grid[1])
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    plain = get_builder("captioner")(SHAPE, VOCAB, attention=False, **TINY)
    assert attention_weights(plain, x["image"], x["tokens"]) is None
    transformer = get_builder("captioner")(
        SHAPE, VOCAB, decoder="transformer", caption_length=T, **TINY
    )
    weights = attention_weights(transformer, x["image"], x["tokens"][:, :4])
    assert weights.shape == (2, 4, grid[0] * grid[1])
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_any_registry_cnn_and_a_chosen_layer():
    model = get_builder("captioner")(
        SHAPE, VOCAB, encoder="resnet18", feature_layer="conv2_block2_out", **TINY
    )
    cnn = model.get_layer("encoder").get_layer("cnn")
    assert cnn.output.shape[-1] == 64 and cnn.layers[-1].name == "conv2_block2_out"
    frozen = get_builder("captioner")(SHAPE, VOCAB, encoder_trainable=False, **TINY)
    cnn = frozen.get_layer("encoder").get_layer("cnn")
    assert not cnn.trainable_weights and cnn.weights


def test_spatial_coordinates():
    out = SpatialCoordinates()(tf.zeros((2, 3, 2, 4))).numpy()
    assert out.shape == (2, 3, 2, 6)
    np.testing.assert_allclose(out[0, :, 0, 4], [-1, 0, 1])  # rows
    np.testing.assert_allclose(out[0, 0, :, 5], [-1, 1])  # columns


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(decoder="gru"), "decoder"),
        (dict(conditioning="sum"), "conditioning"),
        (dict(encoder="rnn"), "encoder must be a CNN of the registry"),
        (dict(encoder="vgg17"), "Unknown builder 'vgg17'"),
        (dict(feature_layer="nope"), "has no layer 'nope'"),
        (dict(feature_layer="flatten"), "feature_layer must give a spatial"),
        (dict(decoder="transformer", caption_length=T, attention=False), "LSTM"),
        (dict(decoder="transformer"), "needs caption_length"),
        (dict(units=0), "units"),
    ],
)
def test_bad_options_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_builder("captioner")(SHAPE, VOCAB, **{**TINY, **kwargs})


def test_feature_extractor_needs_a_spatial_layer():
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no layer with a spatial"):
        feature_extractor(dense)
