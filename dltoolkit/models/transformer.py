"""Transformer encoder-decoder, and the step function that decodes with it.

Token models take ``input_shape=(seq_len,)``: integer token ids of length
``seq_len``. ``num_classes`` is the size of the output vocabulary (or the
number of classes for a classification head). Id ``pad_id`` (0, as Keras's
``TextVectorization`` pads) marks padding, which attention never looks at.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from dltoolkit.layers.token_and_position_embedding import TokenAndPositionEmbedding
from dltoolkit.layers.transformer_decoder_block import TransformerDecoderBlock
from dltoolkit.layers.transformer_encoder_block import TransformerEncoderBlock
from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register

# === Shared by the token builders (bert.py, gpt.py) ===


def sequence_length(name: str, input_shape) -> int:
    """The ``seq_len`` of a token model's ``input_shape=(seq_len,)``."""
    shape = tuple(input_shape)
    if len(shape) != 1 or not isinstance(shape[0], int) or shape[0] < 1:
        raise ValueError(
            f"{name} expects input_shape=(seq_len,) with seq_len >= 1 token ids. "
            f"Received: input_shape={shape}"
        )
    return shape[0]


def check_sizes(**sizes) -> None:
    """Positive ints, and ``d_model`` a multiple of ``num_heads``."""
    for argument, value in sizes.items():
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(
                f"{argument} must be a positive integer. Received: {argument}={value!r}"
            )
    if sizes["d_model"] % sizes["num_heads"]:
        raise ValueError(
            "d_model must be a multiple of num_heads. "
            f"Received: d_model={sizes['d_model']}, num_heads={sizes['num_heads']}"
        )


def padding_mask(ids, pad_id):
    """``(B, T)`` bool, true for real tokens (all true when ``pad_id`` is None)."""
    if pad_id is None:
        return ops.ones_like(ids, dtype="bool")
    return ops.not_equal(ids, pad_id)


def fit_length(ids, length: int):
    """Pads or cuts a decoding buffer ``(B, L)`` to a model's ``length`` inputs.

    The model predicts position ``index`` from its output at ``index - 1``, so
    a buffer may be one longer than the model. Positions past ``index`` are
    hidden by the causal mask; their value does not matter.
    """
    have = ids.shape[1]
    if have is None or have > length + 1:
        raise ValueError(
            f"The model reads {length} tokens, so max_length can be at most "
            f"{length + 1}. Received: max_length={have}"
        )
    if have > length:
        return ids[:, :length]
    return tf.pad(ids, [[0, 0], [0, length - have]])  # (B, length)


def logits_reader(output_layer):
    """Returns ``f(outputs) -> logits``: the log of softmax outputs, else as is."""
    if output_layer.get_config().get("activation") != "softmax":
        return lambda outputs: outputs
    tiny = 1e-30
    return lambda probs: tf.math.log(tf.maximum(tf.cast(probs, tf.float32), tiny))


# === Encoder and decoder ===

# The position-table size given to sinusoidal encodings of variable-length
# inputs (sinusoids need no table; the layer only checks known lengths).
_ANY_LENGTH = 4096


def _encoder(seq_len, vocab_size, blocks, *, d_model, dropout, norm_first, pad_id):
    """``source_ids (B, S) -> [encoder_outputs (B, S, d), source_mask (B, S)]``."""
    ids = keras.Input((seq_len,), dtype="int32", name="source_ids")
    mask = padding_mask(ids, pad_id)  # (B, S)
    x = TokenAndPositionEmbedding(
        vocab_size,
        seq_len or _ANY_LENGTH,
        d_model,
        position_encoding="sinusoidal",
        scale_embeddings=True,
        name="source_embedding",
    )(ids)  # (B, S, d)
    x = layers.Dropout(dropout, name="source_embedding_dropout")(x)
    for i, block in enumerate(blocks, start=1):
        x = TransformerEncoderBlock(**block, name=f"encoder_{i}")(x, padding_mask=mask)
    if norm_first:
        x = layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(x)
    return keras.Model(ids, [x, mask], name="encoder")


def _decoder(
    source_len,
    target_len,
    num_classes,
    blocks,
    *,
    d_model,
    dropout,
    norm_first,
    pad_id,
    classifier_activation,
):
    """``[target_ids, encoder_outputs, source_mask] -> (B, T, num_classes)``."""
    target = keras.Input((target_len,), dtype="int32", name="target_ids")
    encoded = keras.Input((source_len, d_model), name="encoder_outputs")
    source_mask = keras.Input((source_len,), dtype="bool", name="source_mask")
    mask = padding_mask(target, pad_id)  # (B, T)
    x = TokenAndPositionEmbedding(
        num_classes,
        target_len or _ANY_LENGTH,
        d_model,
        position_encoding="sinusoidal",
        scale_embeddings=True,
        name="target_embedding",
    )(target)  # (B, T, d)
    x = layers.Dropout(dropout, name="target_embedding_dropout")(x)
    for i, block in enumerate(blocks, start=1):
        x = TransformerDecoderBlock(**block, name=f"decoder_{i}")(
            x, encoded, padding_mask=mask, encoder_padding_mask=source_mask
        )
    if norm_first:
        x = layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(x)
    outputs = classifier(
        x, num_classes, classifier_activation=classifier_activation
    )  # (B, T, V)
    return keras.Model([target, encoded, source_mask], outputs, name="decoder")


