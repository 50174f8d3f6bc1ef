"""Word and character error rates, equal to jiwer's with its default transforms.

    WER = (S + D + I) / N

S, D and I are the substitutions, deletions and insertions of a minimum
edit (Levenshtein) alignment of the hypothesis to the reference, and N the
number of reference words; over a corpus, edits and reference words are
summed before dividing. CER is the same over characters.

References:
    Levenshtein (1966), Binary codes capable of correcting deletions,
    insertions and reversals.
    DSE 3151, "Evaluation of machine translation": word error rate, a
    metric based on the Levenshtein distance at the word level.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from dltoolkit.metrics._inputs import check_lengths, check_segments, warn_empty_corpus

_MULTIPLE_SPACES = re.compile(r"\s\s+")


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """Levenshtein distance: the fewest substitutions, deletions and insertions
    that turn ``reference`` into ``hypothesis``.

    Dynamic programming one reference item at a time, vectorized over the
    hypothesis:

        d[i][j] = min(d[i-1][j-1] + [ref[i] != hyp[j]],   # match/substitution
                      d[i-1][j] + 1,                       # deletion
                      d[i][j-1] + 1)                       # insertion

    The insertion term chains along the row; ``d[i][j] - j`` is therefore a
    running minimum, taken with ``np.minimum.accumulate``.

    Args:
        reference: A sequence of hashable items (words, characters).
        hypothesis: Another one.

    Returns:
        The distance.

    Example:
        >>> edit_distance("kitten".split(), "sitting".split())
        1
        >>> edit_distance("kitten", "sitting")
        3
    """
    if len(reference) < len(hypothesis):  # the distance is symmetric
        reference, hypothesis = hypothesis, reference
    if not hypothesis:
        return len(reference)
    ids: dict = {}
    ref = [ids.setdefault(item, len(ids)) for item in reference]
    hyp = np.array([ids.setdefault(item, len(ids)) for item in hypothesis])
    columns = np.arange(len(hyp) + 1)
    row = columns.copy()  # d[0][j] = j
    for i, item in enumerate(ref, start=1):
        new = np.empty_like(row)
        new[0] = i
        np.minimum(row[:-1] + (hyp != item), row[1:] + 1, out=new[1:])
        row = np.minimum.accumulate(new - columns) + columns
    return int(row[-1])


def _words(text: str) -> list[str]:
    """jiwer's default: runs of 2+ whitespace characters become one space,
    the ends are stripped, and words are split on spaces."""
    return [w for w in _MULTIPLE_SPACES.sub(" ", text).strip().split(" ") if w]


def _chars(text: str) -> list[str]:
    """jiwer's default: the ends are stripped; every character counts,
    spaces included."""
    return list(text.strip())


def _error_rate(references, hypotheses, split, name: str) -> float:
    if isinstance(references, str):
        references = [references]
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    references = check_segments(references, "references")
    hypotheses = check_segments(hypotheses, "hypotheses")
    check_lengths(references, hypotheses)
    if not references:
        warn_empty_corpus(name)
        return 0.0
    edits = ref_len = hyp_len = 0
    for reference, hypothesis in zip(references, hypotheses):
        ref, hyp = split(reference), split(hypothesis)
        edits += edit_distance(ref, hyp)
        ref_len += len(ref)
        hyp_len += len(hyp)
    if ref_len == 0:  # jiwer: every hypothesis word is an insertion
        return float(hyp_len)
    return edits / ref_len


def wer(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> float:
    """Word error rate of hypotheses against references, equal to ``jiwer.wer``.

    Words are separated by spaces after runs of whitespace are collapsed and
    the ends stripped (jiwer's default transform). When there are no
    reference words at all, the rate is the number of hypothesis words, as
    in jiwer.

    Example:
        >>> wer("the cat sat on the mat", "the cat sit on mat")
        0.3333333333333333

    Args:
        references: A reference string, or one per segment.
        hypotheses: A hypothesis string, or one per segment.

    Returns:
        Edits over reference words, summed over the corpus (0 for an empty
        corpus, with a warning).

    Raises:
        TypeError: An item is not a string.
        ValueError: References and hypotheses differ in number.
    """
    return _error_rate(references, hypotheses, _words, "wer")


def cer(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> float:
    """Character error rate, equal to ``jiwer.cer``: like ``wer`` over the
    characters of each stripped segment (spaces count as characters).

    Example:
        >>> cer("kitten", "sitting")
        0.5
    """
    return _error_rate(references, hypotheses, _chars, "cer")
