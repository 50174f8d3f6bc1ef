"""GoogLeNet (Inception v1)."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.models.options import LayerOptions, classifier
from dltoolkit.models.registry import check_input_size, register

# === Config ===

# Table 1 of the paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
# "pool" marks the 3x3/2 max pool between stages.
INCEPTION_V1 = (
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    "pool",
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    "pool",
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
)
# Every conv and pool pads "same" and the head pools globally, so any input
# side of at least one pixel builds.
MIN_INPUT = (1, 1)


# === Blocks ===


def inception_block(x, opts: LayerOptions, filters, name: str):
    """The inception module with 1x1 reductions: four branches, concatenated.

    Args:
        x: input tensor ``(batch, h, w, c)``.
        opts: the layer options.
        filters: ``(1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj)``.
        name: prefix of the layer names.

    Returns:
        ``(batch, h, w, 1x1 + 3x3 + 5x5 + pool proj)``.
    """
    f1, f3r, f3, f5r, f5, fp = filters
    b1 = opts.conv(x, f1, 1, name=f"{name}_1x1")
    b3 = opts.conv(x, f3r, 1, name=f"{name}_3x3_reduce")
    b3 = opts.conv(b3, f3, 3, name=f"{name}_3x3")
    b5 = opts.conv(x, f5r, 1, name=f"{name}_5x5_reduce")
    b5 = opts.conv(b5, f5, 5, name=f"{name}_5x5")
    bp = layers.MaxPooling2D(3, 1, padding="same", name=f"{name}_pool")(x)
    bp = opts.conv(bp, fp, 1, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def _pool(x, name: str):
    return layers.MaxPooling2D(3, 2, padding="same", name=name)(x)


# === Builder ===


@register(
    "googlenet",
    canonical_input=(224, 224, 3),
    canonical_classes=1000,
    published_params=6_800_000,  # approximate: the paper's "6.8M" (Table 1)
    min_input=MIN_INPUT,
)
def build_googlenet(
    input_shape,
    num_classes,
    *,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.4,
    batch_norm=False,
    classifier_activation="softmax",
    name="googlenet",
):
    """Builds GoogLeNet (Inception v1) without the auxiliary classifiers.

    Stem (7x7/2 conv, pool, 1x1 and 3x3 convs, pool), nine inception modules
    with the filter counts of Table 1, global average pooling, dropout and the
    classifier. Local response normalization in the stem is left out (batch
    norm is available as an option). About 7.0M parameters at 224x224x3 ->
    1000; the paper's Table 1 sums to 6.8M (it omits biases and counts in units
    of 1024). Every layer pads "same", so any input of at least 1x1 builds.

    Args:
        input_shape: ``(height, width, channels)``.
        num_classes: output units.
        activation, kernel_initializer, regularizer, regularization, dropout,
            batch_norm: the layer options (see :class:`LayerOptions`); dropout
            (0.4 in the paper) comes before the classifier.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        Szegedy et al., "Going deeper with convolutions", CVPR 2015. DSE 3151,
        "GoogleNet Architecture (2014)".
    """
    opts = LayerOptions(
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    check_input_size(name, input_shape, MIN_INPUT)

    # === Functional Model ===
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")  # (b, 224, 224, 3)
    x = opts.conv(inputs, 64, 7, name="conv1", strides=2)  # (b, 112, 112, 64)
    x = _pool(x, name="pool1")  # (b, 56, 56, 64)
    x = opts.conv(x, 64, 1, name="conv2_reduce")
    x = opts.conv(x, 192, 3, name="conv2")  # (b, 56, 56, 192)
    x = _pool(x, name="pool2")  # (b, 28, 28, 192)
    stage = 3
    for (
        entry
    ) in INCEPTION_V1:  # (b, 28, 28, 480) -> (b, 14, 14, 832) -> (b, 7, 7, 1024)
        if entry == "pool":
            x = _pool(x, name=f"pool{stage}")
            stage += 1
            continue
        block, filters = entry
        x = inception_block(x, opts, filters, name=f"inception_{block}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (b, 1024)
    x = opts.drop(x, name="dropout")
    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)
