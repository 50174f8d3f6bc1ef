"""Bahdanau (additive) attention."""

from __future__ import annotations

import keras
from keras import ops

# Scores of padded source positions; exp() of it is exactly 0 in float32.
_MASKED_SCORE = -1e9


@keras.saving.register_keras_serializable(package="dltoolkit")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention of decoder states over encoder outputs.

    For a decoder state ``s_t`` (the query) and encoder outputs ``h_j`` (the
    memory), the course's parametric form::

        e_jt = v_attn^T tanh(U_attn h_j + W_attn s_t)
        alpha_jt = exp(e_jt) / sum_j exp(e_jt)      (padded j excluded)
        c_t = sum_j alpha_jt h_j

    Call arguments:
        query: ``(batch, query_dim)`` for one decoder step, or
            ``(batch, steps, query_dim)`` for several.
        memory: ``(batch, source_len, memory_dim)``, the encoder outputs.
        memory_mask: optional ``(batch, source_len)``, true (or 1) where the
            source position is real and false (or 0) where it is padding.

    Returns:
        ``(context, weights)``: ``context`` is ``(batch, memory_dim)`` and
        ``weights`` is ``(batch, source_len)`` for a 2-D query; with a 3-D
        query both gain a ``steps`` axis after the batch. Weights sum to 1 over
        the source positions and are exactly 0 on padded ones.

    Args:
        units: size of the attention space (the rows of ``U_attn``,
            ``W_attn`` and the length of ``v_attn``).

    References:
        Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly
        Learning to Align and Translate", ICLR 2015. DSE 3151, "Encoder
        Decoder with Attention Mechanism", ``e_jt = V_attn^T tanh(U_attn h_j +
        W_attn s_t)``, ``alpha_jt = softmax(e_jt)``, ``c_t = sum_j alpha_jt
        h_j``.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(
                f"units must be a positive integer. Received: units={units!r}"
            )
        self.units = units

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], self.units),
            initializer="glorot_uniform",
            name="W_attn",
        )
        self.memory_kernel = self.add_weight(
            shape=(memory_shape[-1], self.units),
            initializer="glorot_uniform",
            name="U_attn",
        )
        self.score_vector = self.add_weight(
            shape=(self.units,), initializer="glorot_uniform", name="v_attn"
        )

    def call(self, query, memory, memory_mask=None):
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)  # (B, 1, Dq)
        # No tensordot here (ops.matmul of a 3-D tensor and a kernel is one in
        # TensorFlow): inside an RNN's while loop (BahdanauAttentionCell), the
        # gradient of tensordot's transpose reads its permutation from the
        # loop's accumulators, and XLA (jit_compile) needs it as a constant.
        keys = ops.einsum("bsd,da->bsa", memory, self.memory_kernel)  # (B, S, A)
        queries = ops.einsum("btd,da->bta", query, self.query_kernel)  # (B, T, A)
        hidden = ops.tanh(
            ops.expand_dims(keys, 1) + ops.expand_dims(queries, 2)
        )  # (B, T, S, A)
        scores = ops.sum(hidden * self.score_vector, axis=-1)  # (B, T, S)
        if memory_mask is not None:
            valid = ops.expand_dims(ops.cast(memory_mask, "bool"), 1)  # (B, 1, S)
            scores = ops.where(valid, scores, ops.cast(_MASKED_SCORE, scores.dtype))
        weights = ops.softmax(scores, axis=-1)  # (B, T, S)
        context = ops.matmul(weights, memory)  # (B, T, Dm)
        if single_step:
            return context[:, 0], weights[:, 0]
        return context, weights

    def compute_output_shape(self, query_shape, memory_shape, memory_mask_shape=None):
        context = (*query_shape[:-1], memory_shape[-1])
        weights = (*query_shape[:-1], memory_shape[1])
        return context, weights

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
