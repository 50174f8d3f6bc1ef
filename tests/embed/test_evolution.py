"""ActivationEvolution: t-SNE of hidden activations after each epoch."""

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from dltoolkit.embed import ActivationEvolution, tsne
from dltoolkit.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def few_digits():
    data = load_digits()
    keep = data.target < 4
    return data.data[keep][:120] / 16.0, data.target[keep][:120]


def _mlp():
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dense(4, activation="softmax", name="out"),
        ]
    )


def test_tiny_mlp_two_epochs(tmp_path, few_digits):
    x, y = few_digits
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    path = tmp_path / "evo" / "hidden.png"
    cb = ActivationEvolution(
        "hidden", x[:60], y[:60], path=path, perplexity=10.0, n_iter=300
    )
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])

    assert cb.epochs == [0, 1, 2]
    saved = np.load(tmp_path / "evo" / "hidden.npz")
    np.testing.assert_array_equal(saved["epochs"], [0, 1, 2])
    assert saved["embeddings"].shape == (3, 60, 2)
    np.testing.assert_array_equal(saved["labels"], y[:60])
    np.testing.assert_allclose(saved["kl_divergence"], cb.kl_divergences)
    # The last frame is the t-SNE of the final hidden activations, started
    # from the previous frame without exaggeration.
    features = keras.Model(model.inputs, model.get_layer("hidden").output)
    acts = features.predict(x[:60], verbose=0)
    expected = tsne(
        acts,
        perplexity=10.0,
        n_iter=300,
        init=saved["embeddings"][1],
        exaggeration_iter=0,
    )
    np.testing.assert_allclose(
        saved["embeddings"][2], expected.embedding, rtol=1e-5, atol=1e-6
    )
    with Image.open(path) as image:
        width, height = image.size
    assert width > 2.5 * height  # a row of three panels


def test_every_and_no_initial_frame(tmp_path, few_digits):
    x, y = few_digits
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = ActivationEvolution(
        "hidden",
        x[:40],
        None,
        every=2,
        include_initial=False,
        path=tmp_path / "a.png",
        perplexity=5.0,
        n_iter=100,
        backend="tensorflow",
    )
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    assert cb.epochs == [2]
    assert "labels" not in np.load(tmp_path / "a.npz")


def test_single_class_is_refused(few_digits):
    x, y = few_digits
    with pytest.raises(DataError, match=r"y holds a single class \(3\): .* or y=None"):
        ActivationEvolution("hidden", x[:40], np.full(40, 3), perplexity=5.0)
    with pytest.raises(DataError, match="single class"):
        ActivationEvolution(
            "hidden", x[:40], np.eye(4)[np.zeros(40, int)], perplexity=5.0
        )


def test_bad_inputs(tmp_path, few_digits):
    x, y = few_digits
    with pytest.raises(DataError, match="got 20 points with perplexity 30"):
        ActivationEvolution("hidden", x[:20], y[:20])
    with pytest.raises(DataError, match="x has 40 samples but y has 39 labels"):
        ActivationEvolution("hidden", x[:40], y[:39], perplexity=5.0)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = ActivationEvolution(
        "hiden", x[:40], y[:40], path=tmp_path / "b.png", perplexity=5.0
    )
    with pytest.raises(
        ConfigError, match="No layer named 'hiden' .* Layers: hidden, out"
    ):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])


def test_nan_activations_name_the_epoch(tmp_path, few_digits):
    x, y = few_digits
    bad = x[:40].copy()
    bad[3, 5] = np.nan  # a linear layer carries it into the activations
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(8, name="linear"),
            keras.layers.Dense(4),
        ]
    )
    model.compile("adam", "mse")
    cb = ActivationEvolution(
        "linear", bad, y[:40], path=tmp_path / "c.png", perplexity=5.0
    )
    with pytest.raises(
        DataError, match=r"epoch 0: activations of layer 'linear': .*NaN"
    ):
        model.fit(x, np.eye(4)[y], epochs=1, verbose=0, callbacks=[cb])
