"""Raw review text to token ids, inside the model (training and export alike).

:class:`ReviewVectorizer` cleans the text in-graph (invalid UTF-8 replaced,
lower case, ``<br />`` as a sentence break, punctuation dropped), looks the
words up with a ``TextVectorization`` layer and pads. Long text is truncated:
only the first ``max_tokens`` words are kept (HAN: the first ``max_sentences``
sentences of at most ``max_words`` words each), and characters beyond
``CHARS_PER_TOKEN * max_tokens`` are dropped before tokenizing so that a huge
input costs no more than a long one.
"""

from __future__ import annotations

import collections

import keras
import tensorflow as tf

PAD, OOV, CLS, MASK = "", "[UNK]", "[CLS]", "[MASK]"
RESERVED = (CLS, MASK)  # ids 2 and 3, after padding (0) and out-of-vocabulary (1)
CHARS_PER_TOKEN = 24
_SENTENCE_END = r"[.!?;]+|<br\s*/?>"
_NOT_A_WORD = r"[^\p{L}\p{N}']+"
_NOT_A_WORD_OR_MARK = r"[^\p{L}\p{N}'!?]+"
_LINE_BREAK = r"<br\s*/?>"


def clean_text(texts, *, keep_sentences: bool = False, keep_marks: bool = False):
    """Lower-cased words separated by single spaces, in-graph.

    Args:
        texts: string tensor of any shape.
        keep_sentences: end each sentence with ``" . "`` instead of dropping
            the sentence punctuation.
        keep_marks: keep each ``!`` and ``?`` as a word of its own (the
            n-gram models' tokens: ``[a-z0-9']+|[!?]`` in any script).

    Returns:
        A string tensor of the same shape.
    """
    if keep_sentences and keep_marks:
        raise ValueError("keep_sentences and keep_marks do not go together.")
    texts = tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0x20
    )
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, "[’`]", "'")
    if keep_marks:
        texts = tf.strings.regex_replace(texts, _LINE_BREAK, " ")
        texts = tf.strings.regex_replace(texts, "([!?])", r" \1 ")
        texts = tf.strings.regex_replace(texts, _NOT_A_WORD_OR_MARK, " ")
        return tf.strings.strip(texts)
    end = " . " if keep_sentences else " "
    texts = tf.strings.regex_replace(texts, _SENTENCE_END, end)
    if keep_sentences:
        texts = tf.strings.regex_replace(texts, r"[^\p{L}\p{N}'.]+", " ")
    else:
        texts = tf.strings.regex_replace(texts, _NOT_A_WORD, " ")
    return tf.strings.strip(texts)


def tokenize(texts: list[str], *, keep_marks: bool = False) -> list[list[str]]:
    """The words the model sees in each text (for vocabularies and baselines);
    ``keep_marks``: the n-gram models' words (:func:`clean_text`)."""
    out = []
    for start in range(0, len(texts), 4096):
        batch = tf.constant(texts[start : start + 4096], dtype=tf.string)
        out += [
            t.decode().split() for t in clean_text(batch, keep_marks=keep_marks).numpy()
        ]
    return out


def build_vocabulary(texts: list[str], max_size: int) -> list[str]:
    """The ``max_size - 4`` most frequent words (ties: alphabetical), after the
    reserved ``[CLS]`` and ``[MASK]``; ids 0 and 1 are padding and unknown.
    """
    if max_size < 5:
        raise ValueError(f"vocab_size must be >= 5. Received: vocab_size={max_size}")
    counts = collections.Counter(w for words in tokenize(texts) for w in words)
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return [*RESERVED, *[w for w in words if w not in RESERVED][: max_size - 4]]


