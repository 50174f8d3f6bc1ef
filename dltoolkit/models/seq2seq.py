"""RNN encoder-decoder (sequence to sequence), with optional Bahdanau attention."""

from __future__ import annotations

import keras
from keras import layers, ops

from dltoolkit.decoding import beam_search, greedy_search
from dltoolkit.layers import BahdanauAttentionCell
from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register
from dltoolkit.models.rnn import (
    CELLS,
    check_choice,
    check_positive_int,
    check_rate,
    dense_logits,
    embedding_lookup,
)

CELL_STEPS = {
    "simple_rnn": layers.SimpleRNNCell,
    "lstm": layers.LSTMCell,
    "gru": layers.GRUCell,
}
ATTENTIONS = (None, "bahdanau")
PAD_ID = 0


# === Builder ===


@register("seq2seq", family="seq2seq")
def build_seq2seq(
    input_shape,
    num_classes,
    *,
    source_vocab_size=None,
    target_length=None,
    embedding_dim=32,
    units=64,
    cell="gru",
    attention=None,
    attention_units=None,
    return_attention=False,
    dropout=0.0,
    name="seq2seq",
):
    """Builds an RNN encoder-decoder trained with teacher forcing.

    The model takes ``[source_ids, target_in_ids]`` and returns, at every
    target step, probabilities over the target vocabulary. ``target_in`` is the
    target shifted right behind a start token (``[start, y_1, ..., y_{T-1}]``)
    and the labels are ``[y_1, ..., y_T]``. Id 0 is padding in both languages:
    padded source positions get no attention, and the probabilities carry the
    Keras mask of ``target_in``, so the loss and metrics skip padded steps
    (with ``return_attention`` the mask is lost: compile with
    ``SparseCategoricalCrossentropy(ignore_class=0)`` instead).

    Encoder: ``h_j = RNN(h_{j-1}, e(x_j))``. Decoder: ``s_0 = h_T`` and
    ``s_t = RNN(s_{t-1}, e(y_{t-1}))``, or with ``attention="bahdanau"``
    ``s_t = RNN(s_{t-1}, [e(y_{t-1}), c_t])`` where ``c_t`` attends over all
    ``h_j`` (:class:`~dltoolkit.layers.BahdanauAttentionCell`). Output:
    ``softmax(V s_t + b)``.

    Args:
        input_shape: ``(source_length,)``: source token ids; the length may be
            None (any length).
        num_classes: the target vocabulary size.
        source_vocab_size: the source vocabulary size; None shares
            ``num_classes``.
        target_length: length of ``target_in``; None for any length.
        embedding_dim: size of the source and target embeddings.
        units: state size of the encoder and the decoder.
        cell: ``"gru"``, ``"lstm"`` or ``"simple_rnn"``.
        attention: None or ``"bahdanau"``.
        attention_units: size of the attention space; defaults to ``units``.
        return_attention: also output the attention weights ``alpha``,
            ``(batch, target_length, source_length)``, as a second output
            (needs attention and a fixed source length).
        dropout: dropout rate on the embeddings.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``; decode with :func:`seq2seq_step_fn` and
        ``dltoolkit.decoding``.

    References:
        Sutskever, Vinyals and Le, "Sequence to Sequence Learning with Neural
        Networks", 2014; Bahdanau, Cho and Bengio, "Neural Machine Translation
        by Jointly Learning to Align and Translate", ICLR 2015. DSE 3151,
        "Encoder Decoder Models: Machine Translation" and "Encoder Decoder with
        Attention Mechanism".
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 1:
        raise ValueError(
            "seq2seq expects input_shape (source_length,) of token ids. "
            f"Received: input_shape={input_shape}"
        )
    source_length = input_shape[0]
    source_vocab_size = source_vocab_size or num_classes
    check_positive_int("num_classes", num_classes)
    check_positive_int("source_vocab_size", source_vocab_size)
    check_positive_int("embedding_dim", embedding_dim)
    check_positive_int("units", units)
    check_choice("cell", cell, CELLS)
    check_choice("attention", attention, ATTENTIONS)
    check_rate("dropout", dropout)
    if attention_units is not None:
        check_positive_int("attention_units", attention_units)
    if return_attention and (attention is None or source_length is None):
        raise ValueError(
            "return_attention needs attention='bahdanau' and a fixed source "
            f"length. Received: attention={attention!r}, "
            f"input_shape={input_shape}"
        )

    # === Encoder ===
    source = keras.Input(shape=(source_length,), dtype="int32", name="source")
    x = layers.Embedding(
        source_vocab_size, embedding_dim, mask_zero=True, name="source_embedding"
    )(source)  # (B, S, E)
    if dropout:
        x = layers.Dropout(dropout, name="source_dropout")(x)
    encoder_outputs, *encoder_states = CELLS[cell](
        units, return_sequences=True, return_state=True, name="encoder"
    )(x)  # (B, S, units), s_0 = h_T

    # === Decoder ===
    target_in = keras.Input(shape=(target_length,), dtype="int32", name="target_in")
    y = layers.Embedding(
        num_classes, embedding_dim, mask_zero=True, name="target_embedding"
    )(target_in)  # (B, T, E)
    if dropout:
        y = layers.Dropout(dropout, name="target_dropout")(y)
    if attention is None:
        decoder = CELLS[cell](units, return_sequences=True, name="decoder")
        states = decoder(y, initial_state=encoder_states)  # (B, T, units)
    else:
        source_mask = ops.cast(ops.not_equal(source, PAD_ID), "float32")  # (B, S)
        decoder_cell = BahdanauAttentionCell(
            CELL_STEPS[cell](units, name="decoder_cell"),
            memory_dim=units,
            attention_units=attention_units,
            return_attention=return_attention,
            memory_length=source_length,
        )
        decoder = layers.RNN(decoder_cell, return_sequences=True, name="decoder")
        states = decoder(
            y, initial_state=[*encoder_states, encoder_outputs, source_mask]
        )  # (B, T, units [+ S])
    inputs = [source, target_in]
    if return_attention:
        probabilities = classifier(states[..., :units], num_classes)  # (B, T, V)
        weights = layers.Identity(name="attention")(states[..., units:])  # (B, T, S)
        return keras.Model(inputs, [probabilities, weights], name=name)
    probabilities = classifier(states, num_classes)  # (B, T, V), masked
    return keras.Model(inputs, probabilities, name=name)


# === Step function for dltoolkit.decoding ===


def seq2seq_step_fn(model: keras.Model):
    """Inference pair of a model from :func:`build_seq2seq`, for decoding.

    Returns:
        ``(encode, next_logits)``. ``encode(source_ids)`` runs the encoder on
        int ids ``(batch, source_length)`` and returns the initial decoding
        state: the decoder cell's states, plus (with attention) the encoder
        outputs and the source mask; every part has a leading batch axis.
        ``next_logits(ids, index, state)`` feeds ``ids[:, index - 1]`` (the
        start token when ``index == 1``) to the decoder cell and returns
        ``(logits (batch, target_vocab), state)``: the ``dltoolkit.decoding``
        step interface, e.g. ``greedy_search(next_logits, start_ids,
        max_length=..., end_id=..., state=encode(source))``.
    """
    source_embedding = model.get_layer("source_embedding")
    encoder = model.get_layer("encoder")
    target_embedding = model.get_layer("target_embedding")
    cell = model.get_layer("decoder").cell
    head = model.get_layer("predictions")
    attention = isinstance(cell, BahdanauAttentionCell)
    units = (cell.cell if attention else cell).units

    def encode(source_ids):
        source_ids = ops.convert_to_tensor(source_ids, "int32")
        mask = ops.not_equal(source_ids, PAD_ID)  # (B, S)
        outputs, *states = encoder(source_embedding(source_ids), mask=mask)
        if attention:
            return [*states, outputs, ops.cast(mask, "float32")]
        return list(states)

    def next_logits(ids, index, state):
        y = embedding_lookup(target_embedding, ids[:, index - 1])  # (B, E)
        output, state = cell(y, list(state))  # (B, units [+ S])
        return dense_logits(head, output[:, :units]), list(state)

    return encode, next_logits


def seq2seq_decode(
    model: keras.Model,
    source_ids,
    *,
    start_id: int,
    end_id: int | None,
    max_length: int,
    beam_width: int = 1,
    length_penalty: float = 0.0,
):
    """Decodes ``source_ids`` in-graph: greedy search, or beam search.

    Args:
        model: a model from :func:`build_seq2seq`.
        source_ids: int ``(batch, source_length)``, 0-padded.
        start_id: the token that starts every target.
        end_id: the end token, or None to always fill ``max_length``.
        max_length: output length, the start token included.
        beam_width: 1 for greedy search, more for beam search.
        length_penalty: the GNMT ``alpha`` of beam search.

    Returns:
        int32 ``(batch, max_length)``: the start token, the decoded tokens up to
        and including ``end_id``, then 0 (the best beam with beam search).
    """
    encode, next_logits = seq2seq_step_fn(model)
    state = encode(source_ids)
    start_ids = ops.full((ops.shape(state[0])[0], 1), start_id, dtype="int32")
    if beam_width == 1:
        return greedy_search(
            next_logits, start_ids, max_length=max_length, end_id=end_id, state=state
        )
    ids, _ = beam_search(
        next_logits,
        start_ids,
        beam_width=beam_width,
        max_length=max_length,
        end_id=end_id,
        length_penalty=length_penalty,
        state=state,
    )
    return ids[:, 0]  # (B, L), the best beam
