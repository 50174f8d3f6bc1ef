"""ResNet: residual networks with basic and bottleneck blocks."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.models.options import LayerOptions, classifier
from dltoolkit.models.registry import check_input_size, register

# === Config ===

# depth -> (block kind, blocks per stage); stages have 64, 128, 256, 512 filters
# (times 4 at the output of a bottleneck block).
DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
STAGE_FILTERS = (64, 128, 256, 512)
# Every stride-2 layer is padded so that a side of n becomes ceil(n / 2): any
# input of at least one pixel builds.
MIN_INPUT = (1, 1)


# === Blocks ===


def _conv_bn(x, opts, filters, kernel_size, name, *, strides=1, use_bias, act=True):
    """Conv, batch norm (always) and, if ``act``, the activation."""
    return opts.conv(
        x,
        filters,
        kernel_size,
        name=name,
        strides=strides,
        use_bias=use_bias,
        batch_norm=True,
        activate=act,
    )


def _shortcut(x, opts, filters, strides, use_bias, name):
    """Identity, or a 1x1 projection when the shape changes (option B)."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return _conv_bn(
        x,
        opts,
        filters,
        1,
        f"{name}_0_conv",
        strides=strides,
        use_bias=use_bias,
        act=False,
    )


def basic_block(x, opts: LayerOptions, filters, *, strides=1, use_bias=True, name):
    """Two 3x3 convs and a shortcut: ``(b, h, w, c) -> (b, h/s, w/s, filters)``."""
    shortcut = _shortcut(x, opts, filters, strides, use_bias, name)
    x = _conv_bn(
        x, opts, filters, 3, f"{name}_1_conv", strides=strides, use_bias=use_bias
    )
    x = _conv_bn(x, opts, filters, 3, f"{name}_2_conv", use_bias=use_bias, act=False)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return opts.activation_layer(f"{name}_out")(x)


def bottleneck_block(x, opts: LayerOptions, filters, *, strides=1, use_bias=True, name):
    """1x1 reduce, 3x3, 1x1 expand (x4): ``(b, h, w, c) -> (b, h/s, w/s, 4f)``.

    The stride sits on the first 1x1 conv, as in the paper and
    ``keras.applications.ResNet50``.
    """
    shortcut = _shortcut(x, opts, 4 * filters, strides, use_bias, name)
    x = _conv_bn(
        x, opts, filters, 1, f"{name}_1_conv", strides=strides, use_bias=use_bias
    )
    x = _conv_bn(x, opts, filters, 3, f"{name}_2_conv", use_bias=use_bias)
    x = _conv_bn(
        x, opts, 4 * filters, 1, f"{name}_3_conv", use_bias=use_bias, act=False
    )
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return opts.activation_layer(f"{name}_out")(x)


BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}


# === Generic builder ===


def build_resnet(
    input_shape,
    num_classes,
    *,
    depth=50,
    use_bias=True,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.0,
    batch_norm=True,
    classifier_activation="softmax",
    name=None,
):
    """Builds a ResNet (v1) of depth 18, 34, 50, 101 or 152.

    Stem (7x7/2 conv, 3x3/2 max pool), four stages of residual blocks (the
    first block of stages 2-4 halves the side), global average pooling and the
    classifier. Every conv is followed by batch normalization.

    Args:
        input_shape: ``(height, width, channels)``; any side of at least 1.
        num_classes: output units.
        depth: one of :data:`DEPTHS`; 18 and 34 use basic blocks, deeper
            networks bottleneck blocks.
        use_bias: conv biases (redundant before batch norm; kept by
            ``keras.applications``, dropped by torchvision).
        activation, kernel_initializer, regularizer, regularization: the layer
            options (see :class:`LayerOptions`).
        dropout: dropout rate before the classifier (none in the paper).
        batch_norm: has no effect: batch normalization is part of the
            architecture and always on.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name; default ``f"resnet{depth}"``.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        He, Zhang, Ren & Sun, "Deep residual learning for image recognition",
        CVPR 2016. DSE 3151, "ResNet Architecture (2015)".
    """
    if depth not in DEPTHS:
        raise ValueError(
            f"depth must be one of {sorted(DEPTHS)}. Received: depth={depth!r}"
        )
    opts = LayerOptions(
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    name = name or f"resnet{depth}"
    check_input_size(name, input_shape, MIN_INPUT)
    kind, stage_blocks = DEPTHS[depth]
    block_fn = BLOCKS[kind]

    # === Functional Model ===
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")  # (b, 224, 224, 3)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = _conv_bn(
        x, opts, 64, 7, "conv1_conv", strides=2, use_bias=use_bias
    )  # (b, 112, 112, 64)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, 2, name="pool1_pool")(x)  # (b, 56, 56, 64)
    for stage, (filters, blocks) in enumerate(zip(STAGE_FILTERS, stage_blocks)):
        for i in range(1, blocks + 1):
            x = block_fn(
                x,
                opts,
                filters,
                strides=2 if stage > 0 and i == 1 else 1,
                use_bias=use_bias,
                name=f"conv{stage + 2}_block{i}",
            )  # last: (b, 7, 7, 512) basic, (b, 7, 7, 2048) bottleneck
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = opts.drop(x, name="dropout")
    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


