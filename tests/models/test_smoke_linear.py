"""The "linear" family: NB-weighted logistic regression on sparse features."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.layers import ScaledDense
from dltoolkit.models import get_builder, list_builders

FEATURES = 6
SCALE = np.array([0.0, 1.0, -2.0, 0.5, 3.0, -1.0], "float32")


def _sparse(dense):
    return tf.sparse.from_dense(tf.constant(dense, tf.float32))


def _features(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((4, FEATURES)) < 0.5).astype("float32")


@pytest.mark.parametrize("name", list_builders("linear"))
def test_builder_smoke(name, tmp_path):
    model = get_builder(name)((FEATURES,), 2, scale=SCALE, l2=1e-3)
    x = _features()
    probs = keras.ops.convert_to_numpy(model(_sparse(x)))
    # Kernel and bias start at zero: every class equally likely.
    np.testing.assert_allclose(probs, 0.5)
    model.compile(
        optimizer=keras.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy"
    )
    y = np.array([0, 1, 1, 0])
    ds = tf.data.Dataset.from_tensor_slices((_sparse(x), y)).batch(4)
    model.fit(ds, epochs=3, verbose=0)
    trained = keras.ops.convert_to_numpy(model(_sparse(x)))
    assert not np.allclose(trained, 0.5)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reloaded(_sparse(x))), trained, atol=1e-6
    )
    np.testing.assert_array_equal(
        reloaded.get_layer("scaled_dense").scale.numpy(), SCALE
    )


def test_scaled_dense_is_logistic_regression_on_scaled_features():
    layer = ScaledDense(2, activation="softmax")
    x = _features(1)
    layer(_sparse(x))  # builds
    layer.set_scale(SCALE)
    rng = np.random.default_rng(2)
    kernel, bias = rng.normal(size=(FEATURES, 2)), rng.normal(size=2)
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    logits = (x * SCALE) @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(layer(_sparse(x)).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), expected, rtol=1e-5)


def test_dropout_and_l2_act_in_training_only():
    layer = ScaledDense(1, dropout=0.5, l2=0.1)
    x = np.ones((1000, FEATURES), "float32")
    layer(_sparse(x))
    layer.kernel.assign(np.ones((FEATURES, 1)))
    inference = layer(_sparse(x)).numpy()
    np.testing.assert_allclose(inference, FEATURES)
    kept = layer(_sparse(x), training=True).numpy()
    # Each kept feature is scaled by 2: the mean stays, single rows vary.
    assert abs(kept.mean() - FEATURES) < 0.3 and kept.std() > 1
    assert float(sum(layer.losses)) == pytest.approx(0.1 * FEATURES)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(units=0), "units must be a positive integer"),
        (dict(units=2, dropout=1.0), "dropout must be in"),
        (dict(units=2, l2=-1.0), "l2 must be >= 0"),
    ],
)
def test_bad_layer_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScaledDense(**kwargs)


def test_bad_builder_arguments():
    build = get_builder("nb_logistic_regression")
    with pytest.raises(ValueError, match="input_shape"):
        build((None,), 2)
    with pytest.raises(ValueError, match="scale must have shape"):
        build((FEATURES,), 2, scale=SCALE[:3])
    with pytest.raises(ValueError, match="classifier_activation"):
        build((FEATURES,), 2, classifier_activation="tanh")
