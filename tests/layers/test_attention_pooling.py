"""AttentionPooling: context-vector attention with masks; its masked softmax."""

import keras
import numpy as np
import pytest

from dltoolkit.layers import AttentionPooling
from dltoolkit.layers.attention_pooling import masked_softmax

X = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32")
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_pooling_matches_numpy_and_masks():
    layer = AttentionPooling(units=5)
    pooled, weights = layer(X, mask=MASK, return_attention_scores=True)
    kernel, bias, context = layer.get_weights()
    assert kernel.shape == (6, 5) and context.shape == (5,)
    scores = np.tanh(X @ kernel + bias) @ context
    for row in range(2):
        keep = MASK[row]
        expected = np.exp(scores[row, keep]) / np.exp(scores[row, keep]).sum()
        np.testing.assert_allclose(_numpy(weights)[row, keep], expected, rtol=1e-5)
        np.testing.assert_allclose(
            _numpy(pooled)[row], expected @ X[row, keep], rtol=1e-5, atol=1e-6
        )
    assert np.all(_numpy(weights)[~MASK] == 0.0)
    assert np.all(_numpy(pooled)[2] == 0.0)  # no real step: zero vector
    np.testing.assert_array_equal(
        _numpy(layer.compute_mask(X, MASK)), [True, True, False]
    )


def test_without_mask_is_a_softmax_and_units_default_to_features():
    layer = AttentionPooling()
    pooled = layer(X)
    assert pooled.shape == (3, 6) and layer.context.shape == (6,)


def test_config_round_trip():
    layer = AttentionPooling(units=3, context_initializer="zeros", name="att")
    clone = AttentionPooling.from_config(layer.get_config())
    assert clone.units == 3 and clone.name == "att"
    clone(X)
    np.testing.assert_array_equal(clone.context.numpy(), np.zeros(3))


@pytest.mark.parametrize("units", [0, 2.5, True])
def test_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        AttentionPooling(units=units)


def test_masked_softmax_stays_finite_in_float16():
    scores = np.array([[3.0, -2.0, 60000.0], [1.0, 2.0, 3.0]], dtype="float16")
    mask = np.array([[True, True, False], [False, False, False]])
    weights = _numpy(masked_softmax(keras.ops.convert_to_tensor(scores), mask))
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights[0], [0.9933, 0.0067, 0.0], atol=1e-3)
    assert np.all(weights[1] == 0.0)
