"""LEPOR: Length penalty, Precision, n-gram Position difference penalty and
Recall (Han, Wong and Chao, 2012).

For a hypothesis of length c, a reference of length r and m aligned words:

    LEPOR = LP * NPosPenal * Harmonic(alpha R, beta P)

    LP        = exp(1 - r / c) if c < r;  1 if c = r;  exp(1 - c / r) if c > r
    NPosPenal = exp(-NPD),  NPD = (1 / c) * sum_i |i / c - j_i / r|
    Harmonic(alpha R, beta P) = (alpha + beta) / (alpha / R + beta / P)
    P = m / c,  R = m / r

The length penalty punishes hypotheses both shorter and longer than the
reference. In NPD, hypothesis word i (1-based) is aligned to reference word
j_i and positions are normalised by sentence length; unaligned words add 0.
alpha = beta = 1 gives the plain harmonic mean of precision and recall.

Alignment (exact words, one-to-one): hypothesis words are taken left to
right; among the free identical reference words, one whose neighbour
(previous or next word) also matches the hypothesis word's neighbour is
preferred (the n-gram context of the paper, n = 2), then the one nearest in
normalised position, then the leftmost.

The corpus score is the mean of the segment scores (LEPOR-A); a segment with
several references takes the best one.

References:
    Han, Wong and Chao (2012), LEPOR: a robust evaluation metric for machine
    translation with augmented factors, COLING.
    DSE 3151, "Evaluation of machine translation": LEPOR (enhanced length
    penalty, precision, recall, n-gram word order penalty).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dltoolkit.metrics._inputs import (
    check_reference_streams,
    check_segments,
    sentence_as_corpus,
    warn_empty_corpus,
)
from dltoolkit.metrics.tokenizers import get_tokenizer


def length_penalty(hyp_len: int, ref_len: int) -> float:
    """LP: exp(1 - r/c) if c < r, 1 if c = r, exp(1 - c/r) if c > r."""
    if hyp_len == ref_len:
        return 1.0
    if hyp_len == 0 or ref_len == 0:
        return 0.0
    if hyp_len < ref_len:
        return math.exp(1 - ref_len / hyp_len)
    return math.exp(1 - hyp_len / ref_len)


def align(hypothesis: Sequence[str], reference: Sequence[str]) -> list[tuple[int, int]]:
    """One-to-one exact alignment as 0-based pairs (hypothesis index,
    reference index), with LEPOR's context rule (see the module docstring)."""
    c, r = len(hypothesis), len(reference)
    taken = [False] * r
    pairs = []
    for i, word in enumerate(hypothesis):
        candidates = [j for j in range(r) if not taken[j] and reference[j] == word]
        if not candidates:
            continue

        def context(j: int, i: int = i) -> bool:
            before = i > 0 and j > 0 and hypothesis[i - 1] == reference[j - 1]
            after = i + 1 < c and j + 1 < r and hypothesis[i + 1] == reference[j + 1]
            return before or after

        def rank(j: int, i: int = i) -> tuple:
            return (not context(j), abs((i + 1) / c - (j + 1) / r), j)

        j = min(candidates, key=rank)
        taken[j] = True
        pairs.append((i, j))
    return pairs


def position_penalty(
    alignment: Sequence[tuple[int, int]], hyp_len: int, ref_len: int
) -> float:
    """NPosPenal = exp(-NPD), NPD = (1/c) sum |(i+1)/c - (j+1)/r| over aligned
    0-based pairs (i, j)."""
    if hyp_len == 0:
        return 0.0
    npd = sum(abs((i + 1) / hyp_len - (j + 1) / ref_len) for i, j in alignment)
    return math.exp(-npd / hyp_len)


def _lepor(hyp: list[str], ref: list[str], alpha: float, beta: float) -> float:
    alignment = align(hyp, ref)
    matches = len(alignment)
    if matches == 0:
        return 0.0
    precision, recall = matches / len(hyp), matches / len(ref)
    harmonic = (alpha + beta) / (alpha / recall + beta / precision)
    return (
        length_penalty(len(hyp), len(ref))
        * position_penalty(alignment, len(hyp), len(ref))
        * harmonic
    )


def corpus_lepor(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    tokenize: str = "13a",
    lowercase: bool = False,
) -> float:
    """Corpus LEPOR in [0, 1]: the mean of the segment scores (LEPOR-A).

    Args:
        hypotheses: One string per segment.
        references: Reference streams, as for ``corpus_bleu``.
        alpha: Weight of recall in the harmonic mean.
        beta: Weight of precision in the harmonic mean.
        tokenize: A BLEU tokenizer: ``13a``, ``intl``, ``char`` or ``none``.
        lowercase: Score case-insensitively.

    Returns:
        The score (0 for an empty corpus, with a warning).

    Raises:
        TypeError: Hypotheses or references that are not strings.
        ValueError: A reference stream whose length differs from the number
            of hypotheses, or a non-positive weight.
    """
    hypotheses = check_segments(hypotheses, "hypotheses")
    streams = check_reference_streams(references, len(hypotheses))
    tokenizer = get_tokenizer(tokenize)
    if not alpha > 0 or not beta > 0:
        raise ValueError(f"alpha and beta must be > 0. Received: {alpha}, {beta}.")
    if not hypotheses:
        warn_empty_corpus("corpus_lepor")
        return 0.0

    def prepare(text: str) -> list[str]:
        return list(tokenizer(text.lower() if lowercase else text))

    scores = [
        max(_lepor(prepare(hyp), prepare(ref), alpha, beta) for ref in refs)
        for hyp, *refs in zip(hypotheses, *streams)
    ]
    return sum(scores) / len(scores)


def sentence_lepor(hypothesis: str, references: Sequence[str], **kwargs) -> float:
    """LEPOR of one hypothesis: the best over its references, in [0, 1]
    (``corpus_lepor``'s keyword arguments apply)."""
    hypotheses, streams = sentence_as_corpus(hypothesis, references)
    return corpus_lepor(hypotheses, streams, **kwargs)
