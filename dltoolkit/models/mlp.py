"""Multilayer perceptron."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.models.options import LayerOptions, classifier
from dltoolkit.models.registry import register


@register("mlp", canonical_input=(784,), canonical_classes=10, family="mlp")
def build_mlp(
    input_shape,
    num_classes,
    *,
    hidden_units=(128, 64),
    activation="relu",
    kernel_initializer="he_normal",
    regularizer=None,
    regularization=None,
    dropout=0.0,
    batch_norm=False,
    classifier_activation="softmax",
    name="mlp",
):
    """Builds a fully connected network of any depth and width.

    Inputs of rank > 1 (images) are flattened first.

    Args:
        input_shape: shape of one example, e.g. ``(784,)`` or ``(28, 28, 1)``.
        num_classes: output units.
        hidden_units: width of each hidden layer; ``()`` gives a linear model.
        activation, kernel_initializer, regularizer, regularization, dropout,
            batch_norm: the layer options (see :class:`LayerOptions`).
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        DSE 3151, shallow and deep networks; XOR with one hidden ReLU layer.
    """
    if isinstance(hidden_units, int):
        hidden_units = (hidden_units,)
    hidden_units = tuple(hidden_units)
    if any((not isinstance(u, int)) or u < 1 for u in hidden_units):
        raise ValueError(
            "hidden_units must be positive integers. "
            f"Received: hidden_units={hidden_units}"
        )
    opts = LayerOptions(
        activation=activation,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        regularization=regularization,
        dropout=dropout,
        batch_norm=batch_norm,
    )
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units, start=1):
        x = opts.dense(x, units, name=f"dense_{i}")
        x = opts.drop(x, name=f"dense_{i}_dropout")
    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)
