"""chrF and chrF++ against sacreBLEU 2.x."""

import random

import pytest
import sacrebleu
from metric_corpora import perturb, random_segment

from dltoolkit import __version__
from dltoolkit.metrics import corpus_chrf, sentence_chrf


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"word_order": 2},  # chrF++
        {"lowercase": True},
        {"whitespace": True},
        {"eps_smoothing": True},
        {"word_order": 2, "eps_smoothing": True, "lowercase": True},
        {"char_order": 3, "word_order": 1, "beta": 1},
    ],
    ids=lambda kwargs: ",".join(f"{k}={v}" for k, v in kwargs.items()) or "default",
)
@pytest.mark.parametrize("fixture", ["corpus", "single_ref_corpus"])
def test_corpus_chrf_parity(request, fixture, kwargs):
    hyps, refs = request.getfixturevalue(fixture)
    ours = corpus_chrf(hyps, refs, **kwargs)
    theirs = sacrebleu.CHRF(**kwargs).corpus_score(hyps, refs)
    assert ours.score == pytest.approx(theirs.score, abs=1e-9)
    assert ours.name == theirs.name


def test_sentence_chrf_parity():
    rng = random.Random(3)
    for _ in range(150):
        hyp = random_segment(rng)
        refs = [perturb(rng, hyp) for _ in range(rng.randint(1, 3))]
        word_order = rng.choice([0, 2])
        ours = sentence_chrf(hyp, refs, word_order=word_order)
        theirs = sacrebleu.sentence_chrf(hyp, refs, word_order=word_order)
        assert ours.score == pytest.approx(theirs.score, abs=1e-9)


def test_none_references(corpus):
    hyps, refs = corpus
    holes = [refs[0], [r if i % 3 else None for i, r in enumerate(refs[1])]]
    ours = corpus_chrf(hyps, holes)
    assert ours.score == pytest.approx(sacrebleu.corpus_chrf(hyps, holes).score)
    assert ours.signature.startswith("nrefs:var|")


def test_format_and_signature():
    hyps = ["The dog bit the man.", "It wasn't surprising."]
    refs = [["The dog bit the man.", "It was not unexpected."]]
    metric = sacrebleu.CHRF(word_order=2)
    theirs = metric.corpus_score(hyps, refs)
    ours = corpus_chrf(hyps, refs, word_order=2)
    assert str(ours) == f"chrF2++ = {theirs.score:.2f}"
    sig = str(metric.get_signature()).rsplit("|version:", 1)[0]
    assert ours.signature == f"{sig}|version:dltoolkit-{__version__}"
