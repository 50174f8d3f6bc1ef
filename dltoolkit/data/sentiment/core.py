"""Sentiment data shared by every source: splits, tags, pipelines.

Every loader (:mod:`dltoolkit.data.sentiment.loaders`) returns
:class:`SentimentData`: Python lists of review texts with 0/1 labels
(0 negative, 1 positive) per split, the test split's tags (``negation``,
``contrast``, ``long``) and unlabeled text for masked-LM pretraining.
:func:`make_pipeline` turns a split into batches of raw strings; the model
vectorizes them itself (:mod:`dltoolkit.data.sentiment.vectorizer`).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re

import numpy as np
import tensorflow as tf

CLASS_NAMES = ("negative", "positive")
# Heuristic tags for real data (the generated corpus carries exact ones).
_NEGATION = re.compile(r"\b(not|no|never|nothing|hardly|\w+n't)\b", re.IGNORECASE)
_CONTRAST = re.compile(r"\b(but|however|although|though|yet)\b", re.IGNORECASE)


@dataclasses.dataclass
class TextSplit:
    """One split: texts, int64 labels and per-review boolean tags."""

    texts: list[str]
    labels: np.ndarray
    tags: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)


@dataclasses.dataclass
class SentimentData:
    """Train / validation / test splits of a binary sentiment dataset.

    Attributes:
        train, val, test: the splits.
        unlabeled: extra text for masked-LM pretraining (IMDB's unsupervised
            reviews; empty otherwise).
        source: a one-line description of where the data came from.
        exact_tags: True when the tags come from the generator, False when
            they are heuristics (see :func:`tag_reviews`).
        vocabulary: set by the app once built from the training texts.
    """

    train: TextSplit
    val: TextSplit
    test: TextSplit
    source: str
    unlabeled: list[str] = dataclasses.field(default_factory=list)
    exact_tags: bool = False
    vocabulary: list[str] = dataclasses.field(default_factory=list)
    class_names: tuple[str, ...] = CLASS_NAMES

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def tag_reviews(
    texts: list[str], lexicon: frozenset[str] | None = None
) -> dict[str, np.ndarray]:
    """Tags for real reviews.

    ``negation``: with a ``lexicon`` (:func:`sentiment_lexicon`), a negated
    sentiment word (:func:`negated_sentiment`); without one, any negator
    (not, no, never, nothing, hardly, ...n't). ``contrast``: but, however,
    although, though or yet; ``long``: the longest quarter of ``texts`` by
    word count.
    """
    words = np.array([len(t.split()) for t in texts])
    cut = np.quantile(words, 0.75) if len(texts) else 0
    if lexicon is None:
        negation = [bool(_NEGATION.search(t)) for t in texts]
    else:
        negation = [bool(negated_sentiment(t, lexicon)) for t in texts]
    return {
        "negation": np.array(negation, dtype=bool),
        "contrast": np.array([bool(_CONTRAST.search(t)) for t in texts], dtype=bool),
        "long": words > cut if len(texts) > 3 else np.zeros(len(texts), bool),
    }


# === Negated sentiment phrases ===

# Words that negate what follows them in the same clause (and any ...n't).
NEGATORS = frozenset(
    "not no never nothing nobody none neither nor hardly barely without".split()
)
# Negator + next word(s) that negate nothing after them ("not only good").
_NOT_NEGATING = (
    ("not", "only"), ("not", "just"), ("not", "to", "mention"), ("no", "doubt"),
    ("no", "wonder"), ("not", "even"), ("never", "mind"), ("nothing", "but"),
    ("no", "matter"), ("not", "least"),
)  # fmt: skip
_CLAUSE_END = frozenset('.,;:!?()"') | {"but", "however", "although", "though", "yet"}
_TAG_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[.,;:!?()\"]")
NEGATION_WINDOW = 3
# Evaluative words that reviews of either polarity use about as often (as
# "good" in "good actors, bad film"), so a corpus's ratios miss them.
CORE_SENTIMENT = frozenset(
    "good great bad like liked love loved enjoy enjoyed enjoyable fun funny "
    "interesting worth recommend entertaining impressive impressed convincing "
    "believable".split()
)


def _tag_words(text: str) -> list[str]:
    text = re.sub(r"<br\s*/?>", " . ", text.lower().replace("’", "'"))
    return _TAG_WORDS.findall(text)


def _is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


def negated_sentiment(
    text: str, lexicon: frozenset[str], *, window: int = NEGATION_WINDOW
) -> list[tuple[str, str]]:
    """The (negator, sentiment word) pairs of ``text``: a word of ``lexicon``
    at most ``window`` words after a negator, in the same clause (no
    punctuation, "but" or "however" between), the negator not part of
    "not only", "not just", "no doubt", ... ("not bad", "wasn't very good",
    "never boring"; not "not only good", "no, it is good")."""
    words = _tag_words(text)
    pairs = []
    for i, word in enumerate(words):
        if not _is_negator(word) or any(
            tuple(words[i : i + len(p)]) == p for p in _NOT_NEGATING
        ):
            continue
        for later in words[i + 1 : i + 1 + window]:
            if later in _CLAUSE_END or _is_negator(later):
                break
            if later in lexicon:
                pairs.append((word, later))
                break
    return pairs


def _unnegated(words: list[str], window: int = NEGATION_WINDOW) -> set[str]:
    """The words of ``words`` not within ``window`` words after a negator
    (in the same clause)."""
    out, until = set(), -1
    for i, word in enumerate(words):
        if _is_negator(word):
            until = i + window
        elif word in _CLAUSE_END:
            until = -1
        elif i > until:
            out.add(word)
    return out


def sentiment_lexicon(
    texts: list[str], labels, *, min_share: float = 0.005, min_ratio: float = 1.0
) -> frozenset[str]:
    """The sentiment words of a labelled corpus, plus :data:`CORE_SENTIMENT`.

    A word counts where no negator stands before it (so that "bother" in
    "don't bother" says nothing): it must occur so in at least
    ``min_share`` of the reviews (and 3), with a naive-Bayes log ratio
    ``|r| >= min_ratio`` of the shares of positive and negative reviews
    holding it (add-one smoothing; 1: e = 2.7 times as frequent in one
    class). Negators and clause words are excluded.
    """
    labels = np.asarray(labels)
    counts = [collections.Counter(), collections.Counter()]
    for text, label in zip(texts, labels):
        counts[int(label)].update(_unnegated(_tag_words(text)))
    sizes = [int((labels == c).sum()) for c in (0, 1)]
    floor = max(3, min_share * len(texts))
    out = set(CORE_SENTIMENT)
    for word in set(counts[0]) | set(counts[1]):
        neg, pos = counts[0][word], counts[1][word]
        if neg + pos < floor or word in _CLAUSE_END:
            continue
        ratio = math.log((pos + 1) / (sizes[1] + 2)) - math.log(
            (neg + 1) / (sizes[0] + 2)
        )
        if abs(ratio) >= min_ratio:
            out.add(word)
    return frozenset(out)


# What the reports say about the tags of real data.
TAGGER_NOTE = (
    "heuristics: negation = a negator (not, no, never, ...n't) at most "
    f"{NEGATION_WINDOW} words before a sentiment word, in the same clause "
    "(sentiment words: good, bad, great, like, funny, ... and the words of "
    "the training split with a naive-Bayes log ratio |r| >= 1 where not "
    "negated); contrast = but, however, although, though or yet"
)


# === Pipelines ===


def make_pipeline(
    split: TextSplit,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    sort_window: int = 32,
) -> tf.data.Dataset:
    """Batches of ``(raw strings, labels)``, ``ceil(n / batch_size)`` of them.

    Reviews are sorted by length within windows of ``sort_window`` batches,
    so a batch holds reviews of similar length (less padding for recurrent
    models); the batches are then shuffled.
    """
    ds = tf.data.Dataset.from_tensor_slices(
        (tf.constant(split.texts, tf.string), split.labels)
    ).cache()
    if shuffle:
        ds = ds.shuffle(max(1, len(split)), seed=seed, reshuffle_each_iteration=True)
    window = batch_size * sort_window
    ds = ds.batch(window).map(_sort_by_length).unbatch().batch(batch_size)
    if shuffle:
        ds = ds.shuffle(sort_window, seed=seed, reshuffle_each_iteration=True)
    batches = math.ceil(len(split) / batch_size)
    ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    return ds.prefetch(tf.data.AUTOTUNE)


def _sort_by_length(texts, labels):
    order = tf.argsort(tf.strings.length(texts))
    return tf.gather(texts, order), tf.gather(labels, order)


def text_batches(texts: list[str], batch_size: int = 256) -> tf.data.Dataset:
    """Batches of raw strings in order (for ``predict``)."""
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
