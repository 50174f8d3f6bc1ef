"""VGG: stacks of 3x3 convs between 2x2 max pools."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.models.options import LayerOptions, classifier
from dltoolkit.models.registry import check_input_size, register

# === Config ===

# (filters, convs) per block: configuration D of the paper.
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def min_input(blocks) -> tuple[int, int]:
    """Each block halves the side (2x2/2 valid pool): 2 ** len(blocks) pixels."""
    side = 2 ** len(blocks)
    return (side, side)


# === Blocks ===


def vgg_block(x, opts: LayerOptions, filters: int, convs: int, name: str):
    """``convs`` 3x3 same convs, then a 2x2/2 max pool."""
    for i in range(1, convs + 1):
        x = opts.conv(x, filters, 3, name=f"{name}_conv{i}")  # (batch, h, w, f)
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)  # (batch, h/2, w/2, f)


# === Generic builder ===


def build_vgg(
    input_shape,
    num_classes,
    *,
    blocks=VGG16_BLOCKS,
    dense_units=(4096, 4096),
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.5,
    batch_norm=False,
    classifier_activation="softmax",
    name="vgg",
):
    """Builds a VGG network from its blocks.

    Args:
        input_shape: ``(height, width, channels)``; each side at least
            ``2 ** len(blocks)``.
        num_classes: output units.
        blocks: ``(filters, convs)`` per block.
        dense_units: widths of the hidden dense layers.
        activation, kernel_initializer, regularizer, regularization, dropout,
            batch_norm: the layer options (see :class:`LayerOptions`); dropout
            follows each hidden dense layer (0.5 in the paper).
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        Simonyan & Zisserman, "Very deep convolutional networks for
        large-scale image recognition", ICLR 2015.
    """
    opts = LayerOptions(
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    check_input_size(name, input_shape, min_input(blocks))

    # === Functional Model ===
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, (filters, convs) in enumerate(blocks, start=1):
        x = vgg_block(x, opts, filters, convs, name=f"block{i}")
    x = layers.Flatten(name="flatten")(x)  # (batch, 7 * 7 * 512) at 224x224
    for i, units in enumerate(dense_units, start=1):
        x = opts.dense(x, units, name=f"fc{i}")
        x = opts.drop(x, name=f"fc{i}_dropout")
    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


# === Named variants ===


@register(
    "vgg16",
    canonical_input=(224, 224, 3),
    canonical_classes=1000,
    published_params=138_357_544,
    min_input=min_input(VGG16_BLOCKS),
)
def build_vgg16(
    input_shape,
    num_classes,
    *,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.5,
    batch_norm=False,
    classifier_activation="softmax",
    name="vgg16",
):
    """Builds VGG-16 (configuration D): 13 3x3 convs and 3 dense layers.

    138,357,544 parameters at 224x224x3 -> 1000 (as ``keras.applications.VGG16``);
    smallest input 32x32.

    Args:
        See :func:`build_vgg`.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        Simonyan & Zisserman, "Very deep convolutional networks for
        large-scale image recognition", ICLR 2015. DSE 3151, "VGGNet
        Architecture (2014)".
    """
    return build_vgg(
        input_shape,
        num_classes,
        blocks=VGG16_BLOCKS,
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
        classifier_activation=classifier_activation,
        name=name,
    )
