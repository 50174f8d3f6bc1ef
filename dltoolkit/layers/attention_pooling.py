"""Attention pooling with a learned context vector (HAN word/sentence attention)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class AttentionPooling(keras.layers.Layer):
    """Pools a sequence into one vector, weighted by a learned context vector.

    For annotations ``h_t`` of one sequence::

        u_t = tanh(W h_t + b)
        alpha_t = exp(u_t^T u) / sum_t' exp(u_t'^T u)
        output = sum_t alpha_t h_t

    where ``u`` is the trainable context vector (``u_w`` for words, ``u_s``
    for sentences in a hierarchical attention network). Masked steps get a
    weight of exactly 0; a sequence with no unmasked step gets all-zero weights
    and a zero output. The output mask says whether a sequence had any
    unmasked step, so a fully padded sentence is masked one level up.

    Args:
        units: width of ``u_t`` and of the context vector; None takes the
            width of the annotations.
        kernel_initializer: initializer of ``W``.
        context_initializer: initializer of the context vector ``u``.

    Call arguments:
        inputs: annotations ``(batch, time, features)``.
        mask: optional boolean ``(batch, time)``; True marks real steps.
        return_attention_scores: also return the weights ``(batch, time)``.

    References:
        Yang et al., "Hierarchical Attention Networks for Document
        Classification", NAACL 2016, eqs. 5-10. DSE 3151, "Hierarchical
        Attention Networks", u_ij = tanh(W_w h_ij + b_w),
        alpha_ij = exp(u_ij^T u_w) / sum_t exp(u_it^T u_w), s_i = sum_j alpha_ij h_ij.
    """

    def __init__(
        self,
        units=None,
        kernel_initializer="glorot_uniform",
        context_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units is not None and (
            isinstance(units, bool) or not isinstance(units, int) or units < 1
        ):
            raise ValueError(
                f"units must be a positive integer or None. Received: units={units!r}"
            )
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.context_initializer = keras.initializers.get(context_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "AttentionPooling expects inputs (batch, time, features) with a "
                f"known feature size. Received: input_shape={tuple(input_shape)}"
            )
        features = input_shape[-1]
        units = self.units or features
        self.kernel = self.add_weight(
            name="kernel", shape=(features, units), initializer=self.kernel_initializer
        )
        self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")
        self.context = self.add_weight(
            name="context", shape=(units,), initializer=self.context_initializer
        )

    def call(self, inputs, mask=None, return_attention_scores=False):
        u = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)  # (B, T, units)
        scores = ops.matmul(u, self.context)  # (B, T)
        weights = masked_softmax(scores, mask)  # (B, T)
        pooled = ops.sum(inputs * weights[..., None], axis=1)  # (B, features)
        if return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        # Only the pooled output carries a mask: does the sequence have a step?
        if mask is None:
            return None
        return ops.any(mask, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "context_initializer": keras.initializers.serialize(
                    self.context_initializer
                ),
            }
        )
        return config


def masked_softmax(scores, mask=None):
    """Softmax over the last axis that gives masked steps exactly 0.

    A row with no unmasked step gets all zeros (not a uniform distribution).
    """
    if mask is None:
        return ops.softmax(scores, axis=-1)
    keep = ops.cast(mask, "bool")
    # Shift by the largest unmasked score; masked steps are filled with the
    # row minimum so that every dtype stays finite.
    row_min = ops.min(scores, axis=-1, keepdims=True)
    top = ops.max(ops.where(keep, scores, row_min), axis=-1, keepdims=True)
    shifted = ops.where(keep, scores - top, ops.zeros_like(scores))
    exp = ops.exp(shifted) * ops.cast(keep, scores.dtype)
    total = ops.sum(exp, axis=-1, keepdims=True)
    # A fully masked row has total 0: its weights stay 0.
    return exp / ops.where(total > 0, total, ops.ones_like(total))
