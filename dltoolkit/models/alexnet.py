"""AlexNet and ZFNet: one generic builder, two conv stacks."""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import layers, ops

from dltoolkit.models.options import LayerOptions, classifier
from dltoolkit.models.registry import check_input_size, register

# === Config ===


class ConvSpec(NamedTuple):
    """One conv layer of an AlexNet-like stack.

    Attributes:
        filters: output channels.
        kernel_size: square kernel side.
        strides: conv stride.
        padding: ``"same"``, ``"valid"``, or an int of explicit zero padding
            on every side (followed by a valid conv).
        pool: None, or the padding (``"valid"`` / ``"same"``) of the 3x3/2
            overlapping max pool after the conv.
        lrn: apply local response normalization after the activation (when
            the builder's ``lrn`` is on).
    """

    filters: int
    kernel_size: int
    strides: int = 1
    padding: str | int = "same"
    pool: str | None = None
    lrn: bool = False


ALEXNET_CONVS = (
    ConvSpec(96, 11, 4, "valid", pool="valid", lrn=True),
    ConvSpec(256, 5, 1, "same", pool="valid", lrn=True),
    ConvSpec(384, 3),
    ConvSpec(384, 3),
    ConvSpec(256, 3, pool="valid"),
)
# Padding chosen to give the paper's figure sizes: 224 -> 110 -> 55 -> 26 -> 13
# -> 13 -> 13 -> 13 -> 6.
ZFNET_CONVS = (
    ConvSpec(96, 7, 2, 1, pool="same", lrn=True),
    ConvSpec(256, 5, 2, "valid", pool="same", lrn=True),
    ConvSpec(384, 3),
    ConvSpec(384, 3),
    ConvSpec(256, 3, pool="valid"),
)
POOL_SIZE, POOL_STRIDES = 3, 2


