"""Image loaders: digits, folders (files the test writes), TFDS (mocked)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from dltoolkit.data.images import (
    load_digits,
    load_image_folder,
    load_images,
    load_tfds,
    make_pipeline,
    prepare_image,
)
from dltoolkit.errors import DataError


def test_digits_splits_are_disjoint_and_stratified():
    data = load_digits(seed=0)
    assert sum(data.sizes.values()) == 1797
    assert data.class_names == [str(d) for d in range(10)]
    seen = set()
    for split in (data.train, data.val, data.test):
        images = {x.numpy().tobytes() + bytes([int(y)]) for x, y in split}
        seen_before = len(seen)
        seen |= images
        assert len(seen) == seen_before + len(images)
    labels = [int(y) for _, y in data.test]
    assert min(np.bincount(labels)) >= 30


def test_prepare_image_channels_and_range():
    rgb = tf.constant(np.full((5, 7, 3), 255, dtype="uint8"))
    gray = prepare_image(rgb, 4, 1)
    assert gray.shape == (4, 4, 1)
    np.testing.assert_allclose(gray.numpy(), 1.0, atol=1e-3)  # luma weights
    rgba = tf.constant(np.zeros((3, 3, 4), dtype="uint8"))
    assert prepare_image(rgba, 6, 3).shape == (6, 6, 3)
    one = tf.constant(np.full((2, 2, 1), 51, dtype="uint8"))
    np.testing.assert_allclose(prepare_image(one, 2, 3).numpy(), 0.2, atol=1e-6)


def _write_folder(root, classes=("cat", "dog"), per_class=6, size=(9, 11)):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            array = rng.integers(0, 256, (*size, 3), dtype="uint8")
            suffix = ".png" if i % 2 else ".jpg"
            Image.fromarray(array).save(root / name / f"{i}{suffix}")
    return root


def test_image_folder(tmp_path):
    root = _write_folder(tmp_path / "images")
    data = load_image_folder(root, seed=0, val_fraction=0.2, test_fraction=0.25)
    assert data.class_names == ["cat", "dog"]
    assert sum(data.sizes.values()) == 12
    pipe = make_pipeline(
        data.train, image_size=8, channels=3, batch_size=4, shuffle=True
    )
    x, y = next(iter(pipe))
    assert x.shape[1:] == (8, 8, 3)
    assert set(y.numpy()) <= {0, 1}


def test_gray_alpha_image():
    la = tf.constant(np.full((4, 4, 2), 255, dtype="uint8"))
    assert prepare_image(la, 4, 1).shape == (4, 4, 1)
    assert prepare_image(la, 4, 3).shape == (4, 4, 3)


def test_truncated_jpeg_names_its_path(tmp_path):
    root = _write_folder(tmp_path / "images")
    good = (root / "cat" / "0.jpg").read_bytes()
    bad = root / "cat" / "cut.jpg"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=f"Unreadable image: {bad}"):
        load_image_folder(root)


def test_empty_class_and_tiny_folder(tmp_path):
    root = _write_folder(tmp_path / "images")
    (root / "emu").mkdir()
    with pytest.raises(DataError, match=f"Class folder {root / 'emu'} holds no"):
        load_image_folder(root)
    tiny = _write_folder(tmp_path / "tiny", per_class=3)
    with pytest.raises(DataError, match="6 images in 2 classes: too few to split"):
        load_image_folder(tiny)


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match=f"Image folder not found: {tmp_path / 'x'}"):
        load_image_folder(tmp_path / "x")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="found 1 sub-folders and 0 images"):
        load_image_folder(tmp_path / "empty")


def test_unreadable_image_names_its_path(tmp_path):
    root = _write_folder(tmp_path / "images")
    bad = root / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=f"Unreadable image: {bad}"):
        load_image_folder(root)


def test_tfds_missing_dataset_never_downloads(tmp_path):
    with pytest.raises(DataError, match="'mnist' is not in the TFDS data dir"):
        load_tfds("mnist", data_dir=str(tmp_path))


def test_tfds_path_loads_by_name(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        data = load_images("fashion_mnist", data_dir=str(tmp_path))
        x, y = next(iter(data.train))
        assert x.shape == (28, 28, 1) and x.dtype == tf.uint8
        assert len(data.class_names) == 10
        assert data.sizes["test"] == 12


def test_unknown_source():
    with pytest.raises(DataError, match="Valid: digits, mnist, fashion_mnist"):
        load_images("imagenet22k")
