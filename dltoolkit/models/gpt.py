"""GPT-like decoder-only Transformer (causal language model)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from dltoolkit.layers.token_and_position_embedding import TokenAndPositionEmbedding
from dltoolkit.layers.transformer_decoder_block import TransformerDecoderBlock
from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register
from dltoolkit.models.transformer import (
    check_sizes,
    fit_length,
    logits_reader,
    padding_mask,
    sequence_length,
)

# === Builder ===


@register("gpt_like", family="transformer")
def build_gpt_like(
    input_shape,
    num_classes,
    *,
    num_layers=4,
    d_model=256,
    num_heads=4,
    d_ff=1024,
    dropout=0.1,
    norm_first=True,
    activation="gelu",
    pad_id=0,
    classifier_activation="softmax",
    name="gpt_like",
):
    """Builds a small GPT: causal self-attention blocks over learned positions.

    Input ``token_ids (B, seq_len)``; output ``(B, seq_len, num_classes)``: at
    position ``t`` the distribution of token ``t + 1`` (train on the ids
    shifted by one). Position ``t`` sees tokens ``<= t`` only.

    Args:
        input_shape: ``(seq_len,)``, the context length.
        num_classes: vocabulary size (input and output).
        num_layers: decoder blocks.
        d_model: model width.
        num_heads: attention heads (``d_model`` must be a multiple).
        d_ff: feed-forward hidden width.
        dropout: rate on embeddings, attention weights and sublayer outputs.
        norm_first: pre-norm blocks and a final normalization (GPT-2) if
            True; post-norm (GPT) if False.
        activation: feed-forward activation (GELU, as GPT).
        pad_id: the padding token id, or None for no padding mask.
        classifier_activation: ``"softmax"`` (probabilities) or ``"linear"``
            (logits).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``. Defaults are a small model (4 layers,
        width 256); GPT had 12 layers of width 768.

    References:
        Radford et al., "Improving Language Understanding by Generative
        Pre-Training", 2018; Radford et al., "Language Models are Unsupervised
        Multitask Learners", 2019 (pre-norm). DSE 3151, "GPT": a 12-layer
        decoder-only transformer with masked self-attention heads.
    """
    seq_len = sequence_length("gpt_like", input_shape)
    check_sizes(
        num_classes=num_classes,
        num_layers=num_layers,
        d_model=d_model,
        num_heads=num_heads,
        d_ff=d_ff,
    )
    ids = keras.Input((seq_len,), dtype="int32", name="token_ids")
    mask = padding_mask(ids, pad_id)  # (B, T)
    x = TokenAndPositionEmbedding(num_classes, seq_len, d_model, name="embedding")(
        ids
    )  # (B, T, d)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(1, num_layers + 1):
        x = TransformerDecoderBlock(
            num_heads,
            d_ff,
            dropout=dropout,
            norm_first=norm_first,
            activation=activation,
            name=f"decoder_{i}",
        )(x, padding_mask=mask)
    if norm_first:
        x = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    outputs = classifier(
        x, num_classes, classifier_activation=classifier_activation
    )  # (B, T, V)
    return keras.Model(ids, outputs, name=name)


# === Decoding ===


def gpt_step_fn(model: keras.Model):
    """The decoding step of a :func:`build_gpt_like` model.

    Runs the model on the token buffer and reads its output at ``index - 1``;
    it keeps no state. Use ``max_length <= seq_len + 1``::

        ids = sample(gpt_step_fn(model), prompt_ids, max_length=..., seed=...)

    Args:
        model: a model from :func:`build_gpt_like`.

    Returns:
        ``next_logits(ids, index, state) -> (logits, state)`` for
        :mod:`dltoolkit.decoding`.
    """
    seq_len = model.inputs[0].shape[1]
    to_logits = logits_reader(model.get_layer("predictions"))

    def next_logits(ids, index, state):
        outputs = model(fit_length(ids, seq_len), training=False)  # (B, T, V)
        return to_logits(tf.gather(outputs, index - 1, axis=1)), state

    return next_logits
