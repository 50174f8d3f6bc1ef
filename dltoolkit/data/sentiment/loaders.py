"""Sentiment loaders: the generated review corpus, IMDB (TFDS or aclImdb), CSV/TSV.

Every loader returns :class:`~dltoolkit.data.sentiment.core.SentimentData`;
:func:`load_sentiment` dispatches between the sources. The generated corpus
comes from :mod:`dltoolkit.data.sentiment.reviews`, the file readers from
:mod:`dltoolkit.data.sentiment.files`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dltoolkit.data.sentiment.core import (
    SentimentData,
    TextSplit,
    sentiment_lexicon,
    tag_reviews,
)
from dltoolkit.data.sentiment.files import read_acl_imdb, read_table
from dltoolkit.data.sentiment.reviews import review_splits
from dltoolkit.data.tfds_source import tfds_data_dir, tfds_required
from dltoolkit.errors import DataError

IMDB_TFDS = "imdb_reviews"


def _tagged(*splits) -> list[TextSplit]:
    """``(texts, labels)`` splits, the first the training split, as tagged
    :class:`TextSplit` objects; the negation tag reads the sentiment words
    of the training split (:func:`sentiment_lexicon`)."""
    lexicon = sentiment_lexicon(*splits[0]) if len(splits[0][0]) else None
    return [
        TextSplit(list(texts), np.asarray(labels, "int64"), tag_reviews(texts, lexicon))
        for texts, labels in splits
    ]


def _split(texts, labels, *, val_fraction, test_fraction, seed):
    """Stratified train / val / test of one labeled set (test_fraction 0: none).

    Each class gives ``round(n_c * test_fraction)`` reviews to test and
    ``round(rest * val_fraction)`` to validation, at least one each when it
    has three or more.
    """
    labels = np.asarray(labels, "int64")
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for label in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == label))
        floor = 1 if len(index) >= 3 else 0
        n_test = (
            max(floor, int(len(index) * test_fraction + 0.5)) if test_fraction else 0
        )
        n_val = max(floor, int((len(index) - n_test) * val_fraction + 0.5))
        parts[2].append(index[:n_test])
        parts[1].append(index[n_test : n_test + n_val])
        parts[0].append(index[n_test + n_val :])
    out = []
    for part in parts:
        index = np.sort(np.concatenate(part)) if part else np.array([], "int64")
        out.append(([texts[i] for i in index], labels[index]))
    return out


def _cap(texts, labels, limit, seed):
    """At most ``limit`` examples, a seeded random subset (order kept)."""
    if limit is None or len(texts) <= limit:
        return texts, labels
    keep = np.sort(np.random.default_rng(seed).permutation(len(texts))[:limit])
    return [texts[i] for i in keep], np.asarray(labels)[keep]


# === Loaders ===


def load_generated(
    num_reviews: int, *, seed: int = 0, val_fraction=0.1, test_fraction=0.2
) -> SentimentData:
    """The embedded corpus of :mod:`dltoolkit.data.sentiment.reviews` (exact tags)."""
    try:
        splits = review_splits(
            num_reviews,
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
        )
    except ValueError as err:
        raise DataError(str(err)) from None
    train, val, test = (TextSplit(s.texts, s.labels, s.tags) for s in splits)
    return SentimentData(
        train,
        val,
        test,
        source=f"generated reviews ({num_reviews:,}, seed {seed})",
        exact_tags=True,
    )


def load_tfds_reviews(
    name: str = IMDB_TFDS,
    *,
    data_dir: str | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    max_examples: int | None = None,
) -> SentimentData:
    """A TFDS text dataset with ``text`` and ``label`` features (never downloads).

    ``train`` is split into train and validation; ``test`` is the test split;
    an ``unsupervised`` split, when present, becomes the unlabeled text.
    """

    with tfds_required(name, data_dir) as tfds:
        builder = tfds.builder(name, data_dir=data_dir)
        known = builder.info.splits or ("train", "test", "unsupervised")
        names = [s for s in ("train", "test", "unsupervised") if s in known]
        loaded = tfds.load(
            name, split=names, data_dir=data_dir, download=False, as_supervised=True
        )
    arrays = {}
    for split, ds in zip(names, loaded):
        texts, labels = [], []
        for text, label in ds.as_numpy_iterator():
            texts.append(text.decode("utf-8", errors="replace"))
            labels.append(int(label))
        arrays[split] = (texts, np.asarray(labels, "int64"))
    if "train" not in arrays or "test" not in arrays:
        raise DataError(f"TFDS dataset {name!r} needs train and test splits.")
    train, val, _ = _split(
        *_cap(*arrays["train"], max_examples, seed),
        val_fraction=val_fraction,
        test_fraction=0,
        seed=seed,
    )
    test = _cap(*arrays["test"], max_examples, seed)
    unlabeled = arrays.get("unsupervised", ([], None))[0]
    return SentimentData(
        *_tagged(train, val, test),
        source=f"TFDS {name} ({tfds_data_dir(data_dir)})",
        unlabeled=unlabeled[: max_examples or None],
    )


def load_acl_imdb(
    path: os.PathLike,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    max_examples: int | None = None,
) -> SentimentData:
    """The aclImdb layout (:func:`read_acl_imdb`); ``train/unsup`` is the
    unlabeled text; without ``test/`` the test split is drawn from ``train/``.
    """
    train, test, unlabeled = read_acl_imdb(path)
    train, val, drawn = _split(
        *_cap(*train, max_examples, seed),
        val_fraction=val_fraction,
        test_fraction=0 if test else test_fraction,
        seed=seed,
    )
    test = _cap(*test, max_examples, seed) if test else drawn
    return SentimentData(
        *_tagged(train, val, test),
        source=f"aclImdb folder {Path(path)}",
        unlabeled=unlabeled[:max_examples],
    )


def load_table(
    path: os.PathLike,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    max_examples: int | None = None,
) -> SentimentData:
    """A CSV/TSV file (:func:`read_table`), split into train, val and test."""
    texts, labels = read_table(path, text_column=text_column, label_column=label_column)
    splits = _split(
        *_cap(texts, labels, max_examples, seed),
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
    return SentimentData(*_tagged(*splits), source=f"table {path}")


def load_sentiment(
    source: str,
    *,
    data_dir: str | None = None,
    num_reviews: int = 12000,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    max_examples: int | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
) -> SentimentData:
    """Dispatches ``reviews``, ``imdb`` / ``tfds:NAME``, an aclImdb folder or a
    CSV/TSV file.
    """
    fractions = dict(val_fraction=val_fraction, seed=seed)
    if source == "reviews":
        return load_generated(num_reviews, test_fraction=test_fraction, **fractions)
    if source in ("imdb", f"tfds:{IMDB_TFDS}") or source.startswith("tfds:"):
        name = IMDB_TFDS if source == "imdb" else source[len("tfds:") :]
        return load_tfds_reviews(
            name, data_dir=data_dir, max_examples=max_examples, **fractions
        )
    path = Path(source)
    if path.is_dir():
        return load_acl_imdb(
            path, test_fraction=test_fraction, max_examples=max_examples, **fractions
        )
    if path.suffix.lower() in (".csv", ".tsv", ".tab") or path.is_file():
        return load_table(
            path,
            text_column=text_column,
            label_column=label_column,
            test_fraction=test_fraction,
            max_examples=max_examples,
            **fractions,
        )
    raise DataError(
        f"Unknown data source {source!r}. Valid: reviews (generated), imdb, "
        "tfds:NAME, an aclImdb folder, or a .csv/.tsv file."
    )
