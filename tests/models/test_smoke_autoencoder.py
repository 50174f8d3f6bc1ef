"""The "autoencoder" family (autoencoders and the VAE): build, train step,
config and file round trips."""

import keras
import numpy as np
import pytest

from dltoolkit.models import builder_info, get_builder, list_builders

SHAPE = (8, 8, 1)


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("name", list_builders("autoencoder"))
def test_builder_smoke(name, tmp_path):
    model = get_builder(name)(SHAPE)
    x = np.random.default_rng(0).random((4, *SHAPE)).astype("float32")
    out = _np(model(x, training=False))
    assert out.shape == (4, *SHAPE)
    assert np.all((out >= 0) & (out <= 1))  # sigmoid reconstructions

    if name == "vae":
        model.compile("adam")
        logs = model.train_on_batch(x, x, return_dict=True)
        assert set(logs) == {"loss", "reconstruction", "kl", "mse"}
        assert np.isfinite(logs["loss"])
    else:
        model.compile("adam", "mse")
        assert np.isfinite(model.train_on_batch(x, x))
    expected = _np(model(x, training=False))

    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(clone(x, training=False)), expected, atol=1e-6)

    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert reloaded.count_params() == model.count_params()
    np.testing.assert_allclose(_np(reloaded(x, training=False)), expected, atol=1e-6)


@pytest.mark.parametrize("name", list_builders("autoencoder"))
def test_num_classes_is_refused(name):
    with pytest.raises(ValueError, match="num_classes=None"):
        get_builder(name)(SHAPE, 10)


def test_family_members():
    assert set(list_builders("autoencoder")) >= {
        "autoencoder",
        "undercomplete_autoencoder",
        "overcomplete_autoencoder",
        "tied_autoencoder",
        "denoising_autoencoder",
        "sparse_autoencoder",
        "contractive_autoencoder",
        "conv_autoencoder",
        "vae",
    }
    assert builder_info("conv_autoencoder").min_input == (4, 4)
