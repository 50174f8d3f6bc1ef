"""Subword vocabularies for real corpora: SentencePiece, inside the graph.

A word vocabulary lowercases text and turns every rare word into ``[UNK]``:
names lose their capitals, and a sentence with an unseen word loses it. A
subword vocabulary (:func:`train_subwords`, learned from the training split
with the `sentencepiece <https://github.com/google/sentencepiece>`_ library)
keeps the text as written: frequent words are one piece, rare words and names
are spelled from smaller pieces (characters never seen in training from their
UTF-8 bytes), and detokenization gives back the text as written, case and
punctuation included (no Unicode normalization; runs of spaces become one).
:class:`SubwordVectorizer` runs the model in the graph with TensorFlow
Text's SentencePiece ops, so a model that holds it (and its SavedModel) still
takes and returns raw strings.

Ids follow the word vectorizer's convention (:mod:`.core`): 0 padding,
1 unknown, 2 ``[start]``, 3 ``[end]``, then the pieces.

References:
    Kudo, "Subword Regularization: Improving Neural Network Translation
    Models with Multiple Subword Candidates", ACL 2018 (the unigram model);
    Kudo and Richardson, "SentencePiece: A simple and language independent
    subword tokenizer and detokenizer for Neural Text Processing", EMNLP 2018.
"""

from __future__ import annotations

import base64
import io
import re

import keras
import tensorflow as tf

from dltoolkit.data.translation.core import (
    TranslationData,
    standardize,
    tokenize,
)
from dltoolkit.errors import DataError

MODEL_TYPES = ("unigram", "bpe")
# The smallest vocabulary: the 4 special ids, the 256 byte pieces and a few
# more (every piece of text is spelled, at worst byte by byte).
MIN_VOCAB_SIZE = 300


def train_subwords(
    texts: list[str], vocab_size: int, *, model_type: str = "unigram", seed: int = 0
) -> bytes:
    """Learns a SentencePiece model from ``texts``; returns its serialized proto.

    Args:
        texts: training sentences (both languages for a joint vocabulary).
        vocab_size: pieces, the special ids and the 256 byte pieces included;
            at least one piece per distinct character of ``texts``. A corpus
            too small for that many pieces gets the largest vocabulary it
            supports.
        model_type: ``"unigram"`` or ``"bpe"``.
        seed: fixes the sampling SentencePiece does on large corpora.

    Raises:
        DataError: no text, a bad ``model_type``, or a ``vocab_size`` below
            the minimum or below what the text's characters need.
    """
    import sentencepiece as spm

    if model_type not in MODEL_TYPES:
        raise DataError(
            f"Unknown subword model {model_type!r}. Valid: {', '.join(MODEL_TYPES)}."
        )
    if not isinstance(vocab_size, int) or vocab_size < MIN_VOCAB_SIZE:
        raise DataError(
            f"subword_vocab_size must be an integer >= {MIN_VOCAB_SIZE}. "
            f"Received: {vocab_size!r}"
        )
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise DataError("No training text to learn a subword vocabulary from.")
    spm.set_random_generator_seed(seed)
    proto = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=proto,
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=1.0,
            byte_fallback=True,
            # No NFKC: text comes back as written ("…" stays "…").
            normalization_rule_name="identity",
            pad_id=0,
            unk_id=1,
            bos_id=2,
            eos_id=3,
            hard_vocab_limit=False,  # a small corpus: fewer pieces, no error
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as error:
        # "Vocabulary size is smaller than required_chars. 300 vs 341."
        needed = re.search(r"required_chars\D*\d+\D+(\d+)", str(error))
        if needed is None:
            raise DataError(f"Subword training failed: {error}") from None
        raise DataError(
            f"subword_vocab_size={vocab_size} is below the {needed.group(1)} "
            "pieces this text needs (every distinct character, the 256 byte "
            "pieces and 4 special ids)."
        ) from None
    return proto.getvalue()


def _proto_bytes(model) -> bytes:
    if isinstance(model, bytes):
        return model
    if isinstance(model, str):  # from get_config
        return base64.b64decode(model)
    raise TypeError(
        "model must be a serialized SentencePiece model (bytes). "
        f"Received: a {type(model).__name__}"
    )