# === Builder ===


@register("transformer", family="transformer")
def build_transformer(
    input_shape,
    num_classes,
    *,
    source_vocab_size=None,
    target_length=None,
    num_layers=6,
    d_model=512,
    num_heads=8,
    d_ff=2048,
    dropout=0.1,
    norm_first=False,
    activation="relu",
    pad_id=0,
    classifier_activation="softmax",
    name="transformer",
):
    """Builds the encoder-decoder Transformer for sequence-to-sequence tasks.

    Inputs ``[source_ids (B, seq_len), target_ids (B, target_length)]``: the
    target shifted right (start token first; teacher forcing). Output
    ``(B, target_length, num_classes)``: at position ``t`` the distribution of
    target token ``t + 1``. The model nests two sub-models, ``"encoder"``
    (``source_ids -> [encoder_outputs, source_mask]``) and ``"decoder"``
    (``[target_ids, encoder_outputs, source_mask] -> outputs``), which
    :func:`transformer_step_fn` runs separately. Embeddings are scaled by
    ``sqrt(d_model)`` and added to sinusoidal position encodings; they are not
    shared with the output layer.

    Args:
        input_shape: ``(seq_len,)``, the source length, or ``(None,)`` for
            batches of any length (then ``target_length`` is None too).
        num_classes: target vocabulary size.
        source_vocab_size: source vocabulary size; None shares ``num_classes``.
        target_length: decoder input length; None uses ``seq_len``.
        num_layers: encoder blocks, and as many decoder blocks.
        d_model: model width.
        num_heads: attention heads (``d_model`` must be a multiple).
        d_ff: feed-forward hidden width.
        dropout: rate on embeddings, attention weights and sublayer outputs.
        norm_first: pre-norm blocks (and a final normalization) if True;
            post-norm, as in the paper, if False.
        activation: feed-forward activation.
        pad_id: the padding token id, or None for no padding masks.
        classifier_activation: ``"softmax"`` (probabilities) or ``"linear"``
            (logits).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``. Defaults are the paper's base model.

    References:
        Vaswani et al., "Attention Is All You Need", 2017. DSE 3151,
        "Transformers": encoder, decoder, multi-head attention, positional
        encoding.
    """
    # (None,): any length, as long as the position encodings are sinusoidal.
    variable = tuple(input_shape) == (None,)
    seq_len = None if variable else sequence_length("transformer", input_shape)
    check_sizes(
        num_classes=num_classes,
        num_layers=num_layers,
        d_model=d_model,
        num_heads=num_heads,
        d_ff=d_ff,
        source_vocab_size=source_vocab_size,
        target_length=target_length,
    )
    block = {
        "num_heads": num_heads,
        "d_ff": d_ff,
        "dropout": dropout,
        "norm_first": norm_first,
        "activation": activation,
    }
    common = {"d_model": d_model, "dropout": dropout, "norm_first": norm_first}
    if variable and target_length is not None:
        raise ValueError(
            "A transformer of input_shape=(None,) reads targets of any length: "
            f"target_length must be None. Received: target_length={target_length}"
        )
    target_length = target_length or seq_len
    encoder = _encoder(
        seq_len,
        source_vocab_size or num_classes,
        [block] * num_layers,
        pad_id=pad_id,
        **common,
    )
    decoder = _decoder(
        seq_len,
        target_length,
        num_classes,
        [block] * num_layers,
        pad_id=pad_id,
        classifier_activation=classifier_activation,
        **common,
    )
    source = keras.Input((seq_len,), dtype="int32", name="source_ids")
    target = keras.Input((target_length,), dtype="int32", name="target_ids")
    encoded, source_mask = encoder(source)
    outputs = decoder([target, encoded, source_mask])  # (B, T, V)
    return keras.Model([source, target], outputs, name=name)


# === Decoding ===


def transformer_step_fn(model: keras.Model, source_ids):
    """The decoding step of a :func:`build_transformer` model, and its state.

    Encodes ``source_ids`` once; the step runs the decoder on the token buffer
    and reads its output at ``index - 1``. Use the buffer's first token as the
    start token, and ``max_length <= target_length + 1``::

        step, state = transformer_step_fn(model, source_ids)
        ids = greedy_search(step, start_ids, max_length=..., end_id=..., state=state)

    Args:
        model: a model from :func:`build_transformer`.
        source_ids: int ``(batch, seq_len)`` source tokens.

    Returns:
        ``(next_logits, state)`` for :mod:`dltoolkit.decoding`: the state is
        ``{"encoder_outputs": (B, S, d), "source_mask": (B, S)}``.
    """
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    source_ids = tf.cast(source_ids, tf.int32)
    encoded, source_mask = encoder(source_ids, training=False)
    target_length = decoder.inputs[0].shape[1]
    to_logits = logits_reader(decoder.get_layer("predictions"))

    def next_logits(ids, index, state):
        # (B', T); a model of any length reads the buffer as it is
        target = ids if target_length is None else fit_length(ids, target_length)
        outputs = decoder(
            [target, state["encoder_outputs"], state["source_mask"]], training=False
        )  # (B', T, V)
        return to_logits(tf.gather(outputs, index - 1, axis=1)), state

    return next_logits, {"encoder_outputs": encoded, "source_mask": source_mask}
