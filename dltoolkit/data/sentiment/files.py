"""Reading sentiment data files: aclImdb folders and CSV/TSV tables.

The readers return plain texts and 0/1 labels (0 negative, 1 positive);
:mod:`dltoolkit.data.sentiment.loaders` splits and tags them. A byte that is
not UTF-8 stops with the file, line and column; a label column with other
values stops with the values found.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from dltoolkit.data.inputs import read_utf8
from dltoolkit.errors import DataError

LABEL_VALUES = {
    "0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1,
}  # fmt: skip
TEXT_COLUMNS = ("text", "review", "sentence", "content")
LABEL_COLUMNS = ("label", "sentiment", "polarity")


def read_acl_imdb(path: os.PathLike):
    """Reads the aclImdb layout: ``train/{pos,neg}/*.txt`` (required),
    ``test/{pos,neg}/*.txt`` and ``train/unsup/*.txt`` (optional).

    Returns:
        ``(train, test, unlabeled)``: ``(texts, labels)`` pairs (``test`` is
        None without ``test/``) and the unlabeled texts.
    """
    root = Path(path)

    def labeled(split: str):
        neg, pos = (
            [read_utf8(f) for f in sorted((root / split / name).glob("*.txt"))]
            for name in ("neg", "pos")
        )
        return neg + pos, np.array([0] * len(neg) + [1] * len(pos), "int64")

    if not (root / "train" / "pos").is_dir() or not (root / "train" / "neg").is_dir():
        raise DataError(
            f"{root} is not an aclImdb folder: expected train/pos and train/neg "
            "(and test/pos, test/neg) holding one .txt review each."
        )
    train = labeled("train")
    if np.bincount(train[1], minlength=2).min() == 0:
        raise DataError(f"{root}/train needs .txt reviews in both pos and neg.")
    has_test = (root / "test" / "pos").is_dir() and (root / "test" / "neg").is_dir()
    unsup = sorted((root / "train" / "unsup").glob("*.txt"))
    return train, labeled("test") if has_test else None, [read_utf8(f) for f in unsup]


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


def read_table(path: os.PathLike, *, text_column: str | None = None, label_column=None):
    """Reads a CSV (comma) or TSV (tab, ``.tsv``) file with a header row.

    The text column is ``text_column`` or the first of text, review,
    sentence, content; the label column ``label_column`` or the first of
    label, sentiment, polarity. Labels: 0/1, neg/pos or negative/positive
    (any case). Blank lines are skipped.

    Returns:
        ``(texts, labels)``.
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
    return texts, labels
