"""Real parallel text: Tatoeba/Anki pair files and TFDS translation datasets.

Both return :class:`~dltoolkit.data.translation.core.TranslationData`; see
:func:`dltoolkit.data.translation.loaders.load_translation` for the dispatch.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from dltoolkit.data.tfds_source import tfds_data_dir, tfds_required
from dltoolkit.data.translation.core import TranslationData, split_pairs
from dltoolkit.errors import DataError


def read_pairs_file(path: os.PathLike, *, reverse: bool = False) -> list:
    """Reads ``source<TAB>target[<TAB>attribution]`` lines (blank lines skipped).

    Raises:
        DataError: a missing file, or a malformed line (named with its number).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Pairs file not found: {path}")
    pairs = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(
                    f"Malformed pairs file {path}, line {number}: not UTF-8 text."
                ) from None
            line = line.lstrip("\ufeff") if number == 1 else line
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) not in (2, 3) or not all(f.strip() for f in fields[:2]):
                found = (
                    f"{len(fields)} tab-separated fields"
                    if len(fields) not in (2, 3)
                    else "an empty sentence"
                )
                raise DataError(
                    f"Malformed pairs file {path}, line {number}: expected "
                    f"'source<TAB>target[<TAB>attribution]', found {found}."
                )
            pairs.append((fields[0].strip(), fields[1].strip()))
    if not pairs:
        raise DataError(f"Pairs file {path} holds no sentence pairs.")
    return [(t, s) for s, t in pairs] if reverse else pairs


def load_pairs_file(
    path, *, seed=0, reverse=False, max_pairs=0, val_fraction=0.05, test_fraction=0.05
) -> TranslationData:
    """A Tatoeba/Anki pairs file, split by source sentence (see :func:`split_pairs`).

    Args:
        max_pairs: keep at most this many pairs (a seeded sample); 0 keeps all.
    """
    pairs = read_pairs_file(path, reverse=reverse)
    if max_pairs and len(pairs) > max_pairs:
        pairs = random.Random(seed).sample(pairs, max_pairs)
    splits = split_pairs(
        pairs, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
    )
    direction = "columns 2->1" if reverse else "columns 1->2"
    langs = ("other", "en") if reverse else ("en", "other")  # Anki: English first
    return TranslationData(
        *splits,
        source=f"pairs file {path} ({direction})",
        source_lang=langs[0],
        target_lang=langs[1],
    )


def load_tfds_translation(
    name: str, *, data_dir=None, reverse=False, max_pairs=0, val_fraction=0.05
) -> TranslationData:
    """A TFDS translation dataset from the TFDS data dir (never downloads).

    Args:
        name: e.g. ``ted_hrlr_translate/pt_to_en``; its supervised keys give
            the (source, target) order, swapped by ``reverse``.
        max_pairs: at most this many training pairs (0: all).
        val_fraction: share of train held out when there is no validation split.
    """

    with tfds_required(name, data_dir) as tfds:
        builder = tfds.builder(name, data_dir=data_dir)
        info = builder.info
        splits = ["train", "validation", "test"]
        if "validation" not in info.splits:
            pct = round(100 * (1 - val_fraction))
            splits = [f"train[:{pct}%]", f"train[{pct}%:]", "test"]
        datasets = tfds.load(
            name, split=splits, data_dir=data_dir, download=False, as_supervised=True
        )
    lists = []
    for i, ds in enumerate(datasets):
        if i == 0 and max_pairs:
            ds = ds.take(max_pairs)
        lists.append(
            [
                (s.decode("utf-8", "replace"), t.decode("utf-8", "replace"))
                for s, t in tfds.as_numpy(ds)
            ]
        )
    langs = tuple(info.supervised_keys or ("source", "target"))
    if reverse:
        lists = [[(t, s) for s, t in pairs] for pairs in lists]
        langs = langs[::-1]
    return TranslationData(
        *lists,
        source=f"TFDS {name} ({tfds_data_dir(data_dir)})",
        source_lang=str(langs[0]),
        target_lang=str(langs[1]),
        splits="the dataset's own splits",
    )
