"""Architecture details of the CNN builders."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.models import get_builder
from dltoolkit.models.alexnet import (
    ZFNET_CONVS,
    _LocalResponseNorm,
    build_alexnet_like,
    output_size,
)
from dltoolkit.models.resnet import build_resnet


def test_lrn_matches_tensorflow_and_round_trips():
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 16)).astype("float32") * 30
    expected = tf.nn.local_response_normalization(
        x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75
    )
    np.testing.assert_allclose(_LocalResponseNorm()(x), expected, rtol=1e-5)

    model = build_alexnet_like((67, 67, 3), 3, dense_units=(8,), lrn=True)
    names = [layer.name for layer in model.layers]
    assert "conv1_lrn" in names and "conv2_lrn" in names and "conv3_lrn" not in names
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(1).normal(size=(2, 67, 67, 3)).astype("float32")
    np.testing.assert_allclose(clone(x), model(x), atol=1e-6)


def test_zfnet_feature_maps_follow_the_paper():
    model = build_alexnet_like((224, 224, 3), 3, convs=ZFNET_CONVS, dense_units=())
    sides = [
        model.get_layer(n).output.shape[1]
        for n in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "pool5")
    ]
    assert sides == [110, 55, 26, 13, 13, 13, 6]
    assert output_size(ZFNET_CONVS, 224) == 6


def test_googlenet_inception_outputs_follow_table_1():
    model = get_builder("googlenet")((32, 32, 3), 3)
    concats = [layer for layer in model.layers if layer.name.endswith("_concat")]
    channels = [layer.output.shape[-1] for layer in concats]
    assert channels == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert model.get_layer("dropout").rate == 0.4


def test_resnet_always_uses_batch_norm():
    model = build_resnet((32, 32, 3), 3, depth=18, batch_norm=False)
    assert "conv2_block1_1_conv_bn" in [layer.name for layer in model.layers]


def test_resnet_unknown_depth():
    with pytest.raises(ValueError, match="depth=20"):
        build_resnet((32, 32, 3), 3, depth=20)


def test_lenet_pooling_choice():
    avg = get_builder("lenet5")((32, 32, 1), 10)
    keras.backend.clear_session()
    mx = get_builder("lenet5")((32, 32, 1), 10, pooling="max")
    assert isinstance(avg.get_layer("pool1"), keras.layers.AveragePooling2D)
    assert isinstance(mx.get_layer("pool1"), keras.layers.MaxPooling2D)
    assert avg.count_params() == mx.count_params() == 61_706
    with pytest.raises(ValueError, match="pooling"):
        get_builder("lenet5")((32, 32, 1), 10, pooling="sum")
