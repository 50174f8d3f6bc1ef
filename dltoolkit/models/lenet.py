"""LeNet-5."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.models.options import LayerOptions, classifier
from dltoolkit.models.registry import check_input_size, register

# 5x5 valid conv, 2x2 pool, 5x5 valid conv, 2x2 pool: 16 -> 12 -> 6 -> 2 -> 1.
MIN_INPUT = (16, 16)


@register(
    "lenet5",
    canonical_input=(32, 32, 1),
    canonical_classes=10,
    published_params=61_706,
    min_input=MIN_INPUT,
)
def build_lenet5(
    input_shape,
    num_classes,
    *,
    activation="tanh",
    kernel_initializer="glorot_uniform",
    regularizer=None,
    regularization=None,
    dropout=0.0,
    batch_norm=False,
    pooling="avg",
    classifier_activation="softmax",
    name="lenet5",
):
    """Builds LeNet-5: two conv/subsampling stages and three dense layers.

    conv 6@5x5 -> pool 2x2 -> conv 16@5x5 -> pool 2x2 -> dense 120 -> dense 84
    -> ``num_classes``. The defaults follow the paper as the course shows it:
    tanh units (AlexNet is introduced as "ReLU instead of sigmoid and tanh")
    with Glorot initialization (the course pairs Glorot with tanh) and
    average-pooling "subsampling" layers. The trainable coefficients of the
    paper's subsampling layers and its partial S2-C3 connection table are left
    out, as in the usual Keras versions: 61,706 parameters at 32x32x1 -> 10.

    Args:
        input_shape: ``(height, width, channels)``, at least 16x16.
        num_classes: output units.
        activation, kernel_initializer, regularizer, regularization, dropout,
            batch_norm: the layer options (see :class:`LayerOptions`); dropout
            follows each hidden dense layer.
        pooling: ``"avg"`` (the paper's subsampling) or ``"max"``.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to
        document recognition", Proc. IEEE 86(11), 1998. DSE 3151,
        "LeNet-5 Architecture for handwritten number recognition".
    """
    opts = LayerOptions(
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    if pooling not in ("avg", "max"):
        raise ValueError(
            f"pooling must be 'avg' or 'max'. Received: pooling={pooling!r}"
        )
    check_input_size(name, input_shape, MIN_INPUT)
    pool = layers.AveragePooling2D if pooling == "avg" else layers.MaxPooling2D

    # === Functional Model ===
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")  # (b, 32, 32, 1)
    x = opts.conv(inputs, 6, 5, name="conv1", padding="valid")  # (b, 28, 28, 6)
    x = pool(2, name="pool1")(x)  # (b, 14, 14, 6)
    x = opts.conv(x, 16, 5, name="conv2", padding="valid")  # (b, 10, 10, 16)
    x = pool(2, name="pool2")(x)  # (b, 5, 5, 16)
    x = layers.Flatten(name="flatten")(x)  # (b, 400)
    x = opts.dense(x, 120, name="fc1")
    x = opts.drop(x, name="fc1_dropout")
    x = opts.dense(x, 84, name="fc2")
    x = opts.drop(x, name="fc2_dropout")
    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)
