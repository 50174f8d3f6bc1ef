"""NIST against NLTK's nist_score (no NLTK data needed)."""

import random

import pytest
from metric_corpora import make_corpus, perturb, random_segment
from nltk.translate.nist_score import corpus_nist as nltk_corpus_nist
from nltk.translate.nist_score import sentence_nist as nltk_sentence_nist
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from dltoolkit.metrics import corpus_nist, sentence_nist
from dltoolkit.metrics.nist import nist_length_penalty


def _nltk(hyps, refs, split, n=5):
    return nltk_corpus_nist(
        [[split(r) for r in segment] for segment in zip(*refs)],
        [split(h) for h in hyps],
        n=n,
    )


def _nltk_defined(hyps, refs, split, n):
    # NLTK divides by zero when no hypothesis reaches order n or when there
    # are no reference words.
    return any(len(split(h)) >= n for h in hyps) and any(
        split(r) for stream in refs for r in stream
    )


@pytest.mark.parametrize("n", [1, 3, 5])
def test_corpus_nist_parity_whitespace_tokens(corpus, n):
    hyps, refs = corpus
    ours = corpus_nist(hyps, refs, tokenize="none", max_ngram_order=n)
    assert ours == pytest.approx(_nltk(hyps, refs, str.split, n), abs=1e-9)


def test_corpus_nist_parity_13a_tokens(single_ref_corpus):
    hyps, refs = single_ref_corpus
    split = Tokenizer13a()
    expected = _nltk(hyps, refs, lambda s: split(s.rstrip()).split())
    assert corpus_nist(hyps, refs) == pytest.approx(expected, abs=1e-9)


def test_corpus_nist_parity_small_corpora():
    rng = random.Random(4)
    checked = 0
    for _ in range(60):
        hyps, refs = make_corpus(
            rng.randrange(10**6), rng.randint(1, 5), rng.randint(1, 3)
        )
        n = rng.randint(1, 5)
        if not _nltk_defined(hyps, refs, str.split, n):
            continue
        ours = corpus_nist(hyps, refs, tokenize="none", max_ngram_order=n)
        assert ours == pytest.approx(_nltk(hyps, refs, str.split, n), abs=1e-9)
        checked += 1
    assert checked > 30


def test_sentence_nist_parity():
    rng = random.Random(8)
    for _ in range(100):
        hyp = random_segment(rng)
        refs = [perturb(rng, hyp) for _ in range(rng.randint(1, 3))]
        if len(hyp.split()) < 5 or not any(r.split() for r in refs):
            continue
        expected = nltk_sentence_nist([r.split() for r in refs], hyp.split())
        assert sentence_nist(hyp, refs, tokenize="none") == pytest.approx(expected)


def test_nltk_docstring_example():
    hyp1 = (
        "It is a guide to action which ensures that the military always obeys "
        "the commands of the party"
    )
    hyp2 = (
        "It is to insure the troops forever hearing the activity guidebook that "
        "party direct"
    )
    refs = [
        "It is a guide to action that ensures that the military will forever heed "
        "Party commands",
        "It is the guiding principle which guarantees the military forces always "
        "being under the command of the Party",
        "It is the practical guide for the army always to heed the directions of "
        "the party",
    ]
    assert sentence_nist(hyp1, refs, tokenize="none") == pytest.approx(3.3709, abs=1e-4)
    assert sentence_nist(hyp2, refs, tokenize="none") == pytest.approx(1.4619, abs=1e-4)


def test_length_penalty():
    assert nist_length_penalty(3, 2) == pytest.approx(0.5)  # hyp 2/3 of ref
    assert nist_length_penalty(3, 3) == nist_length_penalty(3, 5) == 1.0


def test_orders_no_hypothesis_reaches_score_zero_not_crash():
    # NLTK raises ZeroDivisionError here; the missing orders contribute 0.
    assert corpus_nist(["a b"], [["a b"]], tokenize="none") > 0
