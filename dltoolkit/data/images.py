"""Image-classification data: embedded digits, TFDS datasets, image folders.

Every loader returns :class:`ImageSplits` of unbatched ``(uint8 image, label)``
datasets; :func:`prepare_image` turns any such image (or a decoded upload) into
the model's float input, so training and the exported model see the same thing.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from dltoolkit.data.tfds_source import tfds_data_dir, tfds_required
from dltoolkit.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# Leading bytes of the encodings :func:`decode_image` reads.
IMAGE_SIGNATURES = {
    b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP",
}  # fmt: skip
TFDS_IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")


@dataclasses.dataclass
class ImageSplits:
    """Train/validation/test splits of an image-classification dataset.

    Attributes:
        train, val, test: unbatched datasets of ``(uint8 [h, w, c], int64)``.
        class_names: label index -> name.
        sizes: split name -> number of examples.
        source: a one-line description of where the data came from.
        channels: the data's own channel count (1: grayscale, 3: color).
    """

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list[str]
    sizes: dict[str, int]
    source: str
    channels: int = 3


def prepare_image(image, image_size: int, channels: int):
    """Turns a uint8 image of any size and 1, 3 or 4 channels into model input.

    Args:
        image: ``uint8 [h, w, c]`` tensor.
        image_size: side of the square output.
        channels: 1 (grayscale) or 3 (RGB).

    Returns:
        ``float32 [image_size, image_size, channels]`` in [0, 1].
    """
    image = tf.image.convert_image_dtype(tf.convert_to_tensor(image), tf.float32)
    gray = tf.shape(image)[-1] < 3  # gray, or gray + alpha
    # Both branches are traced, so each must accept any channel count.
    rgb = tf.cond(
        gray, lambda: tf.tile(image[..., :1], [1, 1, 3]), lambda: image[..., :3]
    )
    image = tf.ensure_shape(rgb, [None, None, 3])
    if channels == 1:
        image = tf.cond(
            gray, lambda: image[..., :1], lambda: tf.image.rgb_to_grayscale(image)
        )
        image = tf.ensure_shape(image, [None, None, 1])
    return tf.image.resize(image, (image_size, image_size), antialias=True)


def decode_image(encoded):
    """Decodes PNG, JPEG, GIF or BMP bytes to ``uint8 [h, w, c]``."""
    return tf.io.decode_image(encoded, expand_animations=False)


def has_image_signature(encoded):
    """Whether the bytes start like PNG, JPEG, GIF or BMP (a scalar bool tensor).

    Such bytes may still be corrupt further in; the others never decode.
    """
    checks = [
        tf.equal(tf.strings.substr(encoded, 0, len(magic)), magic)
        for magic in IMAGE_SIGNATURES
    ]
    return tf.reduce_any(tf.stack(checks))


def decode_image_batch(images, image_size: int, channels: int):
    """Encoded images ``(batch,)`` -> model input, as every image export reads it.

    Each image is decoded (:func:`decode_image`) and prepared
    (:func:`prepare_image`): grayscale, gray+alpha, RGBA and palette images
    get ``channels`` channels, any size is resized to ``image_size``.

    Returns:
        ``float32 [batch, image_size, image_size, channels]`` in [0, 1].

    Raises:
        tf.errors.InvalidArgumentError: (when run) bytes that do not decode.
    """
    return tf.map_fn(
        lambda encoded: prepare_image(decode_image(encoded), image_size, channels),
        tf.reshape(images, [-1]),
        fn_output_signature=tf.TensorSpec(
            [image_size, image_size, channels], tf.float32
        ),
    )


def decode_image_batch_masked(images, image_size: int, channels: int):
    """:func:`decode_image_batch` that passes over bytes of no image format.

    Returns:
        ``(pixels, is_image)``: the float32 batch, zeros where the bytes do not
        start like PNG, JPEG, GIF or BMP, and the ``(batch,)`` bool mask of
        :func:`has_image_signature`. Bytes that start like an image but are
        corrupt inside still raise ``tf.errors.InvalidArgumentError``.
    """

    def prepare(encoded):
        ok = has_image_signature(encoded)
        image = tf.cond(
            ok,
            lambda: prepare_image(decode_image(encoded), image_size, channels),
            lambda: tf.zeros([image_size, image_size, channels]),
        )
        return image, ok

    return tf.map_fn(
        prepare,
        tf.reshape(images, [-1]),
        fn_output_signature=(
            tf.TensorSpec([image_size, image_size, channels], tf.float32),
            tf.TensorSpec([], tf.bool),
        ),
    )


def make_pipeline(
    dataset: tf.data.Dataset,
    *,
    image_size: int,
    channels: int,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    cache: bool = True,
    augment: float = 0.0,
) -> tf.data.Dataset:
    """Prepares, caches, shuffles, batches and prefetches an image split.

    Args:
        augment: strength of random shifts (this fraction of the side) and
            rotations (this fraction of a half turn) applied to each batch;
            0 turns augmentation off.
    """
    ds = dataset.map(
        lambda x, y: (prepare_image(x, image_size, channels), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(4096, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment > 0:
        shift = augment_layer(augment, seed)
        ds = ds.map(
            lambda x, y: (shift(x, training=True), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def augment_layer(strength: float, seed: int = 0, *, flip: bool = False):
    """Random translation and rotation (after a random left-right flip with
    ``flip``, for photographs), as one Keras preprocessing model."""
    import keras

    if not 0 < strength < 1:
        raise ValueError(f"augment must be in [0, 1). Received: augment={strength}")
    mirror = [keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
    return keras.Sequential(
        [
            *mirror,
            keras.layers.RandomTranslation(
                strength, strength, fill_mode="constant", seed=seed
            ),
            keras.layers.RandomRotation(strength / 2, fill_mode="constant", seed=seed),
        ],
        name="augment",
    )


def _split_indices(labels, val_fraction, test_fraction, seed):
    """Stratified train/val/test index arrays."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    n, k = len(labels), int(labels.max()) + 1
    # Stratify only when every split can hold every class.
    fits = min(int(n * test_fraction), int(n * (1 - test_fraction) * val_fraction))
    stratify = labels if np.min(np.bincount(labels)) >= 3 and fits >= k else None
    rest, test = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=stratify
    )
    rest_stratify = labels[rest] if stratify is not None else None
    train, val = train_test_split(
        rest, test_size=val_fraction, random_state=seed, stratify=rest_stratify
    )
    return np.sort(train), np.sort(val), np.sort(test)


