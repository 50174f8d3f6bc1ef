"""The translator model: strings in (TextVectorization inside), decoding in-graph.

``build_translator`` wraps a ``seq2seq`` or ``transformer`` builder between two
``TextVectorization`` layers; ``make_translate`` turns a trained translator
into a string-to-string function (greedy or beam search inside the graph), the
one used for evaluation, the ``val_bleu`` callback and the SavedModel alike
(:mod:`dltoolkit.training.decoders`).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from dltoolkit.data.translation import (
    END_ID,
    FIRST_WORD_ID,
    START_ID,
    UNK_ID,
    SubwordVectorizer,
    detokenize,
    standardize,
    vectorizer,
)
from dltoolkit.decoding import best_sequence
from dltoolkit.errors import ConfigError
from dltoolkit.models import get_builder
from dltoolkit.models.seq2seq import seq2seq_step_fn
from dltoolkit.models.transformer import transformer_step_fn

MODELS = ("seq2seq", "transformer")
TOKENIZERS = ("words", "subwords")
_BANNED = (0, UNK_ID, START_ID)  # never generated: padding, [UNK], [start]


def core_options(config) -> dict:
    """Builder keyword arguments of the config (None: the builder's default)."""
    if config.model == "seq2seq":
        options = {
            "embedding_dim": config.embedding_dim,
            "units": config.units,
            "cell": config.cell,
            "dropout": config.dropout,
            "attention": "bahdanau",
            "attention_units": config.attention_units,
        }
    elif config.model == "transformer":
        options = {
            "num_layers": config.num_layers,
            "d_model": config.embedding_dim,
            "num_heads": config.num_heads,
            "d_ff": config.units,
            "dropout": config.dropout,
        }
    else:
        raise ConfigError(
            f"Unknown model {config.model!r}. Valid models: {', '.join(MODELS)}."
        )
    return {k: v for k, v in options.items() if v is not None}


def fixed_length(config) -> bool:
    """Word-vocabulary transformers read fixed lengths; other models take
    batches padded to their longest sentence."""
    if config.tokenizer not in TOKENIZERS:
        raise ConfigError(
            f"Unknown tokenizer {config.tokenizer!r}. "
            f"Valid tokenizers: {', '.join(TOKENIZERS)}."
        )
    return config.model == "transformer" and config.tokenizer == "words"


def build_core(config, source_vocab_size: int, target_vocab_size: int, **extra):
    """The id-to-probabilities model, ``[source (B, S), target_in (B, T+1)]``.

    Args:
        config: the app config (model kind, sizes, lengths).
        source_vocab_size, target_vocab_size: vocabulary sizes.
        **extra: more builder arguments; ``fixed=True`` forces fixed lengths.
    """
    fixed = extra.pop("fixed", False) or fixed_length(config)
    return get_builder(config.model)(
        (config.max_source_length if fixed else None,),
        target_vocab_size,
        source_vocab_size=source_vocab_size,
        target_length=config.max_target_length + 1 if fixed else None,
        **core_options(config),
        **extra,
    )


def vectorizers(config, data):
    """The source and target layers: strings ``(B,)`` -> ids ``(B, S|T)``.

    Word vocabularies: two ``TextVectorization`` layers (lowercased words);
    subwords: two :class:`SubwordVectorizer` of the shared SentencePiece model
    (cased text; the source one also knows the training words, to count
    unknown ones).
    """
    fixed = fixed_length(config)
    lengths = (config.max_source_length, config.max_target_length)
    source_len, target_len = lengths if fixed else (None, None)
    if config.tokenizer == "subwords":
        return (
            SubwordVectorizer(
                data.subword_model,
                source_len,
                known_words=data.source_vocab,
                name="source_vectorizer",
            ),
            SubwordVectorizer(data.subword_model, target_len, name="target_vectorizer"),
        )
    return (
        vectorizer(data.source_vocab, source_len, "source_vectorizer"),
        vectorizer(data.target_vocab, target_len, "target_vectorizer"),
    )


def build_translator(config, data) -> keras.Model:
    """``{"source": (B,) strings, "target": (B,) strings} -> (B, T+1, V)``.

    The target sentence is vectorized inside the model and shifted right
    behind ``[start]`` (teacher forcing); the labels are the same words
    followed by ``[end]`` (:func:`dltoolkit.data.translation.target_labels`).
    Batches are padded to their longest sentence (cut at the maximum lengths),
    but for word-vocabulary transformers, which take the maximum lengths.
    """
    max_source, max_target = config.max_source_length, config.max_target_length
    source = keras.Input(shape=(), dtype="string", name="source")
    target = keras.Input(shape=(), dtype="string", name="target")
    source_vec, target_vec = vectorizers(config, data)
    source_ids = ops.cast(source_vec(source)[:, :max_source], "int32")  # (B, S)
    target_ids = ops.cast(target_vec(target)[:, :max_target], "int32")  # (B, T)
    start = ops.full_like(target_ids[:, :1], START_ID)
    target_in = ops.concatenate([start, target_ids], axis=1)  # (B, T + 1)
    core = build_core(
        config, source_vec.vocabulary_size(), target_vec.vocabulary_size()
    )
    probabilities = core([source_ids, target_in])  # (B, T + 1, V)
    return keras.Model(
        {"source": source, "target": target}, probabilities, name="translator"
    )


def core_of(model: keras.Model) -> keras.Model:
    """The nested seq2seq or transformer model of a translator."""
    for name in MODELS:
        try:
            return model.get_layer(name)
        except ValueError:
            continue
    raise ConfigError(f"Model {model.name!r} holds no seq2seq or transformer.")


def _step_and_state(core, source_ids):
    if core.name == "transformer":
        return transformer_step_fn(core, source_ids)
    encode, step = seq2seq_step_fn(core)
    return step, encode(source_ids)


def decode_ids(core, source_ids, *, max_length, beam_width: int, length_penalty):
    """Decodes ids ``(B, S)`` to ``(B, max_length)``: ``[start]``, tokens, ``[end]``.

    Padding, ``[UNK]`` and ``[start]`` are never generated; positions after
    ``[end]`` hold 0.
    """
    step, state = _step_and_state(core, source_ids)
    return best_sequence(
        step,
        tf.fill([tf.shape(source_ids)[0], 1], START_ID),
        beam_width=beam_width,
        max_length=max_length,
        end_id=END_ID,
        length_penalty=length_penalty,
        banned_ids=_BANNED,
        state=state,
    )


def make_translate(model, config, *, beam_width: int, english: bool):
    """A function ``sentences (B,) string -> dict`` of the trained ``model``.

    Args:
        model: a trained :func:`build_translator` model.
        config: its config (lengths, length penalty).
        beam_width: 1 for greedy search, more for beam search.
        english: the target is English (``i`` is written ``I``; word
            vocabularies only: subwords keep the case they learned).

    Returns:
        ``translate(sentences)`` (not yet a ``tf.function``) giving
        ``translation`` (B,) strings, ``unknown_words`` (B,) int32 (source
        words outside the vocabulary, read as ``[UNK]``) and ``truncated`` (B,)
        bool (the source had more tokens than the model reads; the rest was
        dropped). With word vocabularies, a source with no word of the
        vocabulary (empty, blank, or unknown words only) gives an empty
        translation. With subwords only an empty or blank source does; a word
        is unknown when the training sources never had it, and it is still
        read, spelled in pieces (names and numbers usually come out copied).
    """
    source_vec = model.get_layer("source_vectorizer")
    target_vec = model.get_layer("target_vectorizer")
    subwords = isinstance(target_vec, SubwordVectorizer)
    max_source = config.max_source_length
    vocabulary = None if subwords else tf.constant(target_vec.get_vocabulary())
    core = core_of(model)
    options = dict(
        max_length=config.max_target_length + 2,
        beam_width=beam_width,
        length_penalty=config.length_penalty,
    )
    fixed = fixed_length(config)

    def translate(sentences):
        sentences = tf.reshape(sentences, [-1])  # (B,)
        source_ids = tf.cast(source_vec(sentences)[:, :max_source], tf.int32)
        if not fixed:  # one padding column: a batch of empty strings has one
            source_ids = tf.pad(source_ids, [[0, 0], [0, 1]])  # (B, S_batch + 1)
        ids = decode_ids(core, source_ids, **options)[:, 1:]  # (B, T + 1), no [start]
        if subwords:
            lengths = source_vec.tokenize(sentences).row_lengths()  # (B,)
            text = target_vec.detokenize(ids)
            unknown = source_vec.count_unknown(sentences)
        else:
            lengths = tf.strings.split(standardize(sentences)).row_lengths()
            words = tf.ragged.boolean_mask(
                tf.gather(vocabulary, ids), ids >= FIRST_WORD_ID
            )  # (B, None)
            text = detokenize(
                tf.strings.reduce_join(words, axis=1, separator=" "), english=english
            )
            unknown = tf.reduce_sum(tf.cast(source_ids == UNK_ID, tf.int32), axis=1)
        known = tf.reduce_sum(tf.cast(source_ids > UNK_ID, tf.int32), axis=1)
        return {
            "translation": tf.where(known > 0, text, ""),  # (B,)
            "unknown_words": unknown,
            "truncated": lengths > tf.cast(max_source, lengths.dtype),
        }

    return translate


def attention_maps(model, config, sources: list[str], outputs: list[str]):
    """Attention of each output token over the source tokens.

    seq2seq: the Bahdanau weights; transformer: the last decoder block's
    cross-attention averaged over heads.

    Returns:
        A list of ``(source_tokens, output_tokens, weights (out, src))``.
    """
    source_vec = model.get_layer("source_vectorizer")
    target_vec = model.get_layer("target_vectorizer")
    source_ids = _fit(source_vec(tf.constant(sources)), config.max_source_length)
    target_ids = _fit(target_vec(tf.constant(outputs)), config.max_target_length)
    start = tf.fill([len(sources), 1], START_ID)
    target_in = tf.concat([start, target_ids], axis=1)  # (B, T + 1)
    core = core_of(model)
    if core.name == "seq2seq":
        twin = build_core(
            config,
            source_vec.vocabulary_size(),
            target_vec.vocabulary_size(),
            return_attention=True,
            fixed=True,
        )
        twin.set_weights(core.get_weights())
        _, weights = twin([source_ids, target_in], training=False)  # (B, T+1, S)
    else:
        weights = _cross_attention(core, source_ids, target_in)
    weights = np.asarray(weights)
    src_vocab, tgt_vocab = source_vec.get_vocabulary(), target_vec.get_vocabulary()
    maps = []
    for i in range(len(sources)):
        src = [src_vocab[t] for t in source_ids[i].numpy() if t]
        out = [tgt_vocab[t] for t in target_ids[i].numpy() if t] + ["[end]"]
        maps.append((src, out, weights[i, : len(out), : len(src)]))
    return maps


def _fit(ids, length: int):
    """Int ids cut or 0-padded to ``(B, length)``."""
    ids = tf.cast(ids[:, :length], tf.int32)
    return tf.pad(ids, [[0, 0], [0, length - tf.shape(ids)[1]]])


def _cross_attention(core, source_ids, target_in):
    encoded, source_mask = core.get_layer("encoder")(source_ids, training=False)
    decoder = core.get_layer("decoder")
    x = decoder.get_layer("target_embedding")(target_in)
    mask = tf.not_equal(target_in, 0)
    blocks = [layer for layer in decoder.layers if layer.name.startswith("decoder_")]
    scores = None
    for block in blocks:
        x, scores = block(
            x,
            encoded,
            padding_mask=mask,
            encoder_padding_mask=source_mask,
            return_attention_scores=True,
            training=False,
        )
    return tf.reduce_mean(scores["cross_attention"], axis=1)  # (B, T+1, S)
