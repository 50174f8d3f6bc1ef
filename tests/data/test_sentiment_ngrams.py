"""Word n-gram features: tokens, vocabulary, NB ratios, the in-graph vectorizer."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.data.sentiment.ngrams import (
    MAX_CHARS,
    NgramVectorizer,
    binary_features,
    log_count_ratios,
    ngram_documents,
    ngram_tokenize,
    ngram_vocabulary,
)

TEXTS = [
    "Great movie!<br /><br />I LOVED it.",
    "Not good, awful!!",
    "It was not bad at all?",
    "Boring and bad. Not good.",
    "",
]
LABELS = np.array([1, 0, 1, 0, 1])


def test_tokens_keep_marks_and_drop_line_breaks():
    assert ngram_tokenize(TEXTS[:3]) == [
        ["great", "movie", "!", "i", "loved", "it"],
        ["not", "good", "awful", "!", "!"],
        ["it", "was", "not", "bad", "at", "all", "?"],
    ]
    assert ngram_tokenize(["Don’t go", "naïve café 2x"]) == [
        ["don't", "go"],
        ["naïve", "café", "2x"],
    ]


def test_vocabulary_counts_documents_not_occurrences():
    documents = ngram_documents(TEXTS, 2)
    assert documents[1] == {
        "not",
        "good",
        "awful",
        "!",
        "not good",
        "good awful",
        "awful !",
        "! !",
    }
    vocabulary = ngram_vocabulary(documents)
    # "not" is in three reviews, "!" in two (twice in one): most frequent
    # first, ties alphabetical.
    counts = {g: sum(g in d for d in documents) for g in vocabulary}
    assert [counts[g] for g in vocabulary] == sorted(counts.values(), reverse=True)
    assert vocabulary[:6] == ["not", "!", "bad", "good", "it", "not good"]
    assert set(ngram_vocabulary(documents, min_count=2)) == {
        g for g, c in counts.items() if c >= 2
    }
    assert ngram_vocabulary(documents, max_size=3) == vocabulary[:3]
    with pytest.raises(ValueError, match="min_count"):
        ngram_vocabulary(documents, min_count=0)


def test_log_count_ratios_equal_a_brute_force_computation():
    documents = ngram_documents(TEXTS, 2)
    vocabulary = ngram_vocabulary(documents)
    features = binary_features(documents, vocabulary)
    dense = features.toarray()
    for i, doc in enumerate(documents):
        assert {g for g, x in zip(vocabulary, dense[i]) if x} == doc
    alpha = 0.5
    ratios = log_count_ratios(features, LABELS, alpha=alpha)
    # p_j = alpha + number of positive reviews holding n-gram j, q_j likewise.
    p = [
        alpha + sum(g in d for d, y in zip(documents, LABELS) if y) for g in vocabulary
    ]
    q = [
        alpha + sum(g in d for d, y in zip(documents, LABELS) if not y)
        for g in vocabulary
    ]
    for j in range(len(vocabulary)):
        expected = math.log(p[j] / sum(p)) - math.log(q[j] / sum(q))
        assert ratios[j] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(log_count_ratios(dense, LABELS, alpha=alpha), ratios)
    with pytest.raises(ValueError, match="positive and negative"):
        log_count_ratios(features, np.ones(len(TEXTS)))


def test_vectorizer_gives_the_python_features_and_survives_saving(tmp_path):
    documents = ngram_documents(TEXTS, 2)
    vocabulary = ngram_vocabulary(documents, min_count=2)
    layer = NgramVectorizer(ngrams=2, vocabulary_size=len(vocabulary))
    layer.set_vocabulary(vocabulary)
    texts = [*TEXTS, "not good at all", "bad ÿ letters"]
    out = layer(tf.constant(texts))
    assert isinstance(out, tf.SparseTensor)
    dense = tf.sparse.to_dense(out).numpy()
    assert dense.shape == (len(texts), len(vocabulary) + 1)
    expected = binary_features(ngram_documents(texts, 2), vocabulary).toarray()
    np.testing.assert_array_equal(dense[:, 1:], expected)
    # Feature 0 marks n-grams outside the vocabulary; an empty text has none.
    assert dense[0, 0] == 1 and dense[4].sum() == 0
    inputs = keras.Input((), dtype="string")
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "v.keras")
    reloaded = keras.models.load_model(tmp_path / "v.keras")
    again = tf.sparse.to_dense(reloaded(tf.constant(texts))).numpy()
    np.testing.assert_array_equal(again, dense)
    with pytest.raises(ValueError, match="vocabulary must hold"):
        layer.set_vocabulary(vocabulary[:-1])


def test_vectorizer_reads_only_the_first_characters():
    layer = NgramVectorizer(ngrams=1, vocabulary_size=2)
    layer.set_vocabulary(["good", "bad"])
    huge = "x " * (MAX_CHARS // 2) + "bad"
    dense = tf.sparse.to_dense(layer(tf.constant([huge, "bad"]))).numpy()
    assert dense[0, 2] == 0 and dense[1, 2] == 1
    assert ngram_tokenize([huge])[0][-1] == "x"
