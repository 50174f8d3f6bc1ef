"""METEOR with exact word matching (Banerjee and Lavie, 2005).

Hypothesis words are aligned one-to-one to identical reference words. With
m aligned words, a hypothesis of length c and a reference of length r:

    P = m / c          R = m / r
    Fmean = 10 P R / (R + 9 P)                (recall weighs 9 times precision)
    Penalty = 0.5 * (chunks / m)^3
    METEOR = Fmean * (1 - Penalty)

A chunk is a maximal run of aligned words that are adjacent in the
hypothesis and map to adjacent reference words, in the same order; a
hypothesis identical to its reference is one chunk. The penalty reaches 0.5
when no two aligned words are adjacent (chunks = m).

Alignment: hypothesis words are taken left to right, each to a free
identical reference word, choosing (1) the word right after the previous
alignment, which continues the current chunk; else (2) one followed by the
next hypothesis word, which starts a chunk of two or more; else (3) the
leftmost. Every word that can be matched is, so m is always the maximum;
the chunk count is that of this greedy alignment. (METEOR's stemming and
synonym stages, and its search for the alignment with the fewest chunks,
are not implemented.)

References:
    Banerjee and Lavie (2005), METEOR: an automatic metric for MT evaluation
    with improved correlation with human judgments, ACL workshop.
    DSE 3151, "Evaluation of machine translation": METEOR, the harmonic
    mean of unigram precision and recall, with recall weighted higher.
"""

from __future__ import annotations

from collections.abc import Sequence

from dltoolkit.metrics._inputs import (
    check_reference_streams,
    check_segments,
    sentence_as_corpus,
    warn_empty_corpus,
)
from dltoolkit.metrics.tokenizers import get_tokenizer


def align(hypothesis: Sequence[str], reference: Sequence[str]) -> list[tuple[int, int]]:
    """Exact one-to-one word alignment, as pairs (hypothesis index, reference
    index) in hypothesis order (see the module docstring for the rule)."""
    free: dict[str, list[int]] = {}
    for j, word in enumerate(reference):
        free.setdefault(word, []).append(j)
    pairs: list[tuple[int, int]] = []
    for i, word in enumerate(hypothesis):
        positions = free.get(word)
        if not positions:
            continue
        following = hypothesis[i + 1] if i + 1 < len(hypothesis) else None
        if pairs and pairs[-1][0] == i - 1 and pairs[-1][1] + 1 in positions:
            j = pairs[-1][1] + 1  # (1) continue the chunk
        else:
            j = next(  # (2) start a chunk with the next word, else (3) leftmost
                (
                    k
                    for k in positions
                    if k + 1 < len(reference) and reference[k + 1] == following
                ),
                positions[0],
            )
        positions.remove(j)
        pairs.append((i, j))
    return pairs


def count_chunks(alignment: Sequence[tuple[int, int]]) -> int:
    """Number of maximal runs adjacent in both sentences, in the same order."""
    pairs = sorted(alignment)
    return sum(
        1
        for k, (i, j) in enumerate(pairs)
        if k == 0 or (i, j) != (pairs[k - 1][0] + 1, pairs[k - 1][1] + 1)
    )


def meteor_from_counts(matches: int, hyp_len: int, ref_len: int, chunks: int) -> float:
    """METEOR from its statistics: Fmean * (1 - 0.5 * (chunks / matches)^3)."""
    if matches == 0:
        return 0.0
    precision = matches / hyp_len
    recall = matches / ref_len
    fmean = 10 * precision * recall / (recall + 9 * precision)
    penalty = 0.5 * (chunks / matches) ** 3
    return fmean * (1 - penalty)


def _statistics(hyp: list[str], ref: list[str]) -> tuple[int, int, int, int]:
    alignment = align(hyp, ref)
    return len(alignment), len(hyp), len(ref), count_chunks(alignment)


def corpus_meteor(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    tokenize: str = "13a",
    lowercase: bool = False,
) -> float:
    """Corpus METEOR in [0, 1].

    Each segment uses the reference that gives it the highest METEOR; the
    matches, lengths and chunks of those pairs are summed over the corpus and
    put through the formula once (Banerjee and Lavie, 2005, Sec. 3).

    Args:
        hypotheses: One string per segment.
        references: Reference streams, as for ``corpus_bleu``.
        tokenize: A BLEU tokenizer: ``13a``, ``intl``, ``char`` or ``none``.
        lowercase: Score case-insensitively.

    Returns:
        The score (0 for an empty corpus, with a warning).

    Raises:
        TypeError: Hypotheses or references that are not strings.
        ValueError: A reference stream whose length differs from the number
            of hypotheses.
    """
    hypotheses = check_segments(hypotheses, "hypotheses")
    streams = check_reference_streams(references, len(hypotheses))
    tokenizer = get_tokenizer(tokenize)
    if not hypotheses:
        warn_empty_corpus("corpus_meteor")
        return 0.0

    def prepare(text: str) -> list[str]:
        return list(tokenizer(text.lower() if lowercase else text))

    totals = [0, 0, 0, 0]  # matches, hypothesis length, reference length, chunks
    for hyp, *refs in zip(hypotheses, *streams):
        hyp = prepare(hyp)
        best = max(
            (_statistics(hyp, prepare(ref)) for ref in refs),
            key=lambda stats: meteor_from_counts(*stats),
        )
        totals = [a + b for a, b in zip(totals, best)]
    return meteor_from_counts(*totals)


def sentence_meteor(hypothesis: str, references: Sequence[str], **kwargs) -> float:
    """METEOR of one hypothesis: the best over its references, in [0, 1].

    Example:
        >>> sentence_meteor("the cat sat on the mat", ["the cat sat on the mat"])
        0.9976851851851852
    """
    hypotheses, streams = sentence_as_corpus(hypothesis, references)
    return corpus_meteor(hypotheses, streams, **kwargs)
