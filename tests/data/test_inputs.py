"""The inputs of ``predict``: image files, the file-or-text rule, image batches."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.data.images import decode_image_batch, decode_image_batch_masked
from dltoolkit.data.inputs import is_text_file, read_image_files, read_text_inputs
from dltoolkit.errors import DataError


def _png(array) -> bytes:
    return tf.io.encode_png(np.asarray(array, dtype="uint8")).numpy()


@pytest.fixture
def images(tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(_png(np.full((5, 7, 3), 200)))
    text = tmp_path / "notes.png"
    text.write_text("these are notes, not pixels")
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:40])  # a PNG signature, corrupt inside
    return good, text, cut


def test_read_image_files_returns_the_bytes(images):
    good, _, _ = images
    assert read_image_files([str(good), good]) == [good.read_bytes()] * 2


def test_read_image_files_bad_path(images, tmp_path):
    good, _, _ = images
    missing = tmp_path / "missing.png"
    with pytest.raises(DataError, match=f"^Image not found: {missing}$"):
        read_image_files([str(good), str(missing)])
    with pytest.raises(DataError, match=f"^Image not found: {tmp_path}$"):
        read_image_files([str(tmp_path)])  # a folder is no image file


def test_read_image_files_undecodable_bytes(images):
    good, text, cut = images
    with pytest.raises(DataError) as err:
        read_image_files([str(good), str(text), str(cut)])
    # Bytes of no image format are named first; corrupt images after.
    assert str(err.value) == f"Not an image (PNG, JPEG, GIF or BMP expected): {text}"
    with pytest.raises(DataError) as err:
        read_image_files([str(cut), str(good), str(cut)])
    assert str(err.value) == f"Unreadable image: {cut}, {cut}"


def test_file_or_text_rule(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("first\n\nthird\n", encoding="utf-8")
    assert is_text_file(str(path))
    # Anything but an existing regular file is a text, odd strings included.
    for text in ["Not bad at all.", "", str(tmp_path), str(tmp_path / "no.txt")]:
        assert not is_text_file(text)
    assert not is_text_file("a" * 300)  # too long for a file name
    assert not is_text_file("a\x00b")
    assert read_text_inputs(["Hello.", str(path), "a" * 300]) == [
        ("Hello.", None),
        ("first", f"{path}:1"),
        ("", f"{path}:2"),
        ("third", f"{path}:3"),
        ("a" * 300, None),
    ]


def test_text_file_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="holds no text"):
        read_text_inputs([str(empty)])
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nna\xefve \xff\n")
    with pytest.raises(DataError, match=r", line 2: byte 0xef at column 3"):
        read_text_inputs([str(bad)])


def test_decode_image_batch(images):
    good, _, _ = images
    gray = _png(np.full((3, 3, 1), 255))
    x = decode_image_batch(tf.constant([good.read_bytes(), gray]), 4, 3)
    assert x.shape == (2, 4, 4, 3) and x.dtype == tf.float32
    np.testing.assert_allclose(x[0].numpy(), 200 / 255, atol=1e-5)
    np.testing.assert_allclose(x[1].numpy(), 1.0, atol=1e-5)
    assert decode_image_batch(tf.constant([good.read_bytes()]), 4, 1).shape[-1] == 1
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_image_batch(tf.constant([b"not an image"]), 4, 3)


def test_decode_image_batch_masked(images):
    good, text, cut = images
    x, ok = decode_image_batch_masked(
        tf.constant([good.read_bytes(), text.read_bytes(), b""]), 4, 3
    )
    assert ok.numpy().tolist() == [True, False, False]
    np.testing.assert_allclose(x[0].numpy(), 200 / 255, atol=1e-5)
    assert not np.any(x[1:].numpy())
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_image_batch_masked(tf.constant([cut.read_bytes()]), 4, 3)
