"""Word n-gram features for the linear models: vocabulary, NB ratios, in-graph layer.

The n-gram models (the ``nblr`` model kind and the baselines) read the words
of :func:`~dltoolkit.data.sentiment.vectorizer.clean_text` with
``keep_marks=True`` (lower case, ``<br />`` removed, ``!`` and ``?`` kept as
words) and their n-grams up to ``ngrams`` words, as binary features: a
feature is 1 when the n-gram occurs in the review. The vocabulary and the
naive-Bayes log-count ratios are computed here in Python from the training
split (a ``Counter`` over each review's set of n-grams: far faster than
``TextVectorization.adapt`` for a million n-grams); :class:`NgramVectorizer`
turns raw strings into the same features inside the model, so training, the
evaluation and the export share one tokenization.
"""

from __future__ import annotations

import collections

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.data.sentiment.vectorizer import clean_text, tokenize

# Characters read per review: about 20,000 words, 8 times IMDB's longest
# review, so that a huge input costs no more than a long one.
MAX_CHARS = 100_000


def ngram_tokenize(texts: list[str]) -> list[list[str]]:
    """The words the n-gram models see in each text (as :class:`NgramVectorizer`)."""
    return tokenize([t[:MAX_CHARS] for t in texts], keep_marks=True)


def ngram_set(words: list[str], ngrams: int) -> set[str]:
    """The distinct n-grams of ``words``, 1 to ``ngrams`` words joined by a space."""
    out = set(words)
    for n in range(2, ngrams + 1):
        out.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return out


def ngram_documents(texts: list[str], ngrams: int) -> list[set[str]]:
    """Each text's set of n-grams (its binary features)."""
    return [ngram_set(words, ngrams) for words in ngram_tokenize(texts)]


def ngram_vocabulary(
    documents: list[set[str]], *, min_count: int = 1, max_size: int | None = None
) -> list[str]:
    """The n-grams in at least ``min_count`` documents, most frequent first
    (ties alphabetical), at most ``max_size`` of them."""
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1. Received: {min_count}")
    counts = collections.Counter(g for doc in documents for g in doc)
    kept = [g for g, c in counts.items() if c >= min_count]
    kept.sort(key=lambda g: (-counts[g], g))
    return kept[:max_size] if max_size else kept


def binary_features(documents: list[set[str]], vocabulary: list[str]):
    """A SciPy CSR matrix ``(documents, len(vocabulary))`` of 0/1 float32."""
    import scipy.sparse as sp

    index = {g: i for i, g in enumerate(vocabulary)}
    indptr, columns = [0], []
    for doc in documents:
        columns.extend(sorted(index[g] for g in doc if g in index))
        indptr.append(len(columns))
    data = np.ones(len(columns), "float32")
    shape = (len(documents), len(vocabulary))
    return sp.csr_matrix((data, np.asarray(columns, "int64"), indptr), shape=shape)


def log_count_ratios(features, labels, *, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratios ``r = log((p / |p|_1) / (q / |q|_1))``.

    ``p = alpha + sum of the positive rows``, ``q`` the same over the
    negative rows (Wang and Manning 2012, section 2.1), for binary
    ``features`` (a SciPy sparse matrix or an array) and 0/1 ``labels``.
    """
    if alpha <= 0:
        raise ValueError(f"nb_alpha must be > 0. Received: {alpha}")
    labels = np.asarray(labels)
    if not (labels == 1).any() or not (labels == 0).any():
        raise ValueError("log-count ratios need positive and negative examples")
    p = alpha + np.asarray(features[labels == 1].sum(axis=0), "float64").ravel()
    q = alpha + np.asarray(features[labels == 0].sum(axis=0), "float64").ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


@keras.saving.register_keras_serializable(package="dltoolkit")
class NgramVectorizer(keras.layers.Layer):
    """Strings ``(batch,)`` to sparse binary n-gram features ``(batch, V + 1)``.

    Feature 0 counts any n-gram outside the vocabulary; feature ``i + 1`` is
    ``vocabulary[i]``. The vocabulary is set with :meth:`set_vocabulary`
    after construction, so it is saved as a file in the ``.keras`` archive
    (``TextVectorization``'s asset), not in the model's JSON config.

    Args:
        ngrams: the longest n-gram (1: words only, 2: words and bigrams).
        vocabulary_size: ``len(vocabulary)``, fixing the output width.
    """

    def __init__(self, *, ngrams=2, vocabulary_size, **kwargs):
        super().__init__(**kwargs)
        if isinstance(ngrams, bool) or not isinstance(ngrams, int) or ngrams < 1:
            raise ValueError(f"ngrams must be a positive integer. Received: {ngrams!r}")
        self.ngrams = ngrams
        self.vocabulary_size = int(vocabulary_size)
        self.lookup = keras.layers.TextVectorization(
            standardize=None,
            split="whitespace",
            ngrams=ngrams if ngrams > 1 else None,
            output_mode="multi_hot",
            sparse=True,
            name="text_vectorization",
        )
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.supports_jit = False

    def set_vocabulary(self, vocabulary: list[str]) -> None:
        if len(vocabulary) != self.vocabulary_size:
            raise ValueError(
                f"vocabulary must hold {self.vocabulary_size} n-grams. "
                f"Received: {len(vocabulary)}"
            )
        self.lookup.set_vocabulary(list(vocabulary))

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        texts = tf.reshape(tf.convert_to_tensor(inputs, tf.string), [-1])
        texts = tf.strings.unicode_transcode(
            texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0x20
        )
        texts = tf.strings.substr(texts, 0, MAX_CHARS, unit="UTF8_CHAR")
        features = self.lookup(clean_text(texts, keep_marks=True))
        return tf.cast(features, tf.float32)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocabulary_size + 1)

    def compute_output_spec(self, inputs):
        shape = self.compute_output_shape(inputs.shape)
        return keras.KerasTensor(shape, dtype="float32", sparse=True)

    def get_config(self):
        config = super().get_config()
        config.update(ngrams=self.ngrams, vocabulary_size=self.vocabulary_size)
        return config
