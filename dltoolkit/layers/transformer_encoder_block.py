"""Transformer encoder block: self-attention and a feed-forward network."""

from __future__ import annotations

import keras
from keras import layers


def check_block_args(num_heads, d_ff, dropout) -> None:
    """Raises ValueError naming the first bad block argument."""
    for argument, value in (("num_heads", num_heads), ("d_ff", d_ff)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{argument} must be a positive integer. Received: {argument}={value!r}"
            )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")


def check_heads(d_model, num_heads) -> None:
    """The model width must split evenly over the heads."""
    if d_model is None or d_model % num_heads:
        raise ValueError(
            "The model width must be a multiple of num_heads. "
            f"Received: d_model={d_model}, num_heads={num_heads}"
        )


def attend(attention, query, value, *, return_attention_scores, **kwargs):
    """Calls a ``MultiHeadAttention``; returns ``(outputs, scores or None)``.

    The weights are only materialized when asked for, so the fused attention
    kernel is used otherwise.
    """
    if return_attention_scores:
        return attention(query, value, return_attention_scores=True, **kwargs)
    return attention(query, value, **kwargs), None


def residual(x, sublayer, norm, dropout, *, norm_first, training):
    """Post-norm ``norm(x + f(x))`` or pre-norm ``x + f(norm(x))``.

    ``sublayer`` returns ``(outputs, extra)``; returns ``(x, extra)``.
    """
    h, extra = sublayer(norm(x) if norm_first else x)
    x = x + dropout(h, training=training)
    return (x if norm_first else norm(x)), extra


@keras.saving.register_keras_serializable(package="dltoolkit")
class TransformerEncoderBlock(keras.layers.Layer):
    """One encoder layer: multi-head self-attention, then a feed-forward net.

    ``(batch, time, d_model) -> (batch, time, d_model)``. Each sublayer has a
    residual connection and layer normalization, either after the sum
    (post-norm, ``LayerNorm(x + Sublayer(x))``, the paper) or before the
    sublayer (pre-norm, ``x + Sublayer(LayerNorm(x))``, GPT-2 and most later
    models; put a final ``LayerNormalization`` after a pre-norm stack). The
    feed-forward net is ``Dense(d_ff, activation)`` then ``Dense(d_model)``.
    Each head has size ``d_model // num_heads``.

    Call arguments:
        inputs: ``(batch, time, d_model)``.
        padding_mask: optional ``(batch, time)``, true (or 1) for real tokens:
            no position attends to padding.
        return_attention_scores: also return the attention weights
            ``(batch, num_heads, time, time)``.

    Args:
        num_heads: number of attention heads.
        d_ff: width of the feed-forward hidden layer.
        dropout: rate on the attention weights and on each sublayer's output.
        norm_first: pre-norm if True, post-norm if False.
        activation: activation of the feed-forward hidden layer.
        layer_norm_epsilon: epsilon of the layer normalizations.

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Section 3.1 and
        3.3. Xiong et al., "On Layer Normalization in the Transformer
        Architecture", 2020 (pre-norm). DSE 3151, "Transformers: Encoder".
    """

    def __init__(
        self,
        num_heads,
        d_ff,
        dropout=0.0,
        norm_first=False,
        activation="relu",
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_block_args(num_heads, d_ff, dropout)
        self.num_heads = num_heads
        self.d_ff = d_ff
        self.dropout = float(dropout)
        self.norm_first = bool(norm_first)
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.attention_dropout = layers.Dropout(self.dropout)
        self.ffn_dropout = layers.Dropout(self.dropout)

    def build(self, inputs_shape):
        d_model = inputs_shape[-1]
        check_heads(d_model, self.num_heads)
        self.self_attention = layers.MultiHeadAttention(
            self.num_heads,
            d_model // self.num_heads,
            dropout=self.dropout,
            name="self_attention",
        )
        self.self_attention.build(inputs_shape, inputs_shape)
        self.attention_norm = layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="self_attention_norm"
        )
        self.attention_norm.build(inputs_shape)
        self.ffn_inner = layers.Dense(
            self.d_ff, activation=self.activation, name="ffn_inner"
        )
        self.ffn_inner.build(inputs_shape)
        self.ffn_outer = layers.Dense(d_model, name="ffn_outer")
        self.ffn_outer.build((*inputs_shape[:-1], self.d_ff))
        self.ffn_norm = layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="ffn_norm"
        )
        self.ffn_norm.build(inputs_shape)

    def call(
        self,
        inputs,
        padding_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        def self_attend(h):
            return attend(
                self.self_attention,
                h,
                h,
                value_mask=padding_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )  # (B, T, d), (B, heads, T, T) or None

        def feed_forward(h):
            return self.ffn_outer(self.ffn_inner(h)), None  # (B, T, d)

        x, scores = residual(
            inputs,
            self_attend,
            self.attention_norm,
            self.attention_dropout,
            norm_first=self.norm_first,
            training=training,
        )
        x, _ = residual(
            x,
            feed_forward,
            self.ffn_norm,
            self.ffn_dropout,
            norm_first=self.norm_first,
            training=training,
        )
        return (x, scores) if return_attention_scores else x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "d_ff": self.d_ff,
                "dropout": self.dropout,
                "norm_first": self.norm_first,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
