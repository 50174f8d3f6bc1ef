"""Seeded random corpora that probe the tokenizers' rules.

Segments mix words, capitals, unicode (accents, CJK, Greek, emoji, combining
marks, non-ASCII digits and spaces), punctuation and symbols, numbers with
commas, periods and dashes, HTML escapes, tabs, repeated and trailing spaces,
and empty strings. References are perturbed copies of the hypothesis so that
n-grams of every order match.
"""

import random

_WORDS = (
    "the a cat dog sat on mat man bit him it was not of to and in that is for "
    "with as The A Dog It US"
).split()
_UNICODE = [
    "café", "naïve", "Straße", "ÉCOLE", "东京", "日本語", "Ελλάδα", "добрый",
    "l'été", "e\u0301", "😀", "١٢٣", "²", "½", "ǅ", "İstanbul", "ﬁ",
]  # fmt: skip
_PUNCT = list(".,;:!?'\"()[]{}-/\\@#$%^&*_+=|~`<>") + [
    "...", "--", "—", "–", "«", "»", "“", "”", "’", "¿", "¡", "·", "…", "€", "£",
    "§", "°", "±",
]  # fmt: skip
_NUMBERS = [
    "1,000", "3.14", "1999.", "12-15", "0.5", "42", "1.000,5", "2,", ".5", "5-",
    "-3", "U.S.", "e.g.,", "a.m.", "No.1", "7th", "1-2-3", "3.", ",4",
]  # fmt: skip
_ESCAPES = ["&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "&amp;quot;", "&"]
_SPACES = [" ", " ", " ", "  ", "\t", "\xa0", "\u3000"]


def _token(rng):
    pool = rng.choices(
        [_WORDS, _UNICODE, _PUNCT, _NUMBERS, _ESCAPES], [10, 2, 3, 2, 0.3]
    )[0]
    return rng.choice(pool)


def random_segment(rng, max_tokens=14):
    """One segment: tokens glued or separated by assorted whitespace."""
    if rng.random() < 0.05:
        return rng.choice(["", " ", "\t"])
    parts = []
    for _ in range(rng.randint(1, max_tokens)):
        parts.append(_token(rng))
        parts.append("" if rng.random() < 0.25 else rng.choice(_SPACES))
    text = "".join(parts)
    return " " + text if rng.random() < 0.1 else text


def perturb(rng, text):
    """A reference: the text with words dropped, replaced, added and swapped."""
    words = text.split(" ")
    out = []
    for word in words:
        r = rng.random()
        if r < 0.1:
            continue
        if r < 0.2:
            out.append(_token(rng))
        elif r < 0.25:
            out += [word, _token(rng)]
        else:
            out.append(word)
    if len(out) > 2 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    if rng.random() < 0.05:
        return ""
    return " ".join(out)


def make_corpus(seed, segments=300, refs=2):
    """``(hypotheses, reference_streams)`` from a seeded RNG."""
    rng = random.Random(seed)
    hypotheses = [random_segment(rng) for _ in range(segments)]
    streams = [
        [
            perturb(rng, h) if rng.random() < 0.85 else random_segment(rng)
            for h in hypotheses
        ]
        for _ in range(refs)
    ]
    return hypotheses, streams
