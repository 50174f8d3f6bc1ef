"""BLEU and its tokenizers against sacreBLEU 2.x."""

import random

import pytest
import sacrebleu
from metric_corpora import make_corpus, perturb, random_segment
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_char import TokenizerChar
from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International

from dltoolkit import __version__
from dltoolkit.metrics import (
    TOKENIZERS,
    compute_bleu,
    corpus_bleu,
    sentence_bleu,
    tokenize,
)

SMOOTHING = ("exp", "floor", "add-k", "none")

README_HYPS = [
    "The dog bit the man.",
    "It wasn't surprising.",
    "The man had just bitten him.",
]
README_REFS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    [
        "The dog had bit the man.",
        "No one was surprised.",
        "The man had bitten the dog.",
    ],
]


def assert_same_bleu(ours, theirs):
    assert ours.score == pytest.approx(theirs.score, abs=1e-9)
    assert ours.counts == theirs.counts
    assert ours.totals == theirs.totals
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    assert ours.precisions == pytest.approx(theirs.precisions, abs=1e-9)
    assert ours.bp == pytest.approx(theirs.bp, abs=1e-12)


# === sacreBLEU's README example ===


@pytest.mark.parametrize(
    "tok, expected", [("13a", 48.530827), ("none", 49.1919566), ("intl", 43.91623493)]
)
def test_readme_example(tok, expected):
    bleu = corpus_bleu(README_HYPS, README_REFS, tokenize=tok)
    assert bleu.score == pytest.approx(expected, abs=1e-6)
    assert_same_bleu(
        bleu, sacrebleu.corpus_bleu(README_HYPS, README_REFS, tokenize=tok)
    )


def test_readme_example_format():
    bleu = corpus_bleu(README_HYPS, README_REFS)
    assert str(bleu) == (
        "BLEU = 48.53 82.4/50.0/45.5/37.5 "
        "(BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)"
    )
    assert str(bleu) == str(sacrebleu.corpus_bleu(README_HYPS, README_REFS))
    assert bleu.signature == (
        f"nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:dltoolkit-{__version__}"
    )


def test_signature_mirrors_sacrebleu():
    for kwargs in (
        dict(smooth_method="floor", lowercase=True),
        dict(smooth_method="add-k", effective_order=True, tokenize="intl"),
        dict(smooth_method="floor", smooth_value=0.25, tokenize="char"),
        dict(smooth_method="none", tokenize="none"),
    ):
        ours = corpus_bleu(README_HYPS, README_REFS[:1], **kwargs)
        metric = sacrebleu.BLEU(**kwargs)
        metric.corpus_score(README_HYPS, README_REFS[:1])
        theirs = str(metric.get_signature()).rsplit("|version:", 1)[0]
        assert ours.signature == f"{theirs}|version:dltoolkit-{__version__}"


# === randomized parity ===


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("smooth", SMOOTHING)
@pytest.mark.parametrize("tok", TOKENIZERS)
def test_corpus_bleu_parity(corpus, tok, smooth, lowercase):
    hyps, refs = corpus
    kwargs = dict(tokenize=tok, smooth_method=smooth, lowercase=lowercase)
    assert_same_bleu(
        corpus_bleu(hyps, refs, **kwargs), sacrebleu.corpus_bleu(hyps, refs, **kwargs)
    )


@pytest.mark.parametrize("seed", range(6))
def test_corpus_bleu_parity_small_corpora(seed):
    # Small corpora reach the corner cases: zero matches at some order,
    # hypotheses shorter than 4 tokens, all-empty hypotheses.
    rng = random.Random(seed)
    for _ in range(25):
        hyps, refs = make_corpus(
            rng.randrange(10**6), rng.randint(1, 4), rng.randint(1, 3)
        )
        if rng.random() < 0.1:
            hyps = [""] * len(hyps)
        kwargs = dict(
            tokenize=rng.choice(TOKENIZERS),
            smooth_method=rng.choice(SMOOTHING),
            effective_order=rng.random() < 0.5,
            max_ngram_order=rng.randint(1, 6),
        )
        if kwargs["smooth_method"] in ("floor", "add-k") and rng.random() < 0.5:
            kwargs["smooth_value"] = rng.choice([0.01, 0.5, 2])
        theirs = sacrebleu.BLEU(**kwargs).corpus_score(hyps, refs)
        assert_same_bleu(corpus_bleu(hyps, refs, **kwargs), theirs)


