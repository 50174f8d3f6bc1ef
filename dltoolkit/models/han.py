"""Hierarchical attention network (HAN) for document classification."""

from __future__ import annotations

import keras
from keras import layers, ops

from dltoolkit.layers import AttentionPooling
from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register

CELLS = {"gru": layers.GRU, "lstm": layers.LSTM, "simple_rnn": layers.SimpleRNN}


def _check_positive_int(argument: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{argument} must be a positive integer. Received: {argument}={value!r}"
        )


# === Layers ===


@keras.saving.register_keras_serializable(package="dltoolkit")
class _FoldSentences(layers.Layer):
    """``(batch, S, W) -> (batch * S, W)``: each sentence becomes one sequence."""

    def call(self, inputs):
        return ops.reshape(inputs, (-1, inputs.shape[-1]))

    def compute_output_shape(self, input_shape):
        batch, sentences, words = input_shape
        folded = None if batch is None else batch * sentences
        return (folded, words)


@keras.saving.register_keras_serializable(package="dltoolkit")
class _UnfoldSentences(layers.Layer):
    """``(batch * S, ...) -> (batch, S, ...)``; the mask is unfolded alike."""

    def __init__(self, num_sentences, **kwargs):
        super().__init__(**kwargs)
        self.num_sentences = num_sentences
        self.supports_masking = True

    def call(self, inputs):
        return ops.reshape(inputs, (-1, self.num_sentences, *inputs.shape[1:]))

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return ops.reshape(mask, (-1, self.num_sentences, *mask.shape[1:]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.num_sentences
        return (batch, self.num_sentences, *input_shape[1:])

    def get_config(self):
        config = super().get_config()
        config.update({"num_sentences": self.num_sentences})
        return config


def _encoder(x, cell: str, units: int, bidirectional: bool, unroll: bool, name: str):
    """A recurrent layer over the steps of ``x``, one annotation per step."""
    if bidirectional:
        rnn = CELLS[cell](
            units, return_sequences=True, unroll=unroll, name=f"{name}_{cell}"
        )
        return layers.Bidirectional(rnn, name=name)(x)
    return CELLS[cell](units, return_sequences=True, unroll=unroll, name=name)(x)


# === Builder ===


@register("han", family="han")
def build_han(
    input_shape,
    num_classes,
    *,
    vocab_size=None,
    embedding_dim=200,
    word_units=50,
    sentence_units=50,
    attention_units=None,
    cell="gru",
    bidirectional=True,
    unroll=False,
    dropout=0.0,
    classifier_activation="softmax",
    name="han",
):
    """Builds a hierarchical attention network (Yang et al. 2016).

    Registry mapping: ``input_shape=(S, W)`` is one document of ``S``
    sentences of ``W`` token ids each (id 0 is padding, for padded words and
    for whole padded sentences); ``num_classes`` is the width of the softmax.

    Words are embedded and read by the word encoder; the word attention pools
    each sentence into ``s_i = sum_t alpha_it h_it`` with
    ``alpha_it = softmax_t(tanh(W_w h_it + b_w)^T u_w)``. The sentence
    encoder reads the ``s_i`` and the sentence attention (context ``u_s``)
    pools them into the document vector that feeds the classifier. Padded
    words and fully padded sentences get attention weight 0.
    :func:`han_attention_model` exposes both levels of weights.

    Args:
        input_shape: ``(num_sentences, words_per_sentence)``.
        num_classes: output units.
        vocab_size: number of token ids, padding id 0 included. Required.
        embedding_dim: word embedding width.
        word_units: recurrent units of the word encoder (per direction).
        sentence_units: recurrent units of the sentence encoder (per direction).
        attention_units: width of ``u_it``, ``u_w`` and ``u_s``; None takes the
            width of the annotations at each level.
        cell: ``"gru"`` (the paper), ``"lstm"`` or ``"simple_rnn"``.
        bidirectional: read each level in both directions and concatenate.
        unroll: unroll the recurrent loops (faster for short sentences and
            documents, more memory).
        dropout: dropout rate on the document vector.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``: token ids ``(batch, S, W)`` to
        ``(batch, num_classes)``. Named layers: ``embedding``,
        ``word_encoder``, ``word_attention``, ``sentence_vectors``,
        ``sentence_encoder``, ``sentence_attention``, ``predictions``.

    References:
        Yang et al., "Hierarchical Attention Networks for Document
        Classification", NAACL 2016 (GRU encoders of 50 units per direction,
        200-dimensional embeddings). DSE 3151, "Hierarchical Attention
        Networks", parameters W_w, W_s, V, b_w, b_s, b, u_w, u_s.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 2 or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in input_shape
    ):
        raise ValueError(
            "han expects input_shape=(num_sentences, words_per_sentence) of "
            f"positive integers. Received: input_shape={input_shape}"
        )
    if vocab_size is None:
        raise ValueError(
            "han needs vocab_size (token ids in [0, vocab_size), 0 = padding). "
            "Received: vocab_size=None"
        )
    for argument, value in (
        ("vocab_size", vocab_size),
        ("embedding_dim", embedding_dim),
        ("word_units", word_units),
        ("sentence_units", sentence_units),
    ):
        _check_positive_int(argument, value)
    if attention_units is not None:
        _check_positive_int("attention_units", attention_units)
    if cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}. Valid: {', '.join(CELLS)}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
    num_sentences, _ = input_shape

    # === Functional Model ===
    inputs = keras.Input(shape=input_shape, dtype="int32", name="tokens")
    words = _FoldSentences(name="fold_sentences")(inputs)  # (B*S, W)
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(
        words
    )  # (B*S, W, E)
    h = _encoder(
        x, cell, word_units, bidirectional, unroll, "word_encoder"
    )  # (B*S, W, Hw)
    s, _ = AttentionPooling(attention_units, name="word_attention")(
        h, return_attention_scores=True
    )  # (B*S, Hw)
    s = _UnfoldSentences(num_sentences, name="sentence_vectors")(s)  # (B, S, Hw)
    h = _encoder(s, cell, sentence_units, bidirectional, unroll, "sentence_encoder")
    doc, _ = AttentionPooling(attention_units, name="sentence_attention")(
        h, return_attention_scores=True
    )  # (B, Hs)
    if dropout > 0:
        doc = layers.Dropout(dropout, name="dropout")(doc)
    outputs = classifier(doc, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


def han_attention_model(model: keras.Model) -> keras.Model:
    """Returns a model that also outputs both levels of attention weights.

    Args:
        model: a model built by :func:`build_han` (trained or reloaded).

    Returns:
        A ``keras.Model`` sharing ``model``'s layers, from token ids
        ``(batch, S, W)`` to ``(probabilities, word_weights, sentence_weights)``
        shaped ``(batch, num_classes)``, ``(batch, S, W)`` and ``(batch, S)``.
        Weights sum to 1 over the words of each sentence and over the
        sentences of each document; padding gets 0 (a fully padded sentence
        has all-zero word weights).
    """
    try:
        word = model.get_layer("word_attention")
        sentence = model.get_layer("sentence_attention")
    except ValueError:
        raise ValueError(
            "han_attention_model needs a model from build_han, with layers "
            f"'word_attention' and 'sentence_attention'. Received: {model.name!r}"
        ) from None
    num_sentences = model.inputs[0].shape[1]
    word_weights = _UnfoldSentences(num_sentences, name="word_weights")(
        word.output[1]
    )  # (B, S, W)
    sentence_weights = sentence.output[1]  # (B, S)
    return keras.Model(
        model.input,
        [model.output, word_weights, sentence_weights],
        name=f"{model.name}_attention",
    )
