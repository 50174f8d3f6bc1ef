"""BLEU (Papineni et al., 2002), scored exactly as sacreBLEU 2.x scores it.

    BLEU = BP * exp((1 / N) * sum_{n=1..N} log p_n)

    p_n  = sum over segments of the clipped n-gram matches
           / sum over segments of the hypothesis n-grams
    clip = min(count in the hypothesis, max count in any one reference)
    BP   = 1 if c > r else exp(1 - r / c)

``c`` is the total hypothesis length and ``r`` the total reference length,
taking for each segment the reference length closest to the hypothesis
length (the shorter one on a tie). Scores are reported in [0, 100].

References:
    Papineni et al. (2002), BLEU: a method for automatic evaluation of machine
    translation, ACL.
    Chen and Cherry (2014), A systematic comparison of smoothing techniques
    for sentence-level BLEU, WMT (the smoothing methods).
    Post (2018), A call for clarity in reporting BLEU scores, WMT (sacreBLEU,
    whose statistics, smoothing and signature these functions reproduce).
    DSE 3151, "Evaluation of Machine Translation: BLEU score" (modified
    precision, brevity penalty).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dltoolkit import __version__
from dltoolkit.metrics._inputs import (
    check_order,
    check_reference_streams,
    check_segments,
    sentence_as_corpus,
    warn_empty_corpus,
)
from dltoolkit.metrics.tokenizers import get_tokenizer

# Default smoothing values (Chen and Cherry, 2014); None: no value is used.
SMOOTH_DEFAULTS: dict[str, float | None] = {
    "none": None,
    "floor": 0.1,
    "add-k": 1,
    "exp": None,
}

VERSION = f"dltoolkit-{__version__}"  # the ``version:`` field of signatures

_LOG_ZERO = -9999999999  # log(0) is floored to this, as in sacreBLEU


@dataclass(frozen=True)
class BLEUScore:
    """A BLEU score and the statistics it was computed from.

    Attributes:
        score: BLEU in [0, 100].
        counts: Clipped n-gram matches for n = 1..N (with ``add-k``, the
            smoothing value is included for n > 1, as sacreBLEU reports it).
        totals: Hypothesis n-grams for n = 1..N (same note for ``add-k``).
        precisions: The smoothed n-gram precisions p_n, in percent.
        bp: The brevity penalty.
        sys_len: Total hypothesis length in tokens.
        ref_len: Total closest-reference length in tokens.
        signature: What the score depends on, e.g.
            ``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:...``.
    """

    score: float
    counts: list = field(default_factory=list)
    totals: list = field(default_factory=list)
    precisions: list = field(default_factory=list)
    bp: float = 1.0
    sys_len: int = 0
    ref_len: int = 0
    signature: str = ""

    @property
    def ratio(self) -> float:
        """Hypothesis length over reference length (0 without references)."""
        return self.sys_len / self.ref_len if self.ref_len else 0.0

    def __str__(self) -> str:
        precisions = "/".join(f"{p:.1f}" for p in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {precisions} (BP = {self.bp:.3f} "
            f"ratio = {self.ratio:.3f} hyp_len = {self.sys_len:d} "
            f"ref_len = {self.ref_len:d})"
        )


def compute_bleu(
    counts: Sequence[int],
    totals: Sequence[int],
    sys_len: int,
    ref_len: int,
    *,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
    max_ngram_order: int = 4,
    signature: str = "",
) -> BLEUScore:
    """Computes BLEU from corpus statistics, with smoothing.

    Smoothing (Chen and Cherry, 2014) changes p_n where no n-gram matched:
    ``floor`` (method 1) uses ``smooth_value / total_n``; ``exp`` (method 3,
    mteval-v13a) uses ``1 / (2^k * total_n)`` for the k-th such order;
    ``add-k`` (method 2) adds ``smooth_value`` to the matches and totals of
    n > 1; ``none`` keeps 0, which makes BLEU 0. With ``effective_order``,
    orders that no hypothesis n-gram reaches are left out of the mean.

    Args:
        counts: Clipped matches per order n = 1..N.
        totals: Hypothesis n-grams per order.
        sys_len: Total hypothesis length.
        ref_len: Total closest-reference length.
        smooth_method: ``exp``, ``floor``, ``add-k`` or ``none``.
        smooth_value: The value of ``floor`` and ``add-k`` (defaults 0.1, 1).
        effective_order: Average only the orders that have n-grams.
        max_ngram_order: N.
        signature: Stored on the result.

    Returns:
        The score and its statistics.
    """
    _check_smoothing(smooth_method, smooth_value)
    counts, totals = list(counts), list(totals)
    if smooth_value is None:
        smooth_value = SMOOTH_DEFAULTS[smooth_method]

    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * max_ngram_order
    if not any(counts):
        return BLEUScore(
            0.0, counts, totals, precisions, bp, sys_len, ref_len, signature
        )

    halvings = 1.0
    order = max_ngram_order
    for n in range(1, max_ngram_order + 1):
        if smooth_method == "add-k" and n > 1:
            counts[n - 1] += smooth_value
            totals[n - 1] += smooth_value
        if totals[n - 1] == 0:
            break
        if effective_order:
            order = n
        if counts[n - 1] == 0:
            if smooth_method == "exp":
                halvings *= 2
                precisions[n - 1] = 100.0 / (halvings * totals[n - 1])
            elif smooth_method == "floor":
                precisions[n - 1] = 100.0 * smooth_value / totals[n - 1]
        else:
            precisions[n - 1] = 100.0 * counts[n - 1] / totals[n - 1]

    log_sum = sum([math.log(p) if p != 0.0 else _LOG_ZERO for p in precisions[:order]])
    score = bp * math.exp(log_sum / order)
    return BLEUScore(score, counts, totals, precisions, bp, sys_len, ref_len, signature)


def _ngrams(tokens: list[str], n: int):
    """The n-grams of one order: the tokens themselves for n = 1, else tuples."""
    return tokens if n == 1 else list(zip(*[tokens[k:] for k in range(n)]))


def _clipped_matches(hyp_ngrams: list, refs_ngrams: list[list]) -> int:
    """Sum over the hypothesis n-grams g of min(count of g in the hypothesis,
    max count of g in any one reference)."""
    unique = set(hyp_ngrams)
    if len(unique) == len(hyp_ngrams):  # every count is 1: clip to 1 if found
        if len(refs_ngrams) == 1:
            return len(unique.intersection(refs_ngrams[0]))
        return len(unique.intersection(set().union(*refs_ngrams)))
    hyp_counts = Counter(hyp_ngrams)
    if len(refs_ngrams) == 1:
        ref_counts = Counter(refs_ngrams[0])
        common = unique & ref_counts.keys()
        return sum(
            map(
                min,
                map(hyp_counts.__getitem__, common),
                map(ref_counts.__getitem__, common),
            )
        )
    best: dict = {}  # n-gram -> max count in any one reference
    for ref_ngrams in refs_ngrams:
        ref_counts = Counter(ref_ngrams)
        for ngram in unique & ref_counts.keys():
            if ref_counts[ngram] > best.get(ngram, 0):
                best[ngram] = ref_counts[ngram]
    return sum(min(hyp_counts[g], c) for g, c in best.items())


def _segment_statistics(hyp, refs, max_order, counts, totals) -> int:
    """Adds one segment's clipped matches and n-gram totals; returns the
    closest reference length."""
    hyp_len = len(hyp)
    ref_len = min((abs(hyp_len - len(r)), len(r)) for r in refs)[1]
    matching = True  # no matches at order n means none at order n + 1
    for n in range(1, min(hyp_len, max_order) + 1):
        totals[n - 1] += hyp_len - n + 1
        if matching:
            matches = _clipped_matches(_ngrams(hyp, n), [_ngrams(r, n) for r in refs])
            counts[n - 1] += matches
            matching = matches > 0
    return ref_len


def _check_smoothing(smooth_method: str, smooth_value) -> None:
    if smooth_method not in SMOOTH_DEFAULTS:
        raise ValueError(
            f"Unknown smooth_method {smooth_method!r}. Known methods: "
            f"{', '.join(SMOOTH_DEFAULTS)}."
        )
    if smooth_value is not None and (
        isinstance(smooth_value, bool) or not isinstance(smooth_value, (int, float))
    ):
        raise TypeError(
            f"smooth_value must be a number or None. Received: {smooth_value!r}."
        )


def bleu_signature(
    nrefs,
    *,
    tokenize: str = "13a",
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    lowercase: bool = False,
    effective_order: bool = False,
) -> str:
    """The sacreBLEU-style signature of a BLEU configuration."""
    smooth = smooth_method
    if SMOOTH_DEFAULTS[smooth_method] is not None:
        value = SMOOTH_DEFAULTS[smooth_method] if smooth_value is None else smooth_value
        smooth += f"[{value:.2f}]"
    return (
        f"nrefs:{nrefs}|case:{'lc' if lowercase else 'mixed'}|"
        f"eff:{'yes' if effective_order else 'no'}|tok:{tokenize}|"
        f"smooth:{smooth}|version:{VERSION}"
    )


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    *,
    tokenize: str = "13a",
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    lowercase: bool = False,
    max_ngram_order: int = 4,
    effective_order: bool = False,
) -> BLEUScore:
    """Corpus BLEU of hypotheses against one or more reference streams.

    Matches sacreBLEU 2.x (``sacrebleu.corpus_bleu``) on the same arguments.
    Each segment is lowercased if asked, stripped on the right and tokenized;
    its n-gram counts are clipped by the largest count of each n-gram in any
    one of its references; the counts are summed over the corpus before the
    precisions are taken (Papineni et al., 2002, Sec. 2.1).

    Example:
        >>> hyps = ["The dog bit the man.", "It wasn't surprising.",
        ...         "The man had just bitten him."]
        >>> refs = [["The dog bit the man.", "It was not unexpected.",
        ...          "The man bit him first."],
        ...         ["The dog had bit the man.", "No one was surprised.",
        ...          "The man had bitten the dog."]]
        >>> bleu = corpus_bleu(hyps, refs)
        >>> print(bleu)  # doctest: +NORMALIZE_WHITESPACE
        BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944
        hyp_len = 17 ref_len = 18)

    Args:
        hypotheses: One string per segment.
        references: Reference streams: ``references[k][i]`` is the k-th
            reference of segment i. ``None`` marks a missing reference (a
            variable number of references per segment, ``nrefs:var``).
        tokenize: ``13a`` (mteval-v13a, the default), ``intl``, ``char`` or
            ``none``.
        smooth_method: ``exp``, ``floor``, ``add-k`` or ``none``.
        smooth_value: The value of ``floor`` (default 0.1) or ``add-k``
            (default 1).
        lowercase: Score case-insensitively.
        max_ngram_order: N, the highest n-gram order.
        effective_order: Average only the n-gram orders the hypotheses reach.

    Returns:
        A ``BLEUScore``. An empty corpus scores 0 with a warning.

    Raises:
        TypeError: Hypotheses or references that are not strings.
        ValueError: A reference stream whose length differs from the number
            of hypotheses, a segment without any reference, or an unknown
            tokenizer or smoothing method.
    """
    hypotheses = check_segments(hypotheses, "hypotheses")
    streams = check_reference_streams(references, len(hypotheses), allow_none=True)
    tokenizer = get_tokenizer(tokenize)
    _check_smoothing(smooth_method, smooth_value)
    check_order("max_ngram_order", max_ngram_order)

    def prepare(text: str) -> list[str]:
        return tokenizer((text.lower() if lowercase else text).rstrip())

    counts = [0] * max_ngram_order
    totals = [0] * max_ngram_order
    sys_len = ref_len = 0
    nrefs = {len(streams)} if not hypotheses else set()
    for i, (hyp, *refs) in enumerate(zip(hypotheses, *streams)):
        if None in refs:
            refs = [r for r in refs if r is not None]
            if not refs:
                raise ValueError(f"Segment {i} has no reference (all are None).")
        nrefs.add(len(refs))
        hyp_tokens = prepare(hyp)
        sys_len += len(hyp_tokens)
        ref_len += _segment_statistics(
            hyp_tokens, [prepare(r) for r in refs], max_ngram_order, counts, totals
        )

    signature = bleu_signature(
        nrefs.pop() if len(nrefs) == 1 else "var",
        tokenize=tokenize,
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        lowercase=lowercase,
        effective_order=effective_order,
    )
    if not hypotheses:
        warn_empty_corpus("corpus_bleu")
    return compute_bleu(
        counts,
        totals,
        sys_len,
        ref_len,
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        effective_order=effective_order,
        max_ngram_order=max_ngram_order,
        signature=signature,
    )


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str],
    *,
    tokenize: str = "13a",
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    lowercase: bool = False,
    max_ngram_order: int = 4,
    effective_order: bool = True,
) -> BLEUScore:
    """BLEU of one hypothesis against its references.

    Matches ``sacrebleu.sentence_bleu``, including its default
    ``effective_order=True`` (a short sentence is not scored 0 for lacking
    4-grams). Arguments are those of ``corpus_bleu``.

    Args:
        hypothesis: The hypothesis string.
        references: Its reference strings.
        tokenize: See ``corpus_bleu``.
        smooth_method: See ``corpus_bleu``.
        smooth_value: See ``corpus_bleu``.
        lowercase: See ``corpus_bleu``.
        max_ngram_order: See ``corpus_bleu``.
        effective_order: See ``corpus_bleu``.

    Returns:
        A ``BLEUScore``.
    """
    hypotheses, streams = sentence_as_corpus(hypothesis, references)
    return corpus_bleu(
        hypotheses,
        streams,
        tokenize=tokenize,
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        lowercase=lowercase,
        max_ngram_order=max_ngram_order,
        effective_order=effective_order,
    )
