"""Corpus BLEU: dltoolkit against sacreBLEU on generated segment pairs.

    .venv/bin/python bench/bleu.py [--segments N] [--tokenize 13a] [--refs 1]
                                   [--repeats 1] [--threads T] [--force]
                                   [--out FILE.json] [--smoke]

Generates N hypothesis/reference pairs (Zipf-distributed words, capitals,
punctuation, numbers with separators, some unicode; each reference is the
hypothesis with substitutions, insertions, deletions and a local swap), scores
them with both libraries in the same run, asserts that the scores are equal
and prints both times and the ratio sacrebleu_time / our_time (above 1: ours
is faster). Both run single-threaded Python; the thread pools are pinned
and the load checked as for every bench script (``bench/_harness.py``). The
figures go to ``bench/results/bleu.json`` (or ``--out``) with the machine's
description; ``--smoke`` runs tiny sizes (300 segments, 2 reference streams,
one repeat) for the tests and writes only to ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402

_SYLLABLES = "ka lo mi ne ru sa ti vo ze ba de fi gu ho ja ly pe qu wa xe".split()
_EXTRA = ["café", "naïve", "Straße", "über", "€", "—", "«", "»", "東京", "l'été"]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))))
    return sorted(words) + _EXTRA


def _token(rng: random.Random, vocab: list[str], cum_weights: list[float]) -> str:
    r = rng.random()
    if r < 0.04:
        return rng.choice(["1,000", "3.14", "2024", "12-15", "0.5", "42"])
    if r < 0.10:
        return rng.choice([",", ";", ":", "(", ")", '"', "-", "?", "!", "'s"])
    word = rng.choices(vocab, cum_weights=cum_weights)[0]
    return word.capitalize() if r > 0.97 else word


def _sentence(rng, vocab, cum_weights) -> list[str]:
    words = [_token(rng, vocab, cum_weights) for _ in range(rng.randint(3, 40))]
    words[0] = words[0].capitalize()
    return words + [rng.choice([".", ".", ".", "?", "!"])]


def _perturb(rng, words, vocab, cum_weights) -> list[str]:
    out = []
    for word in words:
        r = rng.random()
        if r < 0.10:
            out.append(_token(rng, vocab, cum_weights))  # substitution
        elif r < 0.15:
            continue  # deletion
        elif r < 0.20:
            out += [word, _token(rng, vocab, cum_weights)]  # insertion
        else:
            out.append(word)
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _join(words: list[str]) -> str:
    text = " ".join(words)
    return text.replace(" ,", ",").replace(" .", ".").replace(" 's", "'s")


def make_corpus(segments: int, refs: int = 1, seed: int = 0):
    """Returns ``(hypotheses, reference_streams)``."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 5000)
    cum_weights = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(vocab))))
    hypotheses, streams = [], [[] for _ in range(refs)]
    for _ in range(segments):
        base = _sentence(rng, vocab, cum_weights)
        hypotheses.append(_join(base))
        for stream in streams:
            stream.append(_join(_perturb(rng, base, vocab, cum_weights)))
    return hypotheses, streams


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--refs", type=int, default=1)
    parser.add_argument("--tokenize", default="13a")
    parser.add_argument("--repeats", type=int, default=1, help="best of N runs")
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.segments, args.refs, args.repeats = 300, 2, 1
    run = _harness.Run("bleu", args)

    import sacrebleu

    from dltoolkit.metrics import corpus_bleu
    from dltoolkit.metrics.tokenizers import clear_caches

    t0 = time.perf_counter()
    hypotheses, references = make_corpus(args.segments, args.refs)
    print(
        f"{args.segments:,} segments, {args.refs} reference stream(s), "
        f"tok:{args.tokenize} (generated in {time.perf_counter() - t0:.1f} s)"
    )

    ours_time = theirs_time = float("inf")
    ours_first = theirs_first = None
    for _ in range(args.repeats):
        # sacreBLEU first: a fresh BLEU object, as sacrebleu.corpus_bleu makes.
        t0 = time.perf_counter()
        theirs = sacrebleu.corpus_bleu(hypotheses, references, tokenize=args.tokenize)
        seconds = time.perf_counter() - t0
        theirs_first = seconds if theirs_first is None else theirs_first
        theirs_time = min(theirs_time, seconds)
        clear_caches()  # cold start, as for sacreBLEU's fresh tokenizer caches
        t0 = time.perf_counter()
        ours = corpus_bleu(hypotheses, references, tokenize=args.tokenize)
        seconds = time.perf_counter() - t0
        ours_first = seconds if ours_first is None else ours_first
        ours_time = min(ours_time, seconds)

    print(f"sacrebleu {sacrebleu.__version__}: {theirs_time:7.3f} s  {theirs}")
    print(f"dltoolkit        : {ours_time:7.3f} s  {ours}")
    assert ours.score == theirs.score, (ours.score, theirs.score)
    assert ours.counts == theirs.counts and ours.totals == theirs.totals
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    print("scores identical")
    print(f"ratio sacrebleu_time / our_time = {theirs_time / ours_time:.2f}")
    run.print_threads()
    run.write(
        {
            "segments": args.segments,
            "refs": args.refs,
            "tokenize": args.tokenize,
            "repeats": args.repeats,
            "sacrebleu_version": sacrebleu.__version__,
            "score": ours.score,
            "sacrebleu_score": theirs.score,
            "our_seconds": ours_time,
            "sacrebleu_seconds": theirs_time,
            "our_first_seconds": ours_first,
            "sacrebleu_first_seconds": theirs_first,
            "ratio": theirs_time / ours_time,
            "ratio_first": theirs_first / ours_first,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
