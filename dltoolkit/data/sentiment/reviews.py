"""An embedded corpus of movie reviews whose labels depend on composition.

Every review holds opinion clauses and neutral filler sentences. A clause has a
*meaning* polarity; its words may say the opposite when it is negated ("the
plot was not good" is negative, "the film was never boring" positive). The
label is the meaning of the deciding clause(s):

- ``plain``: one or two opinion sentences of the label's polarity, no negation;
- ``negation``: the same, every opinion clause negated, so the polar words
  point the other way;
- ``contrast``: one or two concessive clauses of the opposite polarity, then
  "but" / "however" and the deciding clause ("the acting was superb and the
  music was great, but the ending was awful" is negative);
- ``long``: any of the above followed by many filler sentences, so the
  deciding sentence is far from the end.

Negators, intensifiers, aspects and fillers are drawn independently of the
label and balanced over both labels, so a bag of words learns the polar
adjectives and falls clearly short on the ``negation`` and ``contrast`` cases,
where word order decides.
"""

from __future__ import annotations

import dataclasses

import numpy as np

TAGS = ("negation", "contrast", "long")
KINDS = ("plain", "negation", "contrast")

ASPECTS = (
    "the acting", "the plot", "the story", "the script", "the dialogue",
    "the soundtrack", "the music", "the ending", "the cast", "the pacing",
    "the humor", "the main character", "the visual style", "the direction",
    "the lead actor", "the villain", "the score", "the camera work",
    "the editing", "the first half", "the finale", "the romance",
)  # fmt: skip
SUBJECTS = ("it", "this one", "the whole thing", "overall it", "all in all it")
NOUNS = ("movie", "film", "story", "experience", "sequel", "drama", "comedy")
ADJECTIVES = {
    1: (
        "good", "great", "excellent", "wonderful", "brilliant", "superb",
        "enjoyable", "moving", "gripping", "charming", "funny", "clever",
        "beautiful", "engaging", "delightful", "fantastic", "memorable",
        "thrilling", "fresh", "touching",
    ),
    0: (
        "bad", "awful", "terrible", "boring", "dull", "weak", "horrible",
        "tedious", "bland", "clumsy", "predictable", "messy", "forgettable",
        "painful", "lifeless", "disappointing", "silly", "annoying", "flat",
        "slow",
    ),
}  # fmt: skip
VERBS = {  # (past, base)
    1: (("loved", "love"), ("liked", "like"), ("enjoyed", "enjoy"),
        ("adored", "adore"), ("admired", "admire")),
    0: (("hated", "hate"), ("disliked", "dislike"), ("despised", "despise"),
        ("loathed", "loathe"), ("resented", "resent")),
}  # fmt: skip
INTENSIFIERS = (
    "very", "really", "truly", "extremely", "incredibly", "absolutely", "so",
    "quite", "remarkably", "genuinely",
)  # fmt: skip
COPULAS = ("was", "is", "felt", "seemed")
DID_NOT = ("did not", "didn't")
NEGATED_COPULAS = (
    "was not", "is not", "was never", "wasn't", "isn't", "never felt",
    "did not feel", "was hardly", "was far from", "was not at all",
)  # fmt: skip
FILLERS = (
    "I watched it {when}.",
    "{person} recommended it to me.",
    "{person} and I saw it {when}.",
    "The film runs about {length}.",
    "It came out {time}.",
    "The story takes place in {place}.",
    "Most of it was shot in {place}.",
    "{aspect} reminded me of an older movie.",
    "The director also wrote the script.",
    "I went in knowing nothing about it.",
    "It is based on a novel I have not read.",
    "I saw the trailer {when}.",
    "We bought popcorn and sat near the back.",
    "There are {count} main characters.",
    "The theater was half empty.",
    "{person} told me about {aspect} before I went.",
    "I wrote this review {time}.",
    "It is the second film by this director.",
)
SLOTS = {
    "when": ("on a sunday afternoon", "last night", "with my family",
             "on a long flight", "after work", "during the holidays",
             "at a small theater downtown", "last weekend", "on tv"),
    "person": ("my friend", "my sister", "a coworker", "my neighbor",
               "my brother", "my uncle", "a classmate"),
    "length": ("ninety minutes", "two hours", "a hundred minutes",
               "two and a half hours"),
    "time": ("last year", "a few years ago", "in the spring", "this summer",
             "in the eighties"),
    "place": ("a small town", "new york", "the mountains", "a space station",
              "paris", "a quiet village", "the desert", "an old hotel"),
    "count": ("three", "four", "five", "six"),
}  # fmt: skip


@dataclasses.dataclass
class ReviewSet:
    """Generated reviews: texts, 0/1 labels and the tag masks of each review."""

    texts: list[str]
    labels: np.ndarray
    tags: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.texts)


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _adjective_phrase(rng, polarity: int) -> str:
    adjective = _pick(rng, ADJECTIVES[polarity])
    if rng.random() < 0.35:
        return f"{_pick(rng, INTENSIFIERS)} {adjective}"
    return adjective