def _from_arrays(images, labels, splits, class_names, source, channels):
    datasets = [
        tf.data.Dataset.from_tensor_slices((images[idx], labels[idx].astype("int64")))
        for idx in splits
    ]
    sizes = {name: len(idx) for name, idx in zip(("train", "val", "test"), splits)}
    return ImageSplits(
        *datasets,
        class_names=class_names,
        sizes=sizes,
        source=source,
        channels=channels,
    )


def load_digits(
    *, seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2
) -> ImageSplits:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes).

    Pixel values 0..16 are scaled to 0..255; :func:`prepare_image` resizes.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype("uint8")[..., None]
    labels = digits.target.astype("int64")
    splits = _split_indices(labels, val_fraction, test_fraction, seed)
    return _from_arrays(
        images,
        labels,
        splits,
        [str(d) for d in range(10)],
        "scikit-learn digits (8x8 grayscale, bundled)",
        channels=1,
    )


def _count(ds: tf.data.Dataset) -> int:
    """Number of elements, from the cardinality when known."""
    n = int(ds.cardinality())
    return n if n >= 0 else sum(1 for _ in ds)


def load_tfds(
    name: str, *, data_dir: str | None = None, val_fraction: float = 0.1
) -> ImageSplits:
    """An image dataset from the TFDS data dir (never downloads).

    Args:
        name: a TFDS name with ``image`` and ``label`` features, e.g. ``mnist``.
        data_dir: the TFDS data dir (default: ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``).
        val_fraction: share of ``train`` held out for validation when the
            dataset has no validation split.
    """

    with tfds_required(name, data_dir) as tfds:
        builder = tfds.builder(name, data_dir=data_dir)
        info = builder.info
        if "validation" in info.splits:
            split_names = ["train", "validation", "test"]
        else:
            pct = round(100 * (1 - val_fraction))
            split_names = [f"train[:{pct}%]", f"train[{pct}%:]", "test"]
        splits = tfds.load(
            name,
            split=split_names,
            data_dir=data_dir,
            download=False,
            as_supervised=True,
        )
        sizes = {key: _count(ds) for key, ds in zip(("train", "val", "test"), splits)}
    class_names = list(info.features["label"].names)
    shape = info.features["image"].shape
    return ImageSplits(
        *splits,
        class_names=class_names,
        sizes=sizes,
        source=f"TFDS {name} ({tfds_data_dir(data_dir)})",
        channels=1 if shape and shape[-1] == 1 else 3,
    )


