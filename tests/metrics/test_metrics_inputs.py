"""Bad input: one clear error, or 0 with a warning for an empty corpus."""

import pytest

from dltoolkit.metrics import (
    cer,
    corpus_bleu,
    corpus_chrf,
    corpus_lepor,
    corpus_meteor,
    corpus_nist,
    sentence_bleu,
    sentence_chrf,
    sentence_lepor,
    sentence_meteor,
    sentence_nist,
    wer,
)

CORPUS_METRICS = [corpus_bleu, corpus_chrf, corpus_nist, corpus_meteor, corpus_lepor]
SENTENCE_METRICS = [
    sentence_bleu,
    sentence_chrf,
    sentence_nist,
    sentence_meteor,
    sentence_lepor,
]


def _score(result):
    return getattr(result, "score", result)


@pytest.mark.parametrize("metric", CORPUS_METRICS, ids=lambda f: f.__name__)
def test_length_mismatch_names_both_lengths(metric):
    with pytest.raises(
        ValueError, match="references\\[1\\] has 2 segments but there are 3"
    ):
        metric(["a", "b", "c"], [["a", "b", "c"], ["a", "b"]])


@pytest.mark.parametrize("metric", [wer, cer], ids=lambda f: f.__name__)
def test_error_rate_length_mismatch(metric):
    with pytest.raises(ValueError, match="2 references and 3 hypotheses"):
        metric(["a", "b"], ["a", "b", "c"])


@pytest.mark.parametrize("metric", CORPUS_METRICS, ids=lambda f: f.__name__)
def test_non_string_items(metric):
    with pytest.raises(
        TypeError, match=r"hypotheses\[1\] must be a string. Received: int"
    ):
        metric(["a", 3], [["a", "b"]])
    with pytest.raises(TypeError, match=r"references\[0\]\[1\] must be a string"):
        metric(["a", "b"], [["a", b"b"]])
    with pytest.raises(TypeError, match="hypotheses must be a sequence of strings"):
        metric("a b", [["a b"]])


@pytest.mark.parametrize("metric", CORPUS_METRICS, ids=lambda f: f.__name__)
def test_flat_reference_list_is_explained(metric):
    with pytest.raises(TypeError, match=r"pass \[refs\], not refs"):
        metric(["a", "b"], ["a", "b"])


@pytest.mark.parametrize("metric", [wer, cer], ids=lambda f: f.__name__)
def test_error_rate_non_string(metric):
    with pytest.raises(TypeError, match=r"references\[0\] must be a string"):
        metric([None], ["a"])


@pytest.mark.parametrize("metric", CORPUS_METRICS, ids=lambda f: f.__name__)
def test_empty_corpus_scores_zero_with_warning(metric):
    with pytest.warns(UserWarning, match="the corpus is empty"):
        assert _score(metric([], [[]])) == 0.0


@pytest.mark.parametrize("metric", [wer, cer], ids=lambda f: f.__name__)
def test_empty_error_rate_corpus(metric):
    with pytest.warns(UserWarning, match="the corpus is empty"):
        assert metric([], []) == 0.0


def test_empty_bleu_result_is_complete():
    with pytest.warns(UserWarning):
        bleu = corpus_bleu([], [[], []])
    assert bleu.counts == bleu.totals == [0, 0, 0, 0]
    assert bleu.signature.startswith("nrefs:2|")
    assert str(bleu).startswith("BLEU = 0.00 0.0/0.0/0.0/0.0")


@pytest.mark.parametrize("metric", SENTENCE_METRICS, ids=lambda f: f.__name__)
def test_sentence_arguments(metric):
    with pytest.raises(TypeError, match="hypothesis must be a string"):
        metric(["a"], ["a"])
    with pytest.raises(TypeError, match="references must be a sequence"):
        metric("a", "a")
    with pytest.raises(ValueError, match="at least one reference"):
        metric("a", [])


def test_no_reference_streams():
    with pytest.raises(ValueError, match="at least one reference stream"):
        corpus_bleu(["a"], [])


def test_segment_without_any_reference():
    with pytest.raises(ValueError, match="Segment 1 has no reference"):
        corpus_bleu(["a", "b"], [["a", None], ["a", None]])


def test_bad_orders():
    with pytest.raises(
        ValueError, match="max_ngram_order must be an int >= 1. Received: 0"
    ):
        corpus_bleu(["a"], [["a"]], max_ngram_order=0)
    with pytest.raises(ValueError, match="char_order must be an int >= 0"):
        corpus_chrf(["a"], [["a"]], char_order=-1)