def _out_size(n: int, kernel: int, strides: int, padding) -> int:
    """Output side of a conv/pool on a side of ``n`` pixels (0: nothing left)."""
    if padding == "same":
        return -(-n // strides)
    n += 2 * padding if isinstance(padding, int) else 0
    return 0 if n < kernel else (n - kernel) // strides + 1


def output_size(convs, n: int) -> int:
    """The side of the last feature map for an input side of ``n``."""
    for spec in convs:
        n = _out_size(n, spec.kernel_size, spec.strides, spec.padding)
        if spec.pool is not None and n > 0:
            n = _out_size(n, POOL_SIZE, POOL_STRIDES, spec.pool)
    return n


def min_input(convs) -> tuple[int, int]:
    """The smallest square input that leaves a non-empty last feature map."""
    n = 1
    while output_size(convs, n) < 1:
        n += 1
    return (n, n)


# === Layers ===


@keras.saving.register_keras_serializable(package="dltoolkit")
class _LocalResponseNorm(layers.Layer):
    """Local response normalization across channels.

    ``b_i = a_i / (bias + alpha * sum_{|j - i| <= depth_radius} a_j^2) ** beta``
    with the AlexNet constants as defaults (n = 5, k = 2, alpha = 1e-4,
    beta = 0.75).
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = depth_radius
        self.bias = bias
        self.alpha = alpha
        self.beta = beta

    def call(self, inputs):
        r, channels = self.depth_radius, inputs.shape[-1]
        squares = ops.pad(ops.square(inputs), [[0, 0]] * 3 + [[r, r]])
        window = sum(squares[..., i : i + channels] for i in range(2 * r + 1))
        return inputs / ops.power(self.bias + self.alpha * window, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "depth_radius": self.depth_radius,
                "bias": self.bias,
                "alpha": self.alpha,
                "beta": self.beta,
            }
        )
        return config


# === Generic builder ===


def build_alexnet_like(
    input_shape,
    num_classes,
    *,
    convs=ALEXNET_CONVS,
    dense_units=(4096, 4096),
    lrn=False,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.5,
    batch_norm=False,
    classifier_activation="softmax",
    name="alexnet_like",
):
    """Builds a single-tower AlexNet-style network from a conv stack.

    Each conv is followed by its activation, LRN (if on) and a 3x3/2
    overlapping max pool where its :class:`ConvSpec` asks; then flatten, the
    dense layers with dropout after each, and the classifier.

    Args:
        input_shape: ``(height, width, channels)``; at least ``min_input(convs)``.
        num_classes: output units.
        convs: the conv stack, a sequence of :class:`ConvSpec`.
        dense_units: widths of the hidden dense layers.
        lrn: local response normalization after the convs marked ``lrn``
            (off by default; batch norm is the modern replacement).
        activation, kernel_initializer, regularizer, regularization, dropout,
            batch_norm: the layer options (see :class:`LayerOptions`); dropout
            follows each hidden dense layer (0.5 in both papers).
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep
        convolutional neural networks", NeurIPS 2012.
    """
    opts = LayerOptions(
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    check_input_size(name, input_shape, min_input(convs))

    # === Functional Model ===
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, spec in enumerate(convs, start=1):
        padding = spec.padding
        if isinstance(padding, int):
            x = layers.ZeroPadding2D(padding, name=f"conv{i}_pad")(x)
            padding = "valid"
        x = opts.conv(
            x,
            spec.filters,
            spec.kernel_size,
            name=f"conv{i}",
            strides=spec.strides,
            padding=padding,
        )  # (batch, h, w, filters)
        if lrn and spec.lrn:
            x = _LocalResponseNorm(name=f"conv{i}_lrn")(x)
        if spec.pool is not None:
            x = layers.MaxPooling2D(
                POOL_SIZE, POOL_STRIDES, padding=spec.pool, name=f"pool{i}"
            )(x)
    x = layers.Flatten(name="flatten")(x)  # (batch, h * w * c)
    for i, units in enumerate(dense_units, start=len(convs) + 1):
        x = opts.dense(x, units, name=f"fc{i}")
        x = opts.drop(x, name=f"fc{i}_dropout")
    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


# === Named variants ===


@register(
    "alexnet",
    canonical_input=(227, 227, 3),
    canonical_classes=1000,
    published_params=62_378_344,
    min_input=min_input(ALEXNET_CONVS),
)
def build_alexnet(
    input_shape,
    num_classes,
    *,
    lrn=False,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.5,
    batch_norm=False,
    classifier_activation="softmax",
    name="alexnet",
):
    """Builds AlexNet as one tower (the two GPU halves merged).

    conv 96@11x11/4 -> pool -> conv 256@5x5 -> pool -> conv 384, 384, 256 @3x3
    -> pool -> dense 4096, 4096 -> ``num_classes``; 62,378,344 parameters at
    227x227x3 -> 1000. Smallest input: 67x67.

    Args:
        See :func:`build_alexnet_like`.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep
        convolutional neural networks", NeurIPS 2012. DSE 3151,
        "AlexNet Architecture".
    """
    return build_alexnet_like(
        input_shape,
        num_classes,
        convs=ALEXNET_CONVS,
        lrn=lrn,
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
    "zfnet",
    canonical_input=(224, 224, 3),
    canonical_classes=1000,
    published_params=None,  # the paper gives no exact count (about 62.4M)
    min_input=min_input(ZFNET_CONVS),
)
def build_zfnet(
    input_shape,
    num_classes,
    *,
    lrn=False,
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.5,
    batch_norm=False,
    classifier_activation="softmax",
    name="zfnet",
):
    """Builds ZFNet: AlexNet with a 7x7/2 first conv and a 5x5/2 second conv.

    Feature maps follow the paper's figure at 224x224: 110, 55, 26, 13, 13,
    13, 13, 6; 62,357,608 parameters at 224x224x3 -> 1000. Smallest input:
    53x53.

    Args:
        See :func:`build_alexnet_like`.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        Zeiler & Fergus, "Visualizing and understanding convolutional
        networks", ECCV 2014. DSE 3151, "ZFNet Architecture (2013)".
    """
    return build_alexnet_like(
        input_shape,
        num_classes,
        convs=ZFNET_CONVS,
        lrn=lrn,
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
        classifier_activation=classifier_activation,
        name=name,
    )