@pytest.mark.parametrize("effective_order", [False, True])
@pytest.mark.parametrize("max_ngram_order", [1, 2, 6])
def test_orders_parity(single_ref_corpus, effective_order, max_ngram_order):
    hyps, refs = single_ref_corpus
    kwargs = dict(max_ngram_order=max_ngram_order)
    metric = sacrebleu.BLEU(effective_order=effective_order, **kwargs)
    assert_same_bleu(
        corpus_bleu(hyps, refs, effective_order=effective_order, **kwargs),
        metric.corpus_score(hyps, refs),
    )


def test_variable_number_of_references(corpus):
    hyps, refs = corpus
    rng = random.Random(5)
    holes = [[r if rng.random() < 0.7 else None for r in stream] for stream in refs]
    for i in range(len(hyps)):  # keep one reference per segment
        if all(stream[i] is None for stream in holes):
            holes[0][i] = refs[0][i]
    ours = corpus_bleu(hyps, holes)
    assert_same_bleu(ours, sacrebleu.corpus_bleu(hyps, holes))
    assert ours.signature.startswith("nrefs:var|")


def test_sentence_bleu_parity():
    rng = random.Random(11)
    for _ in range(200):
        hyp = random_segment(rng)
        refs = [perturb(rng, hyp) for _ in range(rng.randint(1, 3))]
        kwargs = dict(
            tokenize=rng.choice(TOKENIZERS),
            smooth_method=rng.choice(SMOOTHING),
            lowercase=rng.random() < 0.3,
        )
        ours = sentence_bleu(hyp, refs, **kwargs)
        assert_same_bleu(ours, sacrebleu.sentence_bleu(hyp, refs, **kwargs))
        assert "|eff:yes|" in ours.signature


def test_compute_bleu_from_statistics():
    # The course's example (DSE 3151, BLEU score): 5 of 7 unigrams and 4 of 6
    # bigrams match; BP = 1.
    bleu = compute_bleu([5, 4], [7, 6], 7, 7, smooth_method="none", max_ngram_order=2)
    assert bleu.score == pytest.approx(100 * (5 / 7 * 4 / 6) ** 0.5)
    assert bleu.precisions == pytest.approx([500 / 7, 400 / 6])
    # A two-word hypothesis of a seven-word reference: BP = exp(1 - 7/2).
    short = compute_bleu([2, 1], [2, 1], 2, 7, max_ngram_order=2)
    assert short.bp == pytest.approx(2.718281828459045 ** (1 - 7 / 2))
    assert short.score == pytest.approx(100 * short.bp)


# === tokenizers ===

_SACRE_TOKENIZERS = {
    "13a": Tokenizer13a(),
    "intl": TokenizerV14International(),
    "char": TokenizerChar(),
    "none": str,
}


@pytest.mark.parametrize("tok", TOKENIZERS)
def test_tokenizer_parity(tok):
    rng = random.Random(7)
    reference = _SACRE_TOKENIZERS[tok]
    for _ in range(3000):
        line = random_segment(rng, max_tokens=6)
        if rng.random() < 0.2:
            line = "".join(rng.sample(line, len(line)))  # unusual neighbours
        assert tokenize(line, tok) == reference(line).split(), repr(line)


@pytest.mark.parametrize(
    "line, tokens",
    [
        ("It costs $1,000.50, ok?", ["It", "costs", "$", "1,000.50", ",", "ok", "?"]),
        ("In 1999. Then", ["In", "1999", ".", "Then"]),
        ("pages 12-15.", ["pages", "12", "-", "15", "."]),
        ("well-known", ["well-known"]),
        ("a..b", ["a", ".", ".", "b"]),
        ("a.,5", ["a", ".", ",5"]),  # pairs are rewritten without overlap
        ("&quot;hi&quot; &amp; <skipped>", ['"', "hi", '"', "&"]),
        ("line-\nbreak", ["linebreak"]),
    ],
)
def test_13a_rules(line, tokens):
    assert tokenize(line, "13a") == tokens == Tokenizer13a()(line).split()


def test_intl_rules():
    # A final period stays on a number; symbols are split off; « » too.
    assert tokenize("Year 1999.", "intl") == ["Year", "1999."]
    assert tokenize("«Prix: 5€»", "intl") == ["«", "Prix", ":", "5", "€", "»"]


def test_unknown_tokenizer():
    with pytest.raises(ValueError, match="Unknown tokenizer 'moses'.*13a, intl"):
        corpus_bleu(["a"], [["a"]], tokenize="moses")


def test_unknown_smoothing():
    with pytest.raises(ValueError, match="Unknown smooth_method 'add-one'"):
        corpus_bleu(["a"], [["a"]], smooth_method="add-one")
