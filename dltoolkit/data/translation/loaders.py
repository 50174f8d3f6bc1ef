"""Translation loaders: the embedded corpus, pair files and TFDS.

Every loader returns :class:`~dltoolkit.data.translation.core.TranslationData`.
Sources (dispatched by :func:`load_translation`):

- ``embedded``: English-Spanish pairs drawn from the grammar in
  :mod:`dltoolkit.data.translation.en_es` (deterministic by seed).
- a path: a tab-separated pairs file in the Tatoeba/Anki layout,
  ``english<TAB>spanish[<TAB>attribution]`` (the first column is the source
  unless ``reverse``).
- ``tfds:NAME``: a TFDS translation dataset (e.g. ``ted_hrlr_translate/pt_to_en``)
  from the TFDS data dir; nothing is downloaded.

The file and TFDS readers live in :mod:`dltoolkit.data.translation.files`.
"""

from __future__ import annotations

import os
from pathlib import Path

from dltoolkit.data.translation.core import TranslationData, split_pairs
from dltoolkit.data.translation.en_es.corpus import generate_pairs
from dltoolkit.data.translation.files import load_pairs_file, load_tfds_translation
from dltoolkit.errors import DataError


def load_embedded(
    num_pairs: int,
    *,
    seed: int = 0,
    reverse=False,
    val_fraction=0.05,
    test_fraction=0.05,
) -> TranslationData:
    """``num_pairs`` English-Spanish pairs from the embedded grammar."""
    if num_pairs < 20:
        raise DataError(f"num_pairs must be >= 20. Received: num_pairs={num_pairs}")
    pairs = generate_pairs(num_pairs, seed=seed)
    splits = split_pairs(
        pairs, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
    )  # the same sentences in either direction
    langs = ("en", "es")
    if reverse:
        splits = [[(t, s) for s, t in split] for split in splits]
        langs = langs[::-1]
    return TranslationData(
        *splits,
        source=f"embedded {langs[0]}->{langs[1]} grammar corpus (seed {seed})",
        source_lang=langs[0],
        target_lang=langs[1],
    )


def load_translation(
    source: str, *, num_pairs: int, data_dir=None, seed=0, reverse=False, **fractions
) -> TranslationData:
    """Dispatches ``embedded``, ``tfds:NAME`` or a pairs-file path."""
    if source == "embedded":
        return load_embedded(num_pairs, seed=seed, reverse=reverse, **fractions)
    if source.startswith("tfds:"):
        return load_tfds_translation(
            source[len("tfds:") :],
            data_dir=data_dir,
            reverse=reverse,
            max_pairs=num_pairs,
            val_fraction=fractions.get("val_fraction", 0.05),
        )
    if os.sep in source or Path(source).exists() or source.endswith((".txt", ".tsv")):
        return load_pairs_file(
            source, seed=seed, reverse=reverse, max_pairs=num_pairs, **fractions
        )
    raise DataError(
        f"Unknown data source {source!r}. Valid: embedded, tfds:NAME, or the path "
        "of a tab-separated pairs file."
    )