def _clause(rng, meaning: int, negated: bool) -> str:
    """One opinion clause of ``meaning`` (1 positive); ``negated`` flips its words."""
    surface = 1 - meaning if negated else meaning
    form = int(rng.integers(4))
    aspect = _pick(rng, ASPECTS)
    phrase = _adjective_phrase(rng, surface)
    if form == 0 or (form == 3 and negated):
        copula = _pick(rng, NEGATED_COPULAS if negated else COPULAS)
        return f"{aspect} {copula} {phrase}"
    if form == 1:
        past, base = _pick(rng, VERBS[surface])
        if not negated:
            return f"I {past} {aspect}"
        if rng.random() < 0.3:
            return f"I never {past} {aspect}"
        return f"I {_pick(rng, DID_NOT)} {base} {aspect}"
    if form == 2:
        subject = _pick(rng, SUBJECTS)
        noun = _pick(rng, NOUNS)
        if not negated:
            return f"{subject} was {_article(phrase)} {phrase} {noun}"
        return f"{subject} was not {_article(phrase)} {phrase} {noun}"
    return f"what {_article(phrase)} {phrase} {_pick(rng, NOUNS)}"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _fillers(rng, count: int) -> list[str]:
    """``count`` neutral sentences from distinct templates."""
    out = []
    for index in rng.permutation(len(FILLERS))[:count]:
        values = {key: _pick(rng, options) for key, options in SLOTS.items()}
        values["aspect"] = _pick(rng, ASPECTS)
        text = FILLERS[int(index)].format(**values)
        out.append(text[0].upper() + text[1:])
    return out


def _core(rng, label: int, kind: str) -> tuple[list[str], bool]:
    """The deciding sentences of a review; also whether the decider is negated."""
    if kind in ("plain", "negation"):
        negated = kind == "negation"
        count = 1 + int(rng.random() < 0.4)
        return [_sentence(_clause(rng, label, negated)) for _ in range(count)], negated
    # Contrast: concessions of the other polarity, then the deciding clause.
    concessions = [
        _clause(rng, 1 - label, bool(rng.random() < 0.3))
        for _ in range(1 + int(rng.random() < 0.6))
    ]
    negated = bool(rng.random() < 0.3)
    decider = _clause(rng, label, negated)
    first = " and ".join(concessions)
    joint = _pick(rng, (", but ", ", but ", ". But ", "; however, ", ". However, "))
    text = first[0].upper() + first[1:] + joint + decider + "."
    return [text], negated


def _review(rng, label: int, kind: str, long: bool) -> tuple[str, bool]:
    core, negated = _core(rng, label, kind)
    before = int(rng.integers(0, 2))
    after = int(rng.integers(6, 11)) if long else int(rng.integers(0, 2))
    fillers = _fillers(rng, before + after)
    return " ".join(fillers[:before] + core + fillers[before:]), negated


def generate_reviews(
    n: int,
    *,
    seed: int = 0,
    kind_weights: tuple[float, float, float] = (0.4, 0.3, 0.3),
    long_fraction: float = 0.2,
    exclude: set[str] | None = None,
) -> ReviewSet:
    """Generates ``n`` distinct reviews, half positive and half negative.

    Args:
        n: number of reviews (an odd ``n`` has one more negative).
        seed: the same seed gives the same reviews.
        kind_weights: probabilities of ``plain``, ``negation`` and
            ``contrast`` reviews.
        long_fraction: share of reviews padded with many filler sentences.
        exclude: texts not to generate (another split's).

    Returns:
        A :class:`ReviewSet`; ``tags["negation"]`` marks reviews whose deciding
        clause is negated, ``tags["contrast"]`` those decided after "but" or
        "however", ``tags["long"]`` the long ones.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0. Received: n={n}")
    weights = np.asarray(kind_weights, dtype="float64")
    if weights.shape != (3,) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(
            "kind_weights takes 3 non-negative weights (plain, negation, "
            f"contrast). Received: kind_weights={kind_weights}"
        )
    weights = weights / weights.sum()
    rng = np.random.default_rng(seed)
    seen = set(exclude or ())
    texts, labels, tags = [], [], {t: [] for t in TAGS}
    attempts = 0
    while len(texts) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"Could not generate {n} distinct reviews.")
        label = len(texts) % 2
        kind = KINDS[int(rng.choice(3, p=weights))]
        long = bool(rng.random() < long_fraction)
        text, negated = _review(rng, label, kind, long)
        if text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(label)
        tags["negation"].append(negated)
        tags["contrast"].append(kind == "contrast")
        tags["long"].append(long)
    return ReviewSet(
        texts,
        np.asarray(labels, dtype="int64"),
        {t: np.asarray(v, dtype=bool) for t, v in tags.items()},
    )


def review_splits(
    num_reviews: int,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> tuple[ReviewSet, ReviewSet, ReviewSet]:
    """Disjoint, balanced train / validation / test sets of generated reviews.

    The test set is generated first, then validation, then train, each
    excluding the texts of the others, so no review occurs in two splits.
    """
    n_test = int(round(num_reviews * test_fraction))
    n_val = int(round(num_reviews * val_fraction))
    n_train = num_reviews - n_test - n_val
    if min(n_test, n_val, n_train) < 2:
        raise ValueError(
            f"num_reviews={num_reviews} is too few to split into train, "
            "validation and test (at least 2 each)."
        )
    test = generate_reviews(n_test, seed=seed * 3 + 2)
    val = generate_reviews(n_val, seed=seed * 3 + 1, exclude=set(test.texts))
    train = generate_reviews(
        n_train, seed=seed * 3, exclude=set(test.texts) | set(val.texts)
    )
    return train, val, test
