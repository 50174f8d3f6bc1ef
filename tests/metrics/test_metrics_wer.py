"""WER and CER against jiwer (default transforms); the edit distance by hand."""

import itertools
import random

import jiwer
import pytest
from metric_corpora import perturb, random_segment

from dltoolkit.metrics import cer, edit_distance, wer


def _reference_distance(a, b):
    """Textbook Levenshtein recursion, row by row."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row = row, [i]
        for j, y in enumerate(b, 1):
            row.append(min(prev[j - 1] + (x != y), prev[j] + 1, row[j - 1] + 1))
    return row[-1]


def test_edit_distance_by_hand():
    assert edit_distance("kitten", "sitting") == 3  # k->s, e->i, +g
    assert edit_distance("flaw", "lawn") == 2  # -f, +n
    assert edit_distance([], ["a", "b"]) == 2
    assert edit_distance(["a", "b"], []) == 2
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("the cat sat".split(), "cat sat the".split()) == 2


def test_edit_distance_exhaustive_small():
    words = "ab"
    for n, m in itertools.product(range(5), repeat=2):
        for a in itertools.product(words, repeat=n):
            for b in itertools.product(words, repeat=min(m, 3)):
                assert edit_distance(a, b) == _reference_distance(a, b)


@pytest.fixture(scope="module")
def asr_corpus():
    rng = random.Random(21)
    refs = [random_segment(rng) for _ in range(300)]
    hyps = [
        perturb(rng, r) if rng.random() < 0.9 else random_segment(rng) for r in refs
    ]
    return refs, hyps


def test_wer_parity(asr_corpus):
    refs, hyps = asr_corpus
    assert wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), abs=1e-12)


def test_cer_parity(asr_corpus):
    refs, hyps = asr_corpus
    assert cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), abs=1e-12)


def test_segment_parity(asr_corpus):
    for ref, hyp in zip(*asr_corpus):
        if ref.strip():  # jiwer rejects nothing, but an empty ref is a corner case
            assert wer(ref, hyp) == pytest.approx(jiwer.wer(ref, hyp), abs=1e-12)
            assert cer(ref, hyp) == pytest.approx(jiwer.cer(ref, hyp), abs=1e-12)


def test_worked_example():
    # "the cat sat on the mat" -> "the cat sit on mat": sat->sit, -the: 2/6.
    assert wer("the cat sat on the mat", "the cat sit on mat") == pytest.approx(2 / 6)
    assert cer(["ab", "abc"], ["b", "abd"]) == pytest.approx(2 / 5)


def test_no_reference_words_counts_insertions():
    assert wer([""], ["a b"]) == jiwer.wer([""], ["a b"]) == 2
    assert cer(["  "], ["xy"]) == jiwer.cer(["  "], ["xy"]) == 2


def test_whitespace_rules_match_jiwer():
    for ref, hyp in [("a\tb  c", "a\tb c"), (" a  b ", "a b"), ("a\xa0b", "a b")]:
        assert wer(ref, hyp) == jiwer.wer(ref, hyp)
        assert cer(ref, hyp) == jiwer.cer(ref, hyp)
