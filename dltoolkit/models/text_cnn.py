"""1D convolutional text classifier (Kim 2014), with masked max-over-time pooling."""

from __future__ import annotations

import keras
from keras import layers, ops

from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register


def _check_positive_int(argument: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{argument} must be a positive integer. Received: {argument}={value!r}"
        )


def _masked_max(x, mask):
    """Max over time of ``x`` (B, T, F) at the steps where ``mask`` (B, T) is
    True; 0 for a row with no valid step.
    """
    valid = ops.expand_dims(mask, -1)  # (B, T, 1)
    pooled = ops.max(ops.where(valid, x, -1e9), axis=1)  # (B, F)
    return ops.where(ops.any(valid, axis=1), pooled, 0.0)


@register("text_cnn", family="text_cnn")
def build_text_cnn(
    input_shape,
    num_classes,
    *,
    vocab_size=None,
    embedding_dim=128,
    filters=100,
    kernel_sizes=(3, 4, 5),
    conv_layers=1,
    activation="relu",
    dropout=0.5,
    classifier_activation="softmax",
    name="text_cnn",
):
    """Builds a convolutional sentence classifier over token ids.

    Each kernel size gets a branch of ``conv_layers`` stacked 1D convolutions
    (``"same"`` padding, so any length >= 1 works); each branch is max-pooled
    over time, ignoring padding (id 0), and the pooled features are
    concatenated, dropped out and classified. Stacking widens the window a
    filter sees (``conv_layers * (k - 1) + 1`` tokens).

    Args:
        input_shape: ``(seq_len,)`` of token ids; ``seq_len`` may be None.
        num_classes: output units.
        vocab_size: number of token ids, padding id 0 included. Required.
        embedding_dim: word embedding width.
        filters: feature maps per kernel size.
        kernel_sizes: window widths, one branch each.
        conv_layers: convolutions stacked in each branch.
        activation: convolution activation.
        dropout: rate on the pooled features.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``: ids ``(batch, seq_len)`` to
        ``(batch, num_classes)``.

    References:
        Kim, "Convolutional Neural Networks for Sentence Classification",
        EMNLP 2014 (filter windows 3, 4, 5 with 100 maps each, dropout 0.5).
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 1 or not (
        input_shape[0] is None
        or (isinstance(input_shape[0], int) and input_shape[0] >= 1)
    ):
        raise ValueError(
            "text_cnn expects input_shape=(seq_len,) of token ids (seq_len may be "
            f"None). Received: input_shape={input_shape}"
        )
    if vocab_size is None:
        raise ValueError(
            "text_cnn needs vocab_size (token ids in [0, vocab_size), 0 = padding). "
            "Received: vocab_size=None"
        )
    for argument, value in (
        ("vocab_size", vocab_size),
        ("embedding_dim", embedding_dim),
        ("filters", filters),
        ("conv_layers", conv_layers),
    ):
        _check_positive_int(argument, value)
    kernel_sizes = tuple(kernel_sizes)
    if not kernel_sizes:
        raise ValueError("kernel_sizes needs at least one size. Received: ()")
    for size in kernel_sizes:
        _check_positive_int("kernel_sizes", size)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")

    # === Functional Model ===
    ids = keras.Input(shape=input_shape, dtype="int32", name="tokens")
    mask = ops.not_equal(ids, 0)  # (B, T)
    x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(ids)  # (B,T,E)
    pooled = []
    for size in kernel_sizes:
        h = x
        for depth in range(1, conv_layers + 1):
            h = layers.Conv1D(
                filters,
                size,
                padding="same",
                activation=activation,
                name=f"conv{size}_{depth}",
            )(h)  # (B, T, filters)
        pooled.append(_masked_max(h, mask))  # (B, filters)
    h = pooled[0] if len(pooled) == 1 else layers.Concatenate(name="pooled")(pooled)
    if dropout > 0:
        h = layers.Dropout(dropout, name="dropout")(h)
    outputs = classifier(h, num_classes, classifier_activation=classifier_activation)
    return keras.Model(ids, outputs, name=name)
