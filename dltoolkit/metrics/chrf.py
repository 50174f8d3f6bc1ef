"""chrF and chrF++ (Popović 2015, 2017), scored as sacreBLEU 2.x scores them.

For each order n, character n-gram precision P_n and recall R_n (spaces
removed) and, for chrF++, word n-gram precision and recall:

    P = mean_n P_n    R = mean_n R_n      (over orders present on both sides)
    chrF_beta = (1 + beta^2) * P * R / (beta^2 * P + R)

with beta = 2 (recall weighs twice as much as precision). Counts are summed
over the corpus before the precisions are taken; with several references,
each segment uses the reference that gives it the highest F.

References:
    Popović (2015), chrF: character n-gram F-score for automatic MT
    evaluation, WMT.
    Popović (2017), chrF++: words helping character n-grams, WMT.
    Post (2018), A call for clarity in reporting BLEU scores, WMT (sacreBLEU).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dltoolkit.metrics._inputs import (
    check_order,
    check_reference_streams,
    check_segments,
    sentence_as_corpus,
    warn_empty_corpus,
)
from dltoolkit.metrics.bleu import VERSION

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_EPS = 1e-16


@dataclass(frozen=True)
class CHRFScore:
    """A chrF score.

    Attributes:
        score: chrF in [0, 100].
        char_order: Highest character n-gram order.
        word_order: Highest word n-gram order (2 for chrF++).
        beta: Weight of recall relative to precision.
        signature: What the score depends on, e.g.
            ``nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:...``.
    """

    score: float
    char_order: int = 6
    word_order: int = 0
    beta: float = 2
    signature: str = ""

    @property
    def name(self) -> str:
        """``chrF2``, ``chrF2++``, ..."""
        return f"chrF{self.beta}" + "+" * self.word_order

    def __str__(self) -> str:
        return f"{self.name} = {self.score:.2f}"


def _char_ngrams(text: str, order: int, whitespace: bool) -> list[Counter]:
    if not whitespace:
        text = "".join(text.split())
    return [
        Counter([text[i : i + n] for i in range(len(text) - n + 1)])
        for n in range(1, order + 1)
    ]


def _words(text: str) -> list[str]:
    """Splits on whitespace, then splits one punctuation mark off the end of a
    word, or else off its start (chrF++'s tokenization)."""
    words = []
    for word in text.split():
        if len(word) > 1 and word[-1] in _PUNCTUATION:
            words += [word[:-1], word[-1]]
        elif len(word) > 1 and word[0] in _PUNCTUATION:
            words += [word[0], word[1:]]
        else:
            words.append(word)
    return words


def _word_ngrams(words: list[str], order: int) -> list[Counter]:
    return [
        Counter([" ".join(words[i : i + n]) for i in range(len(words) - n + 1)])
        for n in range(1, order + 1)
    ]


def _ngrams(text, char_order, word_order, whitespace) -> list[Counter]:
    ngrams = _char_ngrams(text, char_order, whitespace)
    if word_order:
        ngrams += _word_ngrams(_words(text), word_order)
    return ngrams


def _match_statistics(hyp: list[Counter], ref: list[Counter]) -> list[int]:
    """[hyp n-grams, ref n-grams, matches] per order, flattened."""
    stats = []
    for hyp_counts, ref_counts in zip(hyp, ref):
        common = hyp_counts.keys() & ref_counts.keys()
        matches = sum(min(hyp_counts[g], ref_counts[g]) for g in common)
        # An order the reference lacks does not count against the hypothesis.
        stats += [
            sum(hyp_counts.values()) if ref_counts else 0,
            sum(ref_counts.values()),
            matches,
        ]
    return stats


def _f_score(stats: Sequence[int], beta: float, eps_smoothing: bool) -> float:
    """chrF from [hyp, ref, match] counts per order, in [0, 100]."""
    factor = beta**2
    orders = len(stats) // 3
    score = 0.0
    effective_order = 0
    avg_prec = avg_rec = 0.0
    for i in range(orders):
        n_hyp, n_ref, n_match = stats[3 * i : 3 * i + 3]
        prec = n_match / n_hyp if n_hyp > 0 else _EPS
        rec = n_match / n_ref if n_ref > 0 else _EPS
        denom = factor * prec + rec
        score += ((1 + factor) * prec * rec / denom) if denom > 0 else _EPS
        if n_hyp > 0 and n_ref > 0:
            avg_prec += prec
            avg_rec += rec
            effective_order += 1
    if eps_smoothing:  # chrF++.py, Moses and NLTK: mean of per-order F
        return 100 * score / orders
    if effective_order == 0:
        return 0.0
    avg_prec /= effective_order
    avg_rec /= effective_order
    if avg_prec + avg_rec == 0:
        return 0.0
    score = (1 + factor) * avg_prec * avg_rec
    score /= factor * avg_prec + avg_rec
    return 100 * score


def corpus_chrf(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    *,
    char_order: int = 6,
    word_order: int = 0,
    beta: float = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    eps_smoothing: bool = False,
) -> CHRFScore:
    """Corpus chrF (``word_order=2``: chrF++), equal to ``sacrebleu.corpus_chrf``.

    Args:
        hypotheses: One string per segment.
        references: Reference streams, as for ``corpus_bleu`` (``None`` marks a
            missing reference).
        char_order: Highest character n-gram order.
        word_order: Highest word n-gram order; 2 gives chrF++.
        beta: Weight of recall relative to precision.
        lowercase: Score case-insensitively.
        whitespace: Keep spaces inside character n-grams.
        eps_smoothing: Average per-order F-scores with epsilon smoothing (as
            chrF++.py, Moses and NLTK) instead of averaging P and R over the
            orders that occur (sacreBLEU's default).

    Returns:
        A ``CHRFScore``. An empty corpus scores 0 with a warning.

    Raises:
        TypeError: Hypotheses or references that are not strings.
        ValueError: A reference stream whose length differs from the number
            of hypotheses, or a segment without any reference.
    """
    hypotheses = check_segments(hypotheses, "hypotheses")
    streams = check_reference_streams(references, len(hypotheses), allow_none=True)
    check_order("char_order", char_order, minimum=0)
    check_order("word_order", word_order, minimum=0)
    if char_order + word_order == 0:
        raise ValueError("char_order and word_order cannot both be 0.")

    def prepare(text: str) -> list[Counter]:
        text = text.lower() if lowercase else text
        return _ngrams(text, char_order, word_order, whitespace)

    totals = [0] * (3 * (char_order + word_order))
    nrefs = {len(streams)} if not hypotheses else set()
    for i, (hyp, *refs) in enumerate(zip(hypotheses, *streams)):
        refs = [r for r in refs if r is not None]
        if not refs:
            raise ValueError(f"Segment {i} has no reference (all are None).")
        nrefs.add(len(refs))
        hyp_ngrams = prepare(hyp)
        best, best_f = None, -1.0
        for ref in refs:
            stats = _match_statistics(hyp_ngrams, prepare(ref))
            f = _f_score(stats, beta, eps_smoothing)
            if f > best_f:
                best, best_f = stats, f
        totals = [a + b for a, b in zip(totals, best)]

    signature = (
        f"nrefs:{nrefs.pop() if len(nrefs) == 1 else 'var'}|"
        f"case:{'lc' if lowercase else 'mixed'}|"
        f"eff:{'no' if eps_smoothing else 'yes'}|nc:{char_order}|nw:{word_order}|"
        f"space:{'yes' if whitespace else 'no'}|version:{VERSION}"
    )
    if not hypotheses:
        warn_empty_corpus("corpus_chrf")
    score = _f_score(totals, beta, eps_smoothing)
    return CHRFScore(score, char_order, word_order, beta, signature)


def sentence_chrf(hypothesis: str, references: Sequence[str], **kwargs) -> CHRFScore:
    """chrF of one hypothesis against its references (``corpus_chrf``'s
    keyword arguments apply)."""
    hypotheses, streams = sentence_as_corpus(hypothesis, references)
    return corpus_chrf(hypotheses, streams, **kwargs)
