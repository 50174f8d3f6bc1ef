"""Spoken digit strings shared by every source: the words, utterances, splits.

The embedded corpus (:mod:`dltoolkit.data.spoken_digits.synthetic`) and the
real-data readers (:mod:`dltoolkit.data.spoken_digits.files`) both return
:class:`SpokenDigits`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

DIGIT_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "oh",
)


@dataclasses.dataclass
class Utterance:
    """One recording: 16 kHz mono float32 samples and their words."""

    samples: np.ndarray
    text: str
    speaker: str
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def words(self) -> list[str]:
        return self.text.split()


@dataclasses.dataclass
class SpokenDigits:
    """Utterances per split, with a description of where they came from."""

    train: list[Utterance]
    val: list[Utterance]
    test: list[Utterance]
    source: str
    splits: str

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def cache_dir() -> Path:
    """``$DLTOOLKIT_CACHE`` or ``~/.cache/dltoolkit``."""
    root = os.environ.get("DLTOOLKIT_CACHE") or Path.home() / ".cache" / "dltoolkit"
    return Path(root)


def combine(corpora: dict[str, SpokenDigits]) -> SpokenDigits:
    """Several corpora as one: train with train, val with val, test with test.

    Every utterance's ``info["source"]`` names the corpus it came from (the
    key of ``corpora``), so results can be broken down by source. A single
    corpus comes back tagged, otherwise unchanged.
    """
    splits = {}
    for split in ("train", "val", "test"):
        splits[split] = [
            dataclasses.replace(u, info={**u.info, "source": label})
            for label, corpus in corpora.items()
            for u in getattr(corpus, split)
        ]
    if len(corpora) == 1:
        (corpus,) = corpora.values()
        return dataclasses.replace(corpus, **splits)
    return SpokenDigits(
        **splits,
        source="; ".join(c.source for c in corpora.values()),
        splits="; ".join(f"{label}: {c.splits}" for label, c in corpora.items()),
    )
