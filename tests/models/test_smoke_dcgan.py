"""The "dcgan" family: smoke test, the DCGAN architecture guidelines, sizes."""

import keras
import numpy as np
import pytest
from keras import layers

from dltoolkit.models import get_builder, list_builders
from dltoolkit.models.dcgan import dcgan_stages

SHAPE = (16, 16, 1)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _build(name, shape=SHAPE, **options):
    return get_builder(name)(shape, width=4, **options)


def _input(name, model, batch=2):
    rng = np.random.default_rng(0)
    if name == "dcgan_generator":
        return rng.normal(size=(batch, model.input.shape[-1])).astype("float32")
    return rng.uniform(-1, 1, size=(batch, *model.input.shape[1:])).astype("float32")


def test_family_is_registered():
    assert list_builders("dcgan") == ["dcgan_discriminator", "dcgan_generator"]


@pytest.mark.parametrize("name", list_builders("dcgan"))
def test_builder_smoke(name, tmp_path):
    model = _build(name)
    x = _input(name, model)
    out = _np(model(x, training=False))
    expected = (2, *SHAPE) if name == "dcgan_generator" else (2, 1)
    assert out.shape == expected and np.all(np.isfinite(out))

    target = np.zeros(expected, "float32")
    model.compile("adam", "mse")
    assert np.isfinite(model.train_on_batch(x, target))
    expected_out = _np(model(x, training=False))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(clone(x, training=False)), expected_out, atol=1e-6)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        _np(reloaded(x, training=False)), expected_out, atol=1e-6
    )


@pytest.mark.parametrize(
    "size, stages, start", [(8, 1, 4), (16, 2, 4), (28, 2, 7), (32, 3, 4), (64, 4, 4)]
)
def test_stages_follow_the_image_size(size, stages, start):
    assert dcgan_stages(size, size) == stages
    assert size // 2**stages == start


@pytest.mark.parametrize("shape", [(16, 16, 1), (28, 28, 1), (32, 32, 3), (16, 32, 3)])
def test_generator_output_and_guidelines(shape):
    gen = _build("dcgan_generator", shape, latent_dim=5)
    assert gen.input.shape == (None, 5) and gen.output.shape == (None, *shape)
    images = _np(gen(np.random.default_rng(1).normal(size=(3, 5)) * 10))
    assert images.min() >= -1.0 and images.max() <= 1.0  # tanh
    kinds = [type(layer) for layer in gen.layers]
    stages = dcgan_stages(shape[0], shape[1])
    # Fractional-strided convolutions only; the projection of z is the one Dense.
    deconvs = [lay for lay in gen.layers if isinstance(lay, layers.Conv2DTranspose)]
    assert len(deconvs) == stages and all(d.strides == (2, 2) for d in deconvs)
    assert kinds.count(layers.Dense) == 1 and gen.layers[1].name == "project"
    assert not any(
        isinstance(lay, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D))
        and not isinstance(lay, layers.Conv2DTranspose)
        for lay in gen.layers
    )
    # Batch norm and ReLU after the projection and every hidden layer; tanh out.
    assert kinds.count(layers.BatchNormalization) == stages
    assert kinds.count(layers.ReLU) == stages
    assert gen.layers[-1].get_config()["activation"] == "tanh"
    # Filters halve as the side doubles.
    first = gen.get_layer("project_reshape").output.shape
    assert first[1:3] == (shape[0] // 2**stages, shape[1] // 2**stages)
    assert first[3] == 4 * 2 ** (stages - 1)


@pytest.mark.parametrize("shape", [(16, 16, 1), (28, 28, 1), (32, 32, 3)])
def test_discriminator_guidelines(shape):
    disc = _build("dcgan_discriminator", shape)
    stages = dcgan_stages(shape[0], shape[1])
    convs = [lay for lay in disc.layers if isinstance(lay, layers.Conv2D)]
    assert len(convs) == stages and all(c.strides == (2, 2) for c in convs)
    kinds = [type(layer) for layer in disc.layers]
    assert kinds.count(layers.LeakyReLU) == stages
    assert kinds.count(layers.BatchNormalization) == stages - 1  # none on the input
    assert kinds.count(layers.Dense) == 1 and disc.layers[-1].name == "logit"
    assert not any("Pooling" in kind.__name__ for kind in kinds)
    assert disc.get_layer("down1_lrelu").negative_slope == pytest.approx(0.2)
    assert [c.filters for c in convs] == [4 * 2**i for i in range(stages)]


@pytest.mark.parametrize(
    "name, shape, options, match",
    [
        ("dcgan_generator", (15, 15, 1), {}, "power-of-two multiple"),
        ("dcgan_generator", (16, 16, 1), {"stages": 5}, "power-of-two multiple"),
        ("dcgan_discriminator", (4, 4, 1), {}, "power-of-two multiple"),
        ("dcgan_generator", (16, 16, 2), {}, "1 or 3 channels"),
        ("dcgan_discriminator", (16, 16), {}, r"image_shape=\(16, 16\)"),
        ("dcgan_generator", SHAPE, {"latent_dim": 0}, "latent_dim"),
        ("dcgan_generator", SHAPE, {"kernel_size": 0}, "kernel_size"),
        ("dcgan_discriminator", SHAPE, {"leaky_slope": 1.5}, "leaky_slope"),
    ],
)
def test_bad_arguments_are_named(name, shape, options, match):
    with pytest.raises(ValueError, match=match):
        _build(name, shape, **options)
