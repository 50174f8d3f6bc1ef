"""METEOR (exact matching) and LEPOR on examples worked out by hand."""

import math

import pytest

from dltoolkit.metrics import (
    corpus_lepor,
    corpus_meteor,
    sentence_lepor,
    sentence_meteor,
)
from dltoolkit.metrics.lepor import align as lepor_align
from dltoolkit.metrics.lepor import length_penalty
from dltoolkit.metrics.meteor import align, count_chunks, meteor_from_counts

# === METEOR ===


def test_meteor_identical():
    # m = 6, P = R = 1, Fmean = 1; one chunk: penalty 0.5 * (1/6)^3.
    score = sentence_meteor("the cat sat on the mat", ["the cat sat on the mat"])
    assert score == pytest.approx(1 - 0.5 / 216)


def test_meteor_reordered_chunks():
    # hyp: the cat | sat | on the mat   (3 chunks in the reference
    # "on the mat sat the cat"); m = 6, P = R = 1, Fmean = 1,
    # penalty = 0.5 * (3/6)^3 = 0.0625.
    hyp, ref = "the cat sat on the mat", "on the mat sat the cat"
    alignment = align(hyp.split(), ref.split())
    assert alignment == [(0, 4), (1, 5), (2, 3), (3, 0), (4, 1), (5, 2)]
    assert count_chunks(alignment) == 3
    assert sentence_meteor(hyp, [ref]) == pytest.approx(0.9375)


def test_meteor_partial_match():
    # hyp "the cat sat on mat" (c = 5), ref "the cat is on the mat" (r = 6):
    # aligned the, cat, on, mat -> m = 4 in chunks [the cat] [on] [mat].
    # P = 4/5, R = 4/6; Fmean = 10PR / (R + 9P) = (16/3) / (118/15) = 40/59;
    # penalty = 0.5 * (3/4)^3 = 27/128; METEOR = 40/59 * 101/128 = 505/944.
    score = sentence_meteor("the cat sat on mat", ["the cat is on the mat"])
    assert score == pytest.approx(505 / 944)


def test_meteor_best_reference_and_no_match():
    refs = ["dogs bark", "the cat sat on the mat"]
    assert sentence_meteor("the cat sat on the mat", refs) == pytest.approx(
        1 - 0.5 / 216
    )
    assert sentence_meteor("xyz", ["a b c"]) == 0.0
    assert sentence_meteor("", ["a b c"]) == 0.0


def test_meteor_corpus_aggregates_statistics():
    # Segment 1: "a b c" = "a b c": m = 3, c = 3, r = 3, 1 chunk.
    # Segment 2: "x y" vs "y x z": m = 2, c = 2, r = 3, 2 chunks.
    # Totals m = 5, c = 5, r = 6, chunks = 3: P = 1, R = 5/6,
    # Fmean = (50/6) / (59/6) = 50/59, penalty = 0.5 * (3/5)^3 = 0.108.
    score = corpus_meteor(["a b c", "x y"], [["a b c", "y x z"]])
    assert score == pytest.approx(50 / 59 * (1 - 0.108))
    assert meteor_from_counts(5, 5, 6, 3) == pytest.approx(score)


# === LEPOR ===


def test_lepor_worked_example():
    # hyp "the cat sat on mat" (c = 5), ref "the cat is on the mat" (r = 6).
    # Alignment (1-based): 1->1, 2->2, 4->4, 5->6 (the first "the" has the
    # context "cat"), m = 4.
    # LP = exp(1 - 6/5); NPD = (1/5)(|1/5-1/6| + |2/5-2/6| + |4/5-4/6| + |1-1|)
    #    = (1/5)(7/30) = 7/150; P = 4/5, R = 2/3, Harmonic = 2/(3/2 + 5/4) = 8/11.
    hyp, ref = "the cat sat on mat", "the cat is on the mat"
    assert lepor_align(hyp.split(), ref.split()) == [(0, 0), (1, 1), (3, 3), (4, 5)]
    expected = math.exp(1 - 6 / 5) * math.exp(-7 / 150) * 8 / 11
    assert sentence_lepor(hyp, [ref]) == pytest.approx(expected)
    # alpha = 9 (recall), beta = 1: Harmonic = 10 / (9/R + 1/P) = 40/59.
    weighted = math.exp(1 - 6 / 5) * math.exp(-7 / 150) * 40 / 59
    assert sentence_lepor(hyp, [ref], alpha=9, beta=1) == pytest.approx(weighted)


def test_lepor_context_decides_between_repeats():
    # hyp "a b a", ref "a a b": the first "a" goes to reference position 2,
    # whose next word "b" matches; then b->3, a->1. LP = 1, P = R = 1,
    # NPD = (1/3)(|1/3-2/3| + |2/3-3/3| + |3/3-1/3|) = 4/9.
    assert lepor_align("a b a".split(), "a a b".split()) == [(0, 1), (1, 2), (2, 0)]
    assert sentence_lepor("a b a", ["a a b"]) == pytest.approx(math.exp(-4 / 9))


def test_lepor_position_decides_without_context():
    # hyp "x a" (c = 2), ref "a y a" (r = 3): the nearer "a" (3/3 vs 1/3 for
    # hypothesis position 2/2) is chosen, so NPD = 0. P = 1/2, R = 1/3,
    # Harmonic = 2 / (3 + 2) = 0.4; LP = exp(1 - 3/2).
    assert lepor_align("x a".split(), "a y a".split()) == [(1, 2)]
    assert sentence_lepor("x a", ["a y a"]) == pytest.approx(0.4 * math.exp(-0.5))


def test_lepor_length_penalty_both_ways():
    assert length_penalty(4, 4) == 1.0
    assert length_penalty(2, 4) == pytest.approx(math.exp(1 - 4 / 2))  # short
    assert length_penalty(8, 4) == pytest.approx(math.exp(1 - 8 / 4))  # long
    assert length_penalty(0, 4) == 0.0


def test_lepor_corpus_is_the_mean():
    hyps = ["the cat sat on mat", "a b a"]
    refs = [["the cat is on the mat", "a a b"]]
    expected = (
        math.exp(1 - 6 / 5) * math.exp(-7 / 150) * 8 / 11 + math.exp(-4 / 9)
    ) / 2
    assert corpus_lepor(hyps, refs) == pytest.approx(expected)
    assert corpus_lepor(["a b"], [["a b"]]) == 1.0