@keras.saving.register_keras_serializable(package="dltoolkit")
class SubwordVectorizer(keras.layers.Layer):
    """Strings ``(B,)`` -> piece ids ``(B, L)``, padded with 0; and back.

    Args:
        model: a serialized SentencePiece model (:func:`train_subwords`).
        sequence_length: the output length ``L`` (cut or padded); None pads
            each batch to its longest sentence.
        known_words: the words of the training text (as
            :func:`~dltoolkit.data.translation.core.tokenize` gives them), for
            :meth:`count_unknown`; None counts none.

    Text is checked for UTF-8 first: invalid bytes become U+FFFD, as
    :func:`~dltoolkit.data.translation.core.standardize` does for words.
    """

    def __init__(self, model, sequence_length=None, known_words=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.model = _proto_bytes(model)
        if sequence_length is not None and (
            not isinstance(sequence_length, int) or sequence_length < 1
        ):
            raise ValueError(
                "sequence_length must be a positive integer or None. "
                f"Received: sequence_length={sequence_length!r}"
            )
        self.sequence_length = sequence_length
        self.known_words = None if known_words is None else list(known_words)
        if self.known_words:
            self._words = keras.layers.StringLookup(
                vocabulary=self.known_words, num_oov_indices=1, name="known_words"
            )
        import tensorflow_text as tf_text

        self._tokenizer = tf_text.SentencepieceTokenizer(model=self.model)
        self._size = int(self._tokenizer.vocab_size())

    def build(self, input_shape=None):
        if self.known_words:
            self._words.build(None)
        self.built = True

    def vocabulary_size(self) -> int:
        return self._size

    def get_vocabulary(self) -> list[str]:
        """The pieces by id (``▁`` marks a piece that starts a word)."""
        ids = tf.range(self._size)
        return [p.decode("utf-8") for p in self._tokenizer.id_to_string(ids).numpy()]

    def tokenize(self, texts):
        """Ragged ids ``(B, None)`` of strings ``(B,)``."""
        texts = tf.strings.unicode_transcode(
            tf.convert_to_tensor(texts, tf.string), "UTF-8", "UTF-8", errors="replace"
        )
        return tf.cast(self._tokenizer.tokenize(texts), tf.int32)

    def call(self, texts):
        ids = self.tokenize(texts)
        if self.sequence_length is None:
            return ids.to_tensor(0)
        return ids.to_tensor(0, shape=[None, self.sequence_length])

    def detokenize(self, ids):
        """Text of ids ``(B, L)`` (dense or ragged); ids below 4 are skipped."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(tf.cast(ids, tf.int32))
        ids = tf.ragged.boolean_mask(ids, ids >= 4)
        return self._tokenizer.detokenize(ids)

    def count_unknown(self, texts):
        """Words of each text ``(B,)`` never seen in the training text (int32)."""
        texts = tf.convert_to_tensor(texts, tf.string)
        if not self.known_words:
            return tf.zeros(tf.shape(texts), tf.int32)
        words = tf.strings.split(standardize(texts))  # (B, None)
        unseen = tf.cast(self._words(words) == 0, tf.int32)  # OOV index 0
        return tf.reduce_sum(unseen, axis=1)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.sequence_length)

    def get_config(self):
        config = super().get_config()
        config.update(
            model=base64.b64encode(self.model).decode("ascii"),
            sequence_length=self.sequence_length,
            known_words=self.known_words,
        )
        return config


def with_subwords(
    data: TranslationData, vocab_size: int, *, model_type="unigram", seed=0
) -> TranslationData:
    """Learns one subword vocabulary from both sides of the train split.

    Sets ``data.subword_model`` (shared by source and target: names and
    numbers are the same pieces on both sides) and ``data.source_vocab`` to
    the words of the training sources, by which the translator counts
    ``unknown_words``; ``data.target_vocab`` is left empty.
    """
    texts = [s for s, _ in data.train] + [t for _, t in data.train]
    data.subword_model = train_subwords(
        texts, vocab_size, model_type=model_type, seed=seed
    )
    data.source_vocab = sorted(
        {w for ws in tokenize([s for s, _ in data.train]) for w in ws}
    )
    data.target_vocab = []
    return data
