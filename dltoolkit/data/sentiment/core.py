"""Sentiment data shared by every source: splits, tags, pipelines.

Every loader (:mod:`dltoolkit.data.sentiment.loaders`) returns
:class:`SentimentData`: Python lists of review texts with 0/1 labels
(0 negative, 1 positive) per split, the test split's tags (``negation``,
``contrast``, ``long``) and unlabeled text for masked-LM pretraining.
:func:`make_pipeline` turns a split into batches of raw strings; the model
vectorizes them itself (:mod:`dltoolkit.data.sentiment.vectorizer`).
"""

from __future__ import annotations

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
            they are keyword heuristics (see :func:`tag_reviews`).
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


def tag_reviews(texts: list[str]) -> dict[str, np.ndarray]:
    """Keyword tags for real reviews.

    ``negation``: a negator (not, no, never, nothing, hardly, ...n't);
    ``contrast``: but, however, although, though or yet; ``long``: the
    longest quarter of ``texts`` by word count.
    """
    words = np.array([len(t.split()) for t in texts])
    cut = np.quantile(words, 0.75) if len(texts) else 0
    return {
        "negation": np.array([bool(_NEGATION.search(t)) for t in texts], dtype=bool),
        "contrast": np.array([bool(_CONTRAST.search(t)) for t in texts], dtype=bool),
        "long": words > cut if len(texts) > 3 else np.zeros(len(texts), bool),
    }


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