def load_image_folder(
    path: os.PathLike,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> ImageSplits:
    """A folder with one sub-folder of images per class.

    Every file is checked up front, so an unreadable image fails with its path
    before training starts.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"Image folder not found: {root}")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir())
    files, labels, empty = [], [], []
    for label, class_dir in enumerate(class_dirs):
        found = [
            str(file)
            for file in sorted(class_dir.iterdir())
            if file.suffix.lower() in IMAGE_EXTENSIONS
        ]
        if not found:
            empty.append(class_dir)
        files += found
        labels += [label] * len(found)
    if files and empty:
        raise DataError(f"Class folder {empty[0]} holds no images.")
    if len(class_dirs) < 2 or not files:
        raise DataError(
            f"Image folder {root} needs one sub-folder of images per class "
            f"(at least 2 classes with {', '.join(IMAGE_EXTENSIONS)} files); "
            f"found {len(class_dirs)} sub-folders and {len(files)} images."
        )
    if len(files) < 2 * len(class_dirs) + 3:
        raise DataError(
            f"Image folder {root} has {len(files)} images in {len(class_dirs)} "
            f"classes: too few to split into train, validation and test (at least "
            f"{2 * len(class_dirs) + 3})."
        )
    for file in files:
        try:
            with Image.open(file) as img:
                img.load()  # decodes fully: catches truncated files too
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
            raise DataError(f"Unreadable image: {file}") from None
    labels = np.asarray(labels, dtype="int64")
    splits = _split_indices(labels, val_fraction, test_fraction, seed)
    files = np.asarray(files)
    datasets = []
    for idx in splits:
        ds = tf.data.Dataset.from_tensor_slices((files[idx], labels[idx]))
        datasets.append(ds.map(lambda f, y: (decode_image(tf.io.read_file(f)), y)))
    sizes = {name: len(idx) for name, idx in zip(("train", "val", "test"), splits)}
    return ImageSplits(
        *datasets,
        class_names=[d.name for d in class_dirs],
        sizes=sizes,
        source=f"image folder {root}",
        channels=3,
    )


def load_images(
    source: str, *, data_dir: str | None = None, seed: int = 0
) -> ImageSplits:
    """Dispatches ``digits``, a TFDS name (``mnist``, ``tfds:NAME``) or a folder."""
    if source == "digits":
        return load_digits(seed=seed)
    if source.startswith("tfds:"):
        return load_tfds(source[len("tfds:") :], data_dir=data_dir)
    if source in TFDS_IMAGE_DATASETS:
        return load_tfds(source, data_dir=data_dir)
    if os.sep in source or Path(source).exists():
        return load_image_folder(source, seed=seed)
    raise DataError(
        f"Unknown data source {source!r}. Valid: digits, "
        f"{', '.join(TFDS_IMAGE_DATASETS)}, tfds:NAME, or an image folder path."
    )
