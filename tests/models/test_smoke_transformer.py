"""Smoke test of every "transformer" builder: build, train, round-trip, save."""

import keras
import numpy as np
import pytest

from dltoolkit.models import get_builder, list_builders

SEQ, VOCAB, BATCH = 6, 11, 2
TINY = {"num_layers": 2, "d_model": 16, "num_heads": 2, "d_ff": 32}
SOURCE_VOCAB, CLASSES = 13, 3
SCCE = "sparse_categorical_crossentropy"


def _ids(rng, vocab, length=SEQ):
    ids = rng.integers(1, vocab, size=(BATCH, length)).astype("int32")
    ids[1, -2:] = 0  # padding
    return ids


def _transformer(rng):
    inputs = [_ids(rng, SOURCE_VOCAB), _ids(rng, VOCAB)]
    return inputs, _ids(rng, VOCAB), {"source_vocab_size": SOURCE_VOCAB}, SCCE


def _bert_like(rng):
    inputs = [_ids(rng, VOCAB), np.array([[0, 0, 0, 1, 1, 1]] * BATCH, "int32")]
    targets = {"classification": np.array([0, 2]), "masked_lm": _ids(rng, VOCAB)}
    loss = {"classification": SCCE, "masked_lm": SCCE}
    return inputs, targets, {"vocab_size": VOCAB}, loss


def _gpt_like(rng):
    return _ids(rng, VOCAB), _ids(rng, VOCAB), {}, SCCE


CASES = {"transformer": _transformer, "bert_like": _bert_like, "gpt_like": _gpt_like}
SHAPES = {
    "transformer": (BATCH, SEQ, VOCAB),
    "bert_like": {"classification": (BATCH, CLASSES), "masked_lm": (BATCH, SEQ, VOCAB)},
    "gpt_like": (BATCH, SEQ, VOCAB),
}


def _numpy(outputs):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)


def _assert_same(a, b):
    keras.tree.map_structure(
        lambda x, y: np.testing.assert_allclose(x, y, atol=1e-5), _numpy(a), _numpy(b)
    )


def test_every_transformer_builder_has_a_case():
    assert set(list_builders("transformer")) == set(CASES)


@pytest.mark.parametrize("name", list_builders("transformer"))
def test_builder_smoke(name, tmp_path):
    inputs, targets, options, loss = CASES[name](np.random.default_rng(0))
    num_classes = CLASSES if name == "bert_like" else VOCAB
    model = get_builder(name)((SEQ,), num_classes, **TINY, **options)
    assert isinstance(model, keras.Model)

    outputs = _numpy(model(inputs, training=False))
    shapes = keras.tree.map_structure(lambda x: x.shape, outputs)
    assert shapes == SHAPES[name]
    keras.tree.map_structure(
        lambda p: np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-5), outputs
    )

    model.compile("sgd", loss)
    assert np.all(np.isfinite(model.train_on_batch(inputs, targets)))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    _assert_same(clone(inputs, training=False), model(inputs, training=False))

    path = tmp_path / f"{name}.keras"
    model.save(path)
    _assert_same(
        keras.models.load_model(path)(inputs, training=False),
        model(inputs, training=False),
    )


@pytest.mark.parametrize("name", list_builders("transformer"))
def test_bad_arguments_name_themselves(name):
    build = get_builder(name)
    options = {"vocab_size": VOCAB} if name == "bert_like" else {}
    with pytest.raises(ValueError, match=r"input_shape=\(6, 2\)"):
        build((SEQ, 2), VOCAB, **options)
    with pytest.raises(ValueError, match="num_heads"):
        build((SEQ,), VOCAB, **{**TINY, "num_heads": 3}, **options)
    with pytest.raises(ValueError, match="num_layers"):
        build((SEQ,), VOCAB, **{**TINY, "num_layers": 0}, **options)
