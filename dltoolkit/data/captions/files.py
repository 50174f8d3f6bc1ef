"""Real captioning data: the Flickr8k layout and TFDS ``coco_captions``.

Flickr8k (as distributed on Kaggle)::

    ROOT/Images/1000268201_693b08cb0e.jpg ...
    ROOT/captions.txt      image,caption   (a header, then one row per caption)

TFDS: a captioning dataset already in the TFDS data dir (nothing is
downloaded), with an ``image`` feature and ``captions/text`` (COCO) or a
``caption`` string.
"""

from __future__ import annotations

import collections
import csv
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from dltoolkit.data.captions.core import CaptionData, CaptionSplit, normalize_caption
from dltoolkit.data.images import prepare_image
from dltoolkit.data.tfds_source import tfds_data_dir, tfds_required
from dltoolkit.errors import DataError

CAPTIONS_FILE = "captions.txt"
IMAGES_DIR = "Images"


def read_captions_file(path: os.PathLike) -> dict[str, list[str]]:
    """``image name -> normalized captions`` from a Flickr8k ``captions.txt``.

    The first row must be the header ``image,caption``; a caption holding
    commas may be quoted or not (the rest of the row is the caption).
    """
    path = Path(path)
    captions: dict[str, list[str]] = collections.defaultdict(list)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            if header is None or [h.strip().lower() for h in header] != [
                "image",
                "caption",
            ]:
                raise DataError(
                    f"{path}: the first row must be the header 'image,caption'. "
                    f"Received: {','.join(header or [])!r}"
                )
            for line, row in enumerate(rows, start=2):
                if not row:
                    continue
                if len(row) < 2 or not row[0].strip():
                    raise DataError(
                        f"{path}, line {line}: expected 'image,caption'. "
                        f"Received: {','.join(row)!r}"
                    )
                text = normalize_caption(",".join(row[1:]))
                if text:
                    captions[row[0].strip()].append(text)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: byte {err.start} is not valid UTF-8.") from None
    if not captions:
        raise DataError(f"{path} holds no captions.")
    return dict(captions)


def _check_image(path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
        raise DataError(f"Unreadable image: {path}") from None


def load_flickr8k(
    root: os.PathLike,
    *,
    seed: int = 0,
    max_images: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> CaptionData:
    """A Flickr8k-layout folder, split by image (seeded shuffle).

    Every listed image must exist and be readable (checked up front, so a bad
    file fails with its path before training).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            f"Caption data not found: {root} (expected 'embedded', 'tfds:NAME' or "
            f"a folder with {IMAGES_DIR}/ and {CAPTIONS_FILE})."
        )
    captions_path, images_dir = root / CAPTIONS_FILE, root / IMAGES_DIR
    for needed in (captions_path, images_dir):
        if not needed.exists():
            raise DataError(
                f"{root} is not a Flickr8k folder: {needed.name} is missing "
                f"(expected {IMAGES_DIR}/ and {CAPTIONS_FILE})."
            )
    captions = read_captions_file(captions_path)
    names = sorted(captions)
    rng = np.random.default_rng(seed)
    rng.shuffle(names)
    if max_images:
        names = names[:max_images]
    n_test = max(1, round(len(names) * test_fraction))
    n_val = max(1, round(len(names) * val_fraction))
    if len(names) < n_test + n_val + 1:
        raise DataError(
            f"{captions_path} lists {len(names)} images: too few to split into "
            "train, validation and test (at least 3)."
        )
    for name in names:
        path = images_dir / name
        if not path.is_file():
            raise DataError(f"{captions_path} names {name}, not found in {images_dir}.")
        _check_image(path)
    parts = (names[n_test + n_val :], names[n_test : n_test + n_val], names[:n_test])
    splits = [
        CaptionSplit([str(images_dir / n) for n in part], [captions[n] for n in part])
        for part in parts
    ]
    return CaptionData(*splits, source=f"Flickr8k layout {root}")


def load_tfds_captions(
    name: str,
    *,
    data_dir: str | None = None,
    max_images: int = 0,
    image_size: int = 64,
) -> CaptionData:
    """A TFDS captioning dataset from the TFDS data dir (never downloads).

    Images are resized to ``image_size`` as they are read (kept as uint8 in
    memory). Splits: the dataset's ``train``, ``val`` (or ``validation``) and
    ``test``; ``max_images`` caps each (0: all).
    """

    with tfds_required(name, data_dir) as tfds:
        info = tfds.builder(name, data_dir=data_dir).info
        val = "val" if "val" in info.splits else "validation"
        datasets = tfds.load(
            name, split=["train", val, "test"], data_dir=data_dir, download=False
        )

    def texts(example) -> list[str]:
        if "captions" in example:
            raw = example["captions"]["text"]
        elif "caption" in example:
            raw = [example["caption"]]
        else:
            raise DataError(f"TFDS dataset {name!r} has no captions feature.")
        found = [normalize_caption(t.decode("utf-8", "replace")) for t in raw]
        return [t for t in found if t]

    splits = []
    for ds in datasets:
        if max_images:
            ds = ds.take(max_images)
        images, references = [], []
        for example in tfds.as_numpy(ds):
            refs = texts(example)
            if not refs:
                continue
            small = prepare_image(example["image"], image_size, 3)
            images.append(tf.cast(tf.round(small * 255.0), tf.uint8).numpy())
            references.append(refs)
        if not images:
            raise DataError(f"TFDS dataset {name!r} has an empty split.")
        splits.append(CaptionSplit(np.stack(images), references))
    return CaptionData(*splits, source=f"TFDS {name} ({tfds_data_dir(data_dir)})")
