"""Transformer decoder block: causal self-attention, cross-attention, FFN."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.layers.transformer_encoder_block import (
    attend,
    check_block_args,
    check_heads,
    residual,
)


@keras.saving.register_keras_serializable(package="dltoolkit")
class TransformerDecoderBlock(keras.layers.Layer):
    """One decoder layer: masked self-attention, cross-attention, feed-forward.

    ``(batch, time, d_model) -> (batch, time, d_model)``. Self-attention is
    causal: position ``t`` attends to positions ``<= t`` only. When the block
    is first called with ``encoder_outputs`` it gets an encoder-decoder
    (cross) attention sublayer whose queries come from the decoder and whose
    keys and values are the encoder outputs; called without, it is a
    decoder-only (GPT) block. Residuals, normalization (post- or pre-norm) and
    the feed-forward net are as in :class:`TransformerEncoderBlock`.

    Call arguments:
        inputs: ``(batch, time, d_model)``.
        encoder_outputs: ``(batch, source_time, d_encoder)``, or None.
        padding_mask: optional ``(batch, time)``, true for real target tokens.
        encoder_padding_mask: optional ``(batch, source_time)``, true for real
            source tokens.
        return_attention_scores: also return a dict of attention weights:
            ``"self_attention"`` ``(batch, num_heads, time, time)`` and, with
            cross-attention, ``"cross_attention"``
            ``(batch, num_heads, time, source_time)``.

    Args:
        num_heads: number of attention heads.
        d_ff: width of the feed-forward hidden layer.
        dropout: rate on the attention weights and on each sublayer's output.
        norm_first: pre-norm if True, post-norm if False.
        activation: activation of the feed-forward hidden layer.
        layer_norm_epsilon: epsilon of the layer normalizations.

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Section 3.1-3.2.3.
        DSE 3151, "Transformers: Decoder": a masked multi-head attention
        prevents positions from seeing subsequent positions; the
        encoder-decoder attention takes its keys and values from the encoder.
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
        self.self_attention_dropout = layers.Dropout(self.dropout)
        self.cross_attention_dropout = layers.Dropout(self.dropout)
        self.ffn_dropout = layers.Dropout(self.dropout)

    def _norm(self, name, shape):
        norm = layers.LayerNormalization(epsilon=self.layer_norm_epsilon, name=name)
        norm.build(shape)
        return norm

    def _attention(self, name, query_shape, value_shape):
        d_model = query_shape[-1]
        attention = layers.MultiHeadAttention(
            self.num_heads, d_model // self.num_heads, dropout=self.dropout, name=name
        )
        attention.build(query_shape, value_shape)
        return attention

    def build(self, inputs_shape, encoder_outputs_shape=None):
        d_model = inputs_shape[-1]
        check_heads(d_model, self.num_heads)
        self.has_cross_attention = encoder_outputs_shape is not None
        self.self_attention = self._attention(
            "self_attention", inputs_shape, inputs_shape
        )
        self.self_attention_norm = self._norm("self_attention_norm", inputs_shape)
        if self.has_cross_attention:
            self.cross_attention = self._attention(
                "cross_attention", inputs_shape, encoder_outputs_shape
            )
            self.cross_attention_norm = self._norm("cross_attention_norm", inputs_shape)
        self.ffn_inner = layers.Dense(
            self.d_ff, activation=self.activation, name="ffn_inner"
        )
        self.ffn_inner.build(inputs_shape)
        self.ffn_outer = layers.Dense(d_model, name="ffn_outer")
        self.ffn_outer.build((*inputs_shape[:-1], self.d_ff))
        self.ffn_norm = self._norm("ffn_norm", inputs_shape)

    def _residual(self, x, sublayer, norm, dropout, training):
        return residual(
            x, sublayer, norm, dropout, norm_first=self.norm_first, training=training
        )

    def call(
        self,
        inputs,
        encoder_outputs=None,
        padding_mask=None,
        encoder_padding_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        if (encoder_outputs is not None) != self.has_cross_attention:
            raise ValueError(
                f"Layer {self.name!r} was built "
                f"{'with' if self.has_cross_attention else 'without'} "
                "cross-attention: call it "
                f"{'with' if self.has_cross_attention else 'without'} "
                "encoder_outputs."
            )
        scores = {}

        def self_attend(h):
            return attend(
                self.self_attention,
                h,
                h,
                value_mask=padding_mask,
                use_causal_mask=True,
                return_attention_scores=return_attention_scores,
                training=training,
            )

        x, scores["self_attention"] = self._residual(
            inputs,
            self_attend,
            self.self_attention_norm,
            self.self_attention_dropout,
            training,
        )  # (B, T, d)
        if self.has_cross_attention:

            def cross_attend(h):
                return attend(
                    self.cross_attention,
                    h,
                    encoder_outputs,
                    value_mask=encoder_padding_mask,
                    return_attention_scores=return_attention_scores,
                    training=training,
                )

            x, scores["cross_attention"] = self._residual(
                x,
                cross_attend,
                self.cross_attention_norm,
                self.cross_attention_dropout,
                training,
            )  # (B, T, d)

        def feed_forward(h):
            return self.ffn_outer(self.ffn_inner(h)), None  # (B, T, d)

        x, _ = self._residual(
            x, feed_forward, self.ffn_norm, self.ffn_dropout, training
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
