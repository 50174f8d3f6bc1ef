"""BERT-like encoder: classification from [CLS] and a masked-LM head."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from dltoolkit.layers.token_and_position_embedding import TokenAndPositionEmbedding
from dltoolkit.layers.transformer_encoder_block import TransformerEncoderBlock
from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register
from dltoolkit.models.transformer import check_sizes, padding_mask, sequence_length

# === Builder ===


@register("bert_like", family="transformer")
def build_bert_like(
    input_shape,
    num_classes,
    *,
    vocab_size,
    num_segments=2,
    masked_lm=True,
    num_layers=4,
    d_model=256,
    num_heads=4,
    d_ff=1024,
    dropout=0.1,
    norm_first=False,
    activation="gelu",
    pad_id=0,
    classifier_activation="softmax",
    name="bert_like",
):
    """Builds a small BERT: a bidirectional encoder with two heads.

    Inputs ``[token_ids (B, seq_len), segment_ids (B, seq_len)]`` (token ids
    only when ``num_segments=0``); the first token is ``[CLS]``. The input
    embedding is the sum of token, position and segment embeddings, then layer
    normalization. Outputs ``{"classification": (B, num_classes),
    "masked_lm": (B, seq_len, vocab_size)}`` (the classification tensor
    alone when ``masked_lm=False``): the classifier reads the [CLS] output
    through a tanh "pooler" layer; the masked-LM head is dense + GELU, layer
    normalization, then the vocabulary. Train the masked-LM head on
    :func:`mask_tokens` output with its weights as sample weights.

    Args:
        input_shape: ``(seq_len,)``.
        num_classes: classes of the classification head.
        vocab_size: token vocabulary size (the masked-LM outputs).
        num_segments: segment (sentence A / B) ids; 0 for no segment input.
        masked_lm: add the masked-LM head and output a dict.
        num_layers: encoder blocks.
        d_model: model width.
        num_heads: attention heads (``d_model`` must be a multiple).
        d_ff: feed-forward hidden width.
        dropout: rate on embeddings, attention weights and sublayer outputs.
        norm_first: pre-norm blocks and a final normalization if True;
            post-norm, as BERT, if False.
        activation: feed-forward activation (GELU, as BERT).
        pad_id: the padding token id, or None for no padding mask.
        classifier_activation: ``"softmax"`` or ``"linear"``, for both heads.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``. Defaults are a small model (4 layers,
        width 256, as BERT-Mini); BERT-Base has 12 layers of width 768.

    References:
        Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers
        for Language Understanding", 2019. Turc et al., "Well-Read Students
        Learn Better", 2019 (BERT-Mini). DSE 3151, "BERT": token, segment
        and position embeddings; masked language modeling.
    """
    seq_len = sequence_length("bert_like", input_shape)
    check_sizes(
        num_classes=num_classes,
        vocab_size=vocab_size,
        num_layers=num_layers,
        d_model=d_model,
        num_heads=num_heads,
        d_ff=d_ff,
    )
    if not isinstance(num_segments, int) or num_segments < 0:
        raise ValueError(
            "num_segments must be a non-negative integer. "
            f"Received: num_segments={num_segments!r}"
        )
    ids = keras.Input((seq_len,), dtype="int32", name="token_ids")
    inputs = [ids]
    mask = padding_mask(ids, pad_id)  # (B, T)
    x = TokenAndPositionEmbedding(vocab_size, seq_len, d_model, name="embedding")(
        ids
    )  # (B, T, d)
    if num_segments:
        segments = keras.Input((seq_len,), dtype="int32", name="segment_ids")
        inputs.append(segments)
        segment = layers.Embedding(num_segments, d_model, name="segment_embedding")
        x = layers.Add(name="embedding_sum")([x, segment(segments)])
    x = layers.LayerNormalization(epsilon=1e-5, name="embedding_norm")(x)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(1, num_layers + 1):
        x = TransformerEncoderBlock(
            num_heads,
            d_ff,
            dropout=dropout,
            norm_first=norm_first,
            activation=activation,
            name=f"encoder_{i}",
        )(x, padding_mask=mask)
    if norm_first:
        x = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)

    # === Heads ===
    pooled = layers.Dense(d_model, activation="tanh", name="pooler")(x[:, 0])
    pooled = layers.Dropout(dropout, name="pooler_dropout")(pooled)  # (B, d)
    outputs = classifier(
        pooled,
        num_classes,
        classifier_activation=classifier_activation,
        name="classification",
    )  # (B, C)
    if masked_lm:
        h = layers.Dense(d_model, activation="gelu", name="mlm_transform")(x)
        h = layers.LayerNormalization(epsilon=1e-5, name="mlm_norm")(h)
        lm = classifier(
            h, vocab_size, classifier_activation=classifier_activation, name="masked_lm"
        )  # (B, T, vocab)
        outputs = {"classification": outputs, "masked_lm": lm}
    return keras.Model(inputs if num_segments else ids, outputs, name=name)


# === Masked-LM data ===


def mask_tokens(ids, *, vocab_size, mask_id, special_ids, seed, rate=0.15):
    """BERT's masked-LM corruption of a batch of token ids, in-graph.

    Each token that is not special is chosen with probability ``rate``. A
    chosen token becomes ``mask_id`` with probability 0.8, a token drawn
    uniformly from ``[0, vocab_size)`` with probability 0.1, and stays
    unchanged otherwise. Stateless: the same ``seed`` gives the same masks
    (fold in the step or epoch for fresh masks, e.g. in ``tf.data``).

    Args:
        ids: int token ids of any shape, e.g. ``(batch, seq_len)``.
        vocab_size: the random replacements are drawn from ``[0, vocab_size)``.
        mask_id: the ``[MASK]`` token id.
        special_ids: ids never chosen (``[PAD]``, ``[CLS]``, ``[SEP]``, ...).
        seed: an int, an int scalar tensor or an int ``(2,)`` tensor.
        rate: probability of choosing a token.

    Returns:
        ``(masked_ids, labels, weights)``: the corrupted ids (dtype of ``ids``),
        the original ids as labels, and float32 weights, 1 at the chosen
        positions (the only ones the masked-LM loss counts) and 0 elsewhere.

    References:
        Devlin et al., "BERT", 2019, Section 3.1 (Task #1: Masked LM) and
        Appendix A.1. DSE 3151, "BERT": replace 15% of the input sequence
        with [MASK].
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1). Received: rate={rate}")
    ids = tf.convert_to_tensor(ids)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape.rank == 0:
        seed = tf.stack([tf.constant(0, tf.int64), seed])
    choose_seed, how_seed, token_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3)
    )
    shape = tf.shape(ids)
    special = tf.reduce_any(
        ids[..., tf.newaxis] == tf.cast(tf.constant(list(special_ids)), ids.dtype),
        axis=-1,
    )
    chosen = (tf.random.stateless_uniform(shape, choose_seed) < rate) & ~special
    how = tf.random.stateless_uniform(shape, how_seed)
    random_ids = tf.random.stateless_uniform(
        shape, token_seed, minval=0, maxval=vocab_size, dtype=tf.int32
    )
    masked = tf.where(chosen & (how < 0.8), tf.cast(mask_id, ids.dtype), ids)
    masked = tf.where(
        chosen & (how >= 0.8) & (how < 0.9), tf.cast(random_ids, ids.dtype), masked
    )
    return masked, ids, tf.cast(chosen, tf.float32)