# === Named variants ===


@register(
    "resnet18",
    canonical_input=(224, 224, 3),
    canonical_classes=1000,
    published_params=11_689_512,  # torchvision resnet18
    published_counts="trainable",
    min_input=MIN_INPUT,
)
def build_resnet18(
    input_shape,
    num_classes,
    *,
    use_bias=False,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.0,
    batch_norm=True,
    classifier_activation="softmax",
    name="resnet18",
):
    """Builds ResNet-18 (basic blocks 2, 2, 2, 2).

    Without conv biases, as torchvision's ``resnet18``: 11,689,512 trainable
    parameters at 224x224x3 -> 1000.

    Args:
        See :func:`build_resnet`.

    Returns:
        An uncompiled ``keras.Model``.
    """
    return build_resnet(
        input_shape,
        num_classes,
        depth=18,
        use_bias=use_bias,
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
        classifier_activation=classifier_activation,
        name=name,
    )


@register(
    "resnet34",
    canonical_input=(224, 224, 3),
    canonical_classes=1000,
    published_params=21_797_672,  # torchvision resnet34
    published_counts="trainable",
    min_input=MIN_INPUT,
)
def build_resnet34(
    input_shape,
    num_classes,
    *,
    use_bias=False,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.0,
    batch_norm=True,
    classifier_activation="softmax",
    name="resnet34",
):
    """Builds ResNet-34 (basic blocks 3, 4, 6, 3).

    Without conv biases, as torchvision's ``resnet34``: 21,797,672 trainable
    parameters at 224x224x3 -> 1000.

    Args:
        See :func:`build_resnet`.

    Returns:
        An uncompiled ``keras.Model``.
    """
    return build_resnet(
        input_shape,
        num_classes,
        depth=34,
        use_bias=use_bias,
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
        classifier_activation=classifier_activation,
        name=name,
    )


@register(
    "resnet50",
    canonical_input=(224, 224, 3),
    canonical_classes=1000,
    published_params=25_636_712,  # keras.applications.ResNet50
    min_input=MIN_INPUT,
)
def build_resnet50(
    input_shape,
    num_classes,
    *,
    use_bias=True,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.0,
    batch_norm=True,
    classifier_activation="softmax",
    name="resnet50",
):
    """Builds ResNet-50 (bottleneck blocks 3, 4, 6, 3).

    With conv biases, as ``keras.applications.ResNet50``: 25,636,712
    parameters (all weights) at 224x224x3 -> 1000. With ``use_bias=False`` it
    is torchvision's ``resnet50``: 25,557,032 trainable parameters.

    Args:
        See :func:`build_resnet`.

    Returns:
        An uncompiled ``keras.Model``.
    """
    return build_resnet(
        input_shape,
        num_classes,
        depth=50,
        use_bias=use_bias,
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
        classifier_activation=classifier_activation,
        name=name,
    )
