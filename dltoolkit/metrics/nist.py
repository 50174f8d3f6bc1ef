"""NIST (Doddington, 2002), equal to NLTK's ``corpus_nist``.

NIST is BLEU with informative n-grams: a matched n-gram is worth more the
rarer it is in the references,

    Info(w_1..w_n) = log2(count(w_1..w_{n-1}) / count(w_1..w_n))

(counts over all reference n-grams of the corpus; for unigrams the
numerator is the number of reference words), and the per-order scores are
added rather than multiplied:

    NIST = sum_{n=1..N} [sum of Info over matched n-grams / hypothesis n-grams]
           * exp(beta * log(min(c / r, 1))^2)

beta makes the length penalty 0.5 when the hypothesis is 2/3 of the
reference length. For each segment and order, the reference with the
highest precision is used.

References:
    Doddington (2002), Automatic evaluation of machine translation quality
    using n-gram co-occurrence statistics, HLT.
    DSE 3151, "Evaluation of machine translation: NIST" (when a correct
    n-gram is found, the rarer it is, the more weight it is given).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from dltoolkit.metrics._inputs import (
    check_order,
    check_reference_streams,
    check_segments,
    sentence_as_corpus,
    warn_empty_corpus,
)
from dltoolkit.metrics.tokenizers import get_tokenizer


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(zip(*[tokens[k:] for k in range(n)]))


def nist_length_penalty(ref_len: int, hyp_len: int) -> float:
    """exp(beta * log(min(hyp_len / ref_len, 1))^2), beta = log 0.5 / log(1.5)^2.

    Equals 0.5 when the hypothesis is 2/3 of the reference length and 1 when
    it is as long or longer. Without reference words it is 1 for a non-empty
    hypothesis and 0 otherwise (NLTK divides by zero).
    """
    if ref_len == 0:
        return 1.0 if hyp_len > 0 else 0.0
    ratio = hyp_len / ref_len
    if 0 < ratio < 1:
        ratio_x, score_x = 1.5, 0.5
        beta = math.log(score_x) / math.log(ratio_x) ** 2
        return math.exp(beta * math.log(ratio) ** 2)
    return max(min(ratio, 1.0), 0.0)


def corpus_nist(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    max_ngram_order: int = 5,
    tokenize: str = "13a",
    lowercase: bool = False,
) -> float:
    """Corpus NIST score.

    Equal to ``nltk.translate.nist_score.corpus_nist`` given the same tokens
    (``tokenize="none"`` splits on whitespace). Where NLTK divides by zero
    (no hypothesis n-grams of some order in the whole corpus, or no reference
    words), that order contributes 0 instead.

    Args:
        hypotheses: One string per segment.
        references: Reference streams, as for ``corpus_bleu``.
        max_ngram_order: N (NIST's default is 5).
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
    check_order("max_ngram_order", max_ngram_order)
    if not hypotheses:
        warn_empty_corpus("corpus_nist")
        return 0.0

    def prepare(text: str) -> list[str]:
        return list(tokenizer(text.lower() if lowercase else text))

    hyps = [prepare(h) for h in hypotheses]
    refs = [[prepare(r) for r in segment] for segment in zip(*streams)]

    # Information weights from n-gram counts over every reference.
    ngram_freq: Counter = Counter()
    reference_words = 0
    for segment in refs:
        for ref in segment:
            for n in range(1, max_ngram_order + 1):
                ngram_freq.update(_ngrams(ref, n))
            reference_words += len(ref)
    info = {}
    for ngram, count in ngram_freq.items():
        context = ngram_freq[ngram[:-1]] if len(ngram) > 1 else reference_words
        info[ngram] = math.log(context / count, 2)

    numerators = [0.0] * max_ngram_order
    denominators = [0] * max_ngram_order
    sys_len = ref_len = 0
    for n in range(1, max_ngram_order + 1):
        for hyp, segment in zip(hyps, refs):
            hyp_ngrams = _ngrams(hyp, n)
            per_ref = []
            for ref in segment:
                ref_ngrams = _ngrams(ref, n)
                numerator = sum(
                    info[g] * min(c, ref_ngrams[g])
                    for g, c in hyp_ngrams.items()
                    if g in ref_ngrams
                )
                denominator = sum(hyp_ngrams.values())
                precision = 0 if denominator == 0 else numerator / denominator
                per_ref.append((precision, numerator, denominator, len(ref)))
            _, numerator, denominator, length = max(per_ref)
            numerators[n - 1] += numerator
            denominators[n - 1] += denominator
            ref_len += length
            sys_len += len(hyp)

    precision_sum = 0
    for numerator, denominator in zip(numerators, denominators):
        precision_sum += numerator / denominator if denominator else 0.0
    return precision_sum * nist_length_penalty(ref_len, sys_len)


def sentence_nist(hypothesis: str, references: Sequence[str], **kwargs) -> float:
    """NIST of one hypothesis against its references (``corpus_nist``'s
    keyword arguments apply)."""
    hypotheses, streams = sentence_as_corpus(hypothesis, references)
    return corpus_nist(hypotheses, streams, **kwargs)
