"""Sentiment data: the generated review corpus, IMDB (TFDS or aclImdb), CSV/TSV.

Every loader returns :class:`SentimentData`: Python lists of review texts with
0/1 labels (0 negative, 1 positive) per split, the test split's tags
(``negation``, ``contrast``, ``long``) and unlabeled text for masked-LM
pretraining. :func:`make_pipeline` turns a split into batches of raw strings;
the model vectorizes them itself (:mod:`dltoolkit.data.review_vectorizer`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from dltoolkit.data.reviews import TAGS, review_splits
from dltoolkit.errors import DataError

CLASS_NAMES = ("negative", "positive")
LABEL_VALUES = {
    "0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1,
}  # fmt: skip
TEXT_COLUMNS = ("text", "review", "sentence", "content")
LABEL_COLUMNS = ("label", "sentiment", "polarity")
IMDB_TFDS = "imdb_reviews"
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
        pretrain_seconds: time spent in masked-LM pretraining, if any.
    """

    train: TextSplit
    val: TextSplit
    test: TextSplit
    source: str
    unlabeled: list[str] = dataclasses.field(default_factory=list)
    exact_tags: bool = False
    vocabulary: list[str] = dataclasses.field(default_factory=list)
    pretrain_seconds: float | None = None
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


def _tagged(texts, labels) -> TextSplit:
    return TextSplit(list(texts), np.asarray(labels, "int64"), tag_reviews(texts))


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
    """The embedded corpus of :mod:`dltoolkit.data.reviews` (exact tags)."""
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
    import tensorflow_datasets as tfds

    where = data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        known = builder.info.splits or ("train", "test", "unsupervised")
        names = [s for s in ("train", "test", "unsupervised") if s in known]
        loaded = tfds.load(
            name, split=names, data_dir=data_dir, download=False, as_supervised=True
        )
    except (AssertionError, tfds.core.registered.DatasetNotFoundError):
        raise DataError(
            f"TFDS dataset {name!r} is not in the TFDS data dir {where}; nothing "
            "is downloaded at run time: prepare it elsewhere (`tfds build "
            f"{name}`) and copy it there, or pass data_dir."
        ) from None
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
        _tagged(*train),
        _tagged(*val),
        _tagged(*test),
        source=f"TFDS {name} ({where})",
        unlabeled=unlabeled[: max_examples or None],
    )


def read_utf8(path: Path) -> str:
    """The text of ``path``; a non-UTF-8 byte is a DataError naming file and line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise DataError(
            f"{path}, line {line}: byte 0x{data[err.start]:02x} at column "
            f"{column} is not valid UTF-8; save the file as UTF-8."
        ) from None


def load_acl_imdb(
    path: os.PathLike,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    max_examples: int | None = None,
) -> SentimentData:
    """The aclImdb layout: ``train/{pos,neg}/*.txt``, ``test/{pos,neg}/*.txt``.

    ``train/unsup`` (optional) is the unlabeled text. Without ``test/`` the
    test split is drawn from ``train/``.
    """
    root = Path(path)

    def read(split: str, label: str) -> list[str]:
        folder = root / split / label
        return [read_utf8(f) for f in sorted(folder.glob("*.txt"))]

    def labeled(split: str):
        neg, pos = read(split, "neg"), read(split, "pos")
        return neg + pos, np.array([0] * len(neg) + [1] * len(pos), "int64")

    if not (root / "train" / "pos").is_dir() or not (root / "train" / "neg").is_dir():
        raise DataError(
            f"{root} is not an aclImdb folder: expected train/pos and train/neg "
            "(and test/pos, test/neg) holding one .txt review each."
        )
    texts, labels = _cap(*labeled("train"), max_examples, seed)
    if np.bincount(labels, minlength=2).min() == 0:
        raise DataError(f"{root}/train needs .txt reviews in both pos and neg.")
    has_test = (root / "test" / "pos").is_dir() and (root / "test" / "neg").is_dir()
    train, val, test = _split(
        texts,
        labels,
        val_fraction=val_fraction,
        test_fraction=0 if has_test else test_fraction,
        seed=seed,
    )
    if has_test:
        test = _cap(*labeled("test"), max_examples, seed)
    unsup = root / "train" / "unsup"
    unlabeled = [read_utf8(f) for f in sorted(unsup.glob("*.txt"))[:max_examples]]
    return SentimentData(
        _tagged(*train),
        _tagged(*val),
        _tagged(*test),
        source=f"aclImdb folder {root}",
        unlabeled=unlabeled,
    )


def parse_label(value: str):
    """0 or 1 for an accepted label text (case-insensitive), else None."""
    return LABEL_VALUES.get(value.strip().lower())


def _column(header, wanted, defaults, kind, path):
    names = [h.strip() for h in header]
    lowered = [h.lower() for h in names]
    for name in [wanted] if wanted else defaults:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    asked = repr(wanted) if wanted else f"one of {', '.join(defaults)}"
    raise DataError(
        f"{path} has no {kind} column {asked}; its columns: {', '.join(names)}. "
        f"Choose one with --set {kind}_column=NAME."
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
    """A CSV (comma) or TSV (tab, ``.tsv``) file with a header row.

    The text column is ``text_column`` or the first of text, review,
    sentence, content; the label column ``label_column`` or the first of
    label, sentiment, polarity. Labels: 0/1, neg/pos or negative/positive
    (any case). The rows are split into train, validation and test.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Data file not found: {path}")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    rows = list(
        csv.reader(io.StringIO(read_utf8(path), newline=""), delimiter=delimiter)
    )
    if len(rows) < 2:
        raise DataError(f"{path} needs a header row and at least one review.")
    header, rows = rows[0], rows[1:]
    text_i = _column(header, text_column, TEXT_COLUMNS, "text", path)
    label_i = _column(header, label_column, LABEL_COLUMNS, "label", path)
    texts, labels, bad = [], [], {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) <= max(text_i, label_i):
            raise DataError(
                f"{path}, row {line}: {len(row)} fields, expected {len(header)}."
            )
        label = parse_label(row[label_i])
        if label is None:
            bad.setdefault(row[label_i].strip(), line)
        texts.append(row[text_i])
        labels.append(label)
    if bad:
        found = ", ".join(f"{v!r} (row {r})" for v, r in list(bad.items())[:10])
        raise DataError(
            f"{path}: label column {header[label_i].strip()!r} has unexpected "
            f"values: {found}; accepted: 0/1, neg/pos, negative/positive."
        )
    labels = np.asarray(labels, "int64")
    counts = np.bincount(labels, minlength=2)
    if counts.min() == 0 or len(texts) < 6:
        raise DataError(
            f"{path} has {counts[0]} negative and {counts[1]} positive reviews: "
            "at least 6 in all, with both labels, are needed to split it."
        )
    texts, labels = _cap(texts, labels, max_examples, seed)
    splits = _split(
        texts, labels, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )
    return SentimentData(*(_tagged(*s) for s in splits), source=f"table {path}")


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


__all__ = [
    "CLASS_NAMES",
    "TAGS",
    "SentimentData",
    "TextSplit",
    "load_sentiment",
    "make_pipeline",
    "tag_reviews",
    "text_batches",
]
