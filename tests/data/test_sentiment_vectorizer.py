"""ReviewVectorizer: raw text to ids in-graph; bad and huge input; saving."""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.data.sentiment.vectorizer import (
    ReviewVectorizer,
    build_vocabulary,
    tokenize,
)

VOCAB = build_vocabulary(
    ["the plot was not good", "the acting was great", "good good"], 50
)


def _ids(vectorizer, texts):
    return vectorizer(tf.constant(texts, tf.string)).numpy()


def _id(word):
    return VOCAB.index(word) + 2


def test_vocabulary_order_reserved_first_and_capped():
    assert VOCAB[:2] == ["[CLS]", "[MASK]"]
    # By frequency, ties alphabetical.
    assert VOCAB[2:5] == ["good", "the", "was"]
    assert VOCAB[5:] == ["acting", "great", "not", "plot"]
    assert build_vocabulary(["b a a c"], 6) == ["[CLS]", "[MASK]", "a", "b"]
    with pytest.raises(ValueError, match="vocab_size must be >= 5"):
        build_vocabulary(["a"], 4)


def test_cleaning_case_punctuation_and_line_breaks():
    assert tokenize(["The PLOT, was<br />NOT good!!", "Didn’t  care"]) == [
        ["the", "plot", "was", "not", "good"],
        ["didn't", "care"],
    ]


def test_flat_ids_unknown_words_and_empty_reviews():
    vectorizer = ReviewVectorizer(VOCAB, max_tokens=8)
    ids = _ids(vectorizer, ["The plot was NOT good.", "zebra quux", ""])
    expected_first = [_id(w) for w in ("the", "plot", "was", "not", "good")]
    assert ids.shape == (3, 5) and ids.dtype == np.int32
    assert ids[0].tolist() == expected_first
    assert ids[1].tolist() == [1, 1, 0, 0, 0]  # unknown words -> 1
    assert ids[2].tolist() == [0] * 5  # an empty review is all padding
    assert _ids(vectorizer, ["", "   "]).shape == (2, 1)  # never zero-width


def test_invalid_utf8_bytes_are_replaced():
    vectorizer = ReviewVectorizer(VOCAB, max_tokens=8)
    ids = _ids(vectorizer, [b"good\xff\xfe plot", b"\xc3"])
    assert ids[0].tolist() == [_id("good"), _id("plot")]
    assert ids[1].tolist() == [0, 0]


def test_huge_text_is_truncated_quickly():
    vectorizer = ReviewVectorizer(VOCAB, max_tokens=6)
    huge = "good plot " * 500_000  # 5 MB, a million words
    start = time.perf_counter()
    ids = _ids(vectorizer, [huge, "the acting"])
    assert time.perf_counter() - start < 5
    assert ids.shape == (2, 6)
    assert ids[0].tolist() == [_id("good"), _id("plot")] * 3


def test_cls_and_fixed_length():
    vectorizer = ReviewVectorizer(
        VOCAB, max_tokens=5, cls_token=True, fixed_length=True
    )
    ids = _ids(vectorizer, ["the plot was not good at all", ""])
    assert ids.tolist() == [
        [2, _id("the"), _id("plot"), _id("was"), _id("not")],
        [2, 0, 0, 0, 0],
    ]


def test_sentences_for_hierarchical_models():
    vectorizer = ReviewVectorizer(VOCAB, max_sentences=2, max_words=3)
    ids = _ids(
        vectorizer,
        ["... The plot was not good!  Great acting. Third sentence.", "", "good"],
    )
    assert ids.shape == (3, 2, 3)
    # Empty sentences are skipped; words and sentences are truncated.
    assert ids[0, 0].tolist() == [_id("the"), _id("plot"), _id("was")]
    assert ids[0, 1].tolist() == [_id("great"), _id("acting"), 0]
    assert not ids[1].any()
    assert ids[2].tolist() == [[_id("good"), 0, 0], [0, 0, 0]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_sentences and max_words"):
        ReviewVectorizer(VOCAB, max_sentences=3)
    with pytest.raises(ValueError, match="max_tokens"):
        ReviewVectorizer(VOCAB, max_tokens=1, cls_token=True)


def test_saved_in_a_model(tmp_path):
    texts = keras.Input(shape=(), dtype="string")
    vectorizer = ReviewVectorizer(VOCAB, max_sentences=2, max_words=4)
    model = keras.Model(texts, vectorizer(texts))
    assert model.output.shape == (None, 2, 4)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    probe = tf.constant(["The plot. was good", "zebra"])
    np.testing.assert_array_equal(reloaded(probe), model(probe))
    assert reloaded.layers[-1].get_config()["vocabulary"] == VOCAB