@keras.saving.register_keras_serializable(package="dltoolkit")
class ReviewVectorizer(keras.layers.Layer):
    """Strings ``(batch,)`` to int32 token ids, truncated and padded with 0.

    Flat output ``(batch, T)``: ``T`` is the longest review of the batch (at
    least ``min_length``, at most ``max_tokens``), or ``max_tokens`` with
    ``fixed_length``. With ``max_sentences`` the output is
    ``(batch, max_sentences, max_words)`` for hierarchical models (empty
    sentences are skipped). ``cls_token`` puts ``[CLS]`` first (BERT).

    Args:
        vocabulary: words for ids 2, 3, ... (from :func:`build_vocabulary`).
        max_tokens: words kept per review (flat output).
        max_sentences: sentences kept per review; None for flat output.
        max_words: words kept per sentence (with ``max_sentences``).
        cls_token: prepend the ``[CLS]`` id (counts toward ``max_tokens``).
        fixed_length: pad flat output to exactly ``max_tokens``.
        min_length: the least width of flat output (an empty batch still
            has one padding step).
    """

    def __init__(
        self,
        vocabulary,
        *,
        max_tokens=256,
        max_sentences=None,
        max_words=None,
        cls_token=False,
        fixed_length=False,
        min_length=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        self.max_tokens = int(max_tokens)
        self.max_sentences = max_sentences
        self.max_words = max_words
        self.cls_token = bool(cls_token)
        self.fixed_length = bool(fixed_length)
        self.min_length = int(min_length)
        if self.max_tokens < 1 + self.cls_token:
            raise ValueError(f"max_tokens is too small. Received: {max_tokens}")
        if (max_sentences is None) != (max_words is None):
            raise ValueError(
                "max_sentences and max_words go together. Received: "
                f"max_sentences={max_sentences}, max_words={max_words}"
            )
        self.lookup = keras.layers.TextVectorization(
            vocabulary=self.vocabulary,
            standardize=None,
            split="whitespace",
            ragged=True,
            name="text_vectorization",
        )
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.supports_jit = False

    @property
    def vocabulary_size(self) -> int:
        """Ids in use, padding and out-of-vocabulary included."""
        return len(self.vocabulary) + 2

    def build(self, input_shape=None):
        self.built = True

    def _max_chars(self) -> int:
        words = self.max_tokens
        if self.max_sentences is not None:
            words = self.max_sentences * self.max_words
        return CHARS_PER_TOKEN * words

    def call(self, inputs):
        texts = tf.reshape(tf.convert_to_tensor(inputs, tf.string), [-1])
        texts = tf.strings.unicode_transcode(
            texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0x20
        )
        texts = tf.strings.substr(texts, 0, self._max_chars(), unit="UTF8_CHAR")
        if self.max_sentences is not None:
            return self._sentences(texts)
        ids = self.lookup(clean_text(texts))  # ragged (B, None) int64
        keep = self.max_tokens - int(self.cls_token)
        ids = ids[:, :keep]
        if self.cls_token:
            cls = tf.fill([ids.nrows(), 1], tf.constant(2, ids.dtype))
            ids = tf.concat([tf.RaggedTensor.from_tensor(cls), ids], axis=1)
        width = self.max_tokens if self.fixed_length else None
        dense = ids.to_tensor(default_value=0, shape=[None, width])
        short = tf.maximum(0, self.min_length - tf.shape(dense)[1])
        dense = tf.pad(dense, [[0, 0], [0, short]])
        return tf.cast(dense, tf.int32)

    def _sentences(self, texts):
        marked = clean_text(texts, keep_sentences=True)
        sentences = tf.strings.split(marked, ".")  # ragged (B, S) strings
        words = self.lookup(sentences.flat_values)  # ragged (N, W)
        nonempty = words.row_lengths() > 0
        words = tf.ragged.boolean_mask(words, nonempty)
        flags = tf.RaggedTensor.from_row_splits(
            tf.cast(nonempty, tf.int64), sentences.row_splits
        )
        counts = tf.reduce_sum(flags, axis=1)  # non-empty sentences per review
        docs = tf.RaggedTensor.from_row_lengths(words, counts)  # (B, S, W)
        docs = docs[:, : self.max_sentences, : self.max_words]
        shape = [None, self.max_sentences, self.max_words]
        return tf.cast(docs.to_tensor(default_value=0, shape=shape), tf.int32)

    def compute_output_shape(self, input_shape):
        if self.max_sentences is not None:
            return (input_shape[0], self.max_sentences, self.max_words)
        return (input_shape[0], self.max_tokens if self.fixed_length else None)

    def compute_output_spec(self, inputs):
        shape = self.compute_output_shape(inputs.shape)
        return keras.KerasTensor(shape, dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary=self.vocabulary,
            max_tokens=self.max_tokens,
            max_sentences=self.max_sentences,
            max_words=self.max_words,
            cls_token=self.cls_token,
            fixed_length=self.fixed_length,
            min_length=self.min_length,
        )
        return config
