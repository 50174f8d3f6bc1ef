"""Every registered builder: smoke test, input-size checks, layer options."""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from dltoolkit.models import builder_info, get_builder, list_builders
from dltoolkit.models.options import (
    ACTIVATIONS,
    DEFAULT_REGULARIZATION,
    INITIALIZERS,
    REGULARIZERS,
)

NUM_CLASSES = 3
CNNS = list_builders("cnn")
OPTION_BUILDERS = list_builders("mlp") + CNNS
# Families with other inputs (tokens, sequences, pairs) have their own smoke
# test, tests/models/test_smoke_<family>.py, over list_builders(family).
IMAGE_FAMILIES = ("mlp", "cnn")


def _smoke_shape(name):
    """A tiny input shape the builder accepts."""
    info = builder_info(name)
    if info.family == "mlp":
        return (8,)
    if info.family == "cnn":
        h, w = info.min_input or (32, 32)
        return (max(h, 32), max(w, 32), 3)
    pytest.fail(f"No smoke input for family {info.family!r}: add one here.")


# === Smoke test ===


def test_every_family_has_a_smoke_test():
    here = Path(__file__).parent
    for name in list_builders():
        family = builder_info(name).family
        if family not in IMAGE_FAMILIES:
            assert (here / f"test_smoke_{family}.py").is_file(), name


@pytest.mark.parametrize("name", OPTION_BUILDERS)
def test_builder_smoke(name):
    shape = _smoke_shape(name)
    model = get_builder(name)(shape, NUM_CLASSES)
    assert isinstance(model, keras.Model)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    y = np.array([0, 2])

    probs = keras.ops.convert_to_numpy(model(x, training=False))
    assert probs.shape == (2, NUM_CLASSES)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)

    model.compile("sgd", "sparse_categorical_crossentropy")
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)

    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(clone(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        atol=1e-5,
    )


# === Registry errors ===


def test_unknown_builder_lists_known_names():
    with pytest.raises(ValueError, match="Known builders:.*lenet5.*vgg16"):
        get_builder("lenet6")


@pytest.mark.parametrize("name", CNNS)
def test_min_input_is_the_smallest_accepted(name, monkeypatch):
    info = builder_info(name)
    h, w = info.min_input
    build = info.fn
    assert build((h, w, 3), NUM_CLASSES).output.shape == (None, NUM_CLASSES)
    keras.backend.clear_session()
    for smaller in ((h - 1, w, 3), (h, w - 1, 3)):
        with pytest.raises(ValueError, match=f"at least {h}x{w} pixels"):
            build(smaller, NUM_CLASSES)
    if min(h, w) > 1:
        # Without the check, one pixel less leaves an empty feature map.
        module = sys.modules[build.__module__]
        monkeypatch.setattr(module, "check_input_size", lambda *args: None)
        with pytest.raises(ValueError, match="zero or negative"):
            build((h - 1, w - 1, 3), NUM_CLASSES)


def test_non_image_input_is_rejected():
    with pytest.raises(ValueError, match=r"input_shape=\(32, 32\)"):
        get_builder("vgg16")((32, 32), NUM_CLASSES)


@pytest.mark.parametrize("name", OPTION_BUILDERS)
@pytest.mark.parametrize(
    "argument, value",
    [
        ("activation", "nope"),
        ("dropout", 1.5),
        ("regularizer", "l3"),
        ("kernel_initializer", "zeros_please"),
    ],
)
def test_bad_option_names_the_argument(name, argument, value):
    shape = _smoke_shape(name)
    with pytest.raises(ValueError, match=argument):
        get_builder(name)(shape, NUM_CLASSES, **{argument: value})


# === Layer options on LeNet-5 ===


def _lenet(**options):
    return get_builder("lenet5")((16, 16, 1), NUM_CLASSES, **options)


def _run(model):
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 1)).astype("float32")
    out = keras.ops.convert_to_numpy(model(x, training=True))
    assert out.shape == (2, NUM_CLASSES)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_builds(activation):
    model = _lenet(activation=activation)
    _run(model)
    assert model.get_layer(f"conv1_{activation}") is not None


@pytest.mark.parametrize("initializer", sorted(INITIALIZERS))
def test_every_initializer_builds(initializer):
    model = _lenet(kernel_initializer=initializer)
    _run(model)
    expected = type(keras.initializers.get(INITIALIZERS[initializer]))
    assert isinstance(model.get_layer("conv1").kernel_initializer, expected)


@pytest.mark.parametrize("regularizer", REGULARIZERS)
def test_every_regularizer_builds(regularizer):
    model = _lenet(regularizer=regularizer)
    _run(model)
    conv = model.get_layer("conv1")
    if regularizer == "max_norm":
        assert conv.kernel_constraint.max_value == DEFAULT_REGULARIZATION["max_norm"]
    else:
        assert conv.kernel_regularizer is not None
        # Two convs and two hidden dense layers; the classifier is not penalized.
        assert len(model.losses) == 4


def test_dropout_and_batch_norm_add_layers():
    names = [layer.name for layer in _lenet(dropout=0.3, batch_norm=True).layers]
    assert {"conv1_bn", "fc1_bn", "fc1_dropout", "fc2_dropout"} <= set(names)
    plain = [layer.name for layer in _lenet().layers]
    assert not any(n.endswith(("_bn", "_dropout")) for n in plain)


def test_rrelu_random_in_training_mean_at_inference():
    layer = _lenet(activation="rrelu").get_layer("conv1_rrelu")
    lower, upper = layer.lower, layer.upper
    x = -np.ones((4, 256), dtype="float32")
    slopes = keras.ops.convert_to_numpy(layer(x, training=True)) / x
    assert lower <= slopes.min() and slopes.max() <= upper
    assert slopes.std() > 0.01  # a random slope per element
    inference = keras.ops.convert_to_numpy(layer(x, training=False)) / x
    np.testing.assert_allclose(inference, (lower + upper) / 2, rtol=1e-6)
    positive = keras.ops.convert_to_numpy(layer(-x, training=True))
    np.testing.assert_array_equal(positive, -x)
