"""Images held in memory: .npy/.npz files and materialized splits, checked.

Autoencoders train on whole images with no labels needed, so their data is a
set of float arrays in [0, 1]; this module makes them from any image source
of :mod:`dltoolkit.data.images` or from an array file, and refuses NaN or
infinite values with the index of the first one.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from dltoolkit.data.images import _split_indices, load_images, prepare_image
from dltoolkit.errors import DataError

ARRAY_EXTENSIONS = (".npy", ".npz")


@dataclasses.dataclass
class ImageArrays:
    """Train/validation/test images as float32 ``[n, size, size, channels]``.

    Attributes:
        x_train, x_val, x_test: images in [0, 1].
        y_train, y_val, y_test: int64 labels (all 0 when the source has none).
        class_names: label index -> name.
        source: one line on where the images came from.
        labelled: whether the labels are the source's own.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    labelled: bool = True

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.x_train),
            "val": len(self.x_val),
            "test": len(self.x_test),
        }

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[-1])


def check_finite(x: np.ndarray, what: str) -> None:
    """Raises DataError if ``x`` holds NaN or infinite values."""
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{what} holds {int(bad.sum())} NaN or infinite values (first at "
            f"index {first}); replace or drop them."
        )


def _as_images(x: np.ndarray, what: str) -> np.ndarray:
    """``[n, h, w]`` or ``[n, h, w, c]`` numbers -> float32 in [0, 1]."""
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{what} must hold numbers. Received dtype {x.dtype}.")
    if np.issubdtype(x.dtype, np.floating):
        check_finite(x, what)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(
            f"{what} must have shape [n, height, width] or [n, height, width, 1 "
            f"or 3]. Received shape {x.shape}."
        )
    x = x.astype("float32")
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 255:
        raise DataError(
            f"{what} values must lie in [0, 1] (floats) or [0, 255] (pixels). "
            f"Received values in [{low:g}, {high:g}]."
        )
    return x / 255.0 if high > 1 else x


def load_array_file(path: os.PathLike, *, seed: int = 0):
    """Images (and labels) from ``.npy`` (images) or ``.npz`` (``x``, ``y``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Array file not found: {path}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise DataError(f"Unreadable array file {path}: {err}") from None
    if path.suffix == ".npz":
        if "x" not in loaded:
            raise DataError(f"{path} needs an array named 'x' (and optionally 'y').")
        x, y = loaded["x"], loaded["y"] if "y" in loaded else None
    else:
        x, y = loaded, None
    x = _as_images(np.asarray(x), f"Array file {path}")
    labelled = y is not None
    y = np.zeros(len(x), "int64") if y is None else np.asarray(y).astype("int64")
    if len(y) != len(x):
        raise DataError(f"{path}: {len(x)} images but {len(y)} labels.")
    if len(x) < 10:
        raise DataError(f"{path} holds {len(x)} images: at least 10 are needed.")
    if y.min() < 0:
        raise DataError(f"{path}: labels must be >= 0.")
    splits = _split_indices(y, 0.1, 0.2, seed)
    parts = [(x[i], y[i]) for i in splits]
    names = [str(i) for i in range(int(y.max()) + 1)]
    return parts, names, f"array file {path}", labelled


def _materialize(dataset, image_size: int, channels: int):
    batches = dataset.map(
        lambda x, y: (prepare_image(x, image_size, channels), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).batch(512)
    xs, ys = [], []
    for x, y in batches.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        return np.zeros((0, image_size, image_size, channels), "float32"), np.zeros(
            0, "int64"
        )
    return np.concatenate(xs).astype("float32"), np.concatenate(ys).astype("int64")


def load_image_arrays(
    source: str,
    *,
    image_size: int,
    channels: int | None = None,
    data_dir: str | None = None,
    seed: int = 0,
) -> ImageArrays:
    """Any image source as in-memory float arrays of one size.

    Args:
        source: ``digits``, a TFDS name, an image folder (one sub-folder per
            class; images of any size and channel count are resized to
            ``image_size`` and converted to ``channels``), or a ``.npy`` /
            ``.npz`` array file.
        image_size: side of the square images.
        channels: 1 or 3; None keeps the source's own.
        data_dir: the TFDS data dir.
        seed: seed of the splits.

    Raises:
        DataError: missing or malformed data, NaN or infinite values.
    """
    if channels not in (None, 1, 3):
        raise DataError(f"channels must be 1 or 3. Received: channels={channels}")
    if Path(source).suffix in ARRAY_EXTENSIONS:
        parts, names, where, labelled = load_array_file(source, seed=seed)
        own = parts[0][0].shape[-1]
        out = []
        for x, y in parts:
            x = (
                np.stack(
                    [prepare_image(i, image_size, channels or own).numpy() for i in x]
                )
                if x.shape[1:3] != (image_size, image_size) or (channels or own) != own
                else x
            )
            out.append((x.astype("float32"), y))
        (xt, yt), (xv, yv), (xs, ys) = out
        return ImageArrays(xt, yt, xv, yv, xs, ys, names, where, labelled)
    splits = load_images(source, data_dir=data_dir, seed=seed)
    channels = channels or splits.channels
    arrays = [
        _materialize(ds, image_size, channels)
        for ds in (splits.train, splits.val, splits.test)
    ]
    for (x, _), name in zip(arrays, ("train", "val", "test")):
        check_finite(x, f"The {name} images of {source}")
    (xt, yt), (xv, yv), (xs, ys) = arrays
    return ImageArrays(xt, yt, xv, yv, xs, ys, splits.class_names, splits.source)
