"""The inputs of ``predict``, read the same way by every app.

Image apps (classify, autoencode, captioning) take image files:
:func:`read_image_files`. Text apps (translation, sentiment) take arguments
that are either a text or a file of texts: :func:`read_text_inputs`, with the
one rule of :func:`is_text_file`. Bad input is a :class:`DataError` with the
same message in every app.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import tensorflow as tf

from dltoolkit.data.images import IMAGE_SIGNATURES, decode_image
from dltoolkit.errors import DataError

IMAGE_FORMATS = "PNG, JPEG, GIF or BMP"


def read_image_files(paths: Iterable[str]) -> list[bytes]:
    """The bytes of each image file, checked to decode.

    Raises:
        DataError: ``Image not found: PATH`` (the first path that is no
            regular file); ``Not an image (PNG, JPEG, GIF or BMP expected):
            PATHS`` (files that do not start like an image); ``Unreadable
            image: PATHS`` (files that start like an image but do not decode).
            PATHS lists every such file, comma-separated, in input order.
    """
    paths = [str(p) for p in paths]
    blobs = []
    for name in paths:
        if not os.path.isfile(name):
            raise DataError(f"Image not found: {name}")
        blobs.append(Path(name).read_bytes())
    signatures = tuple(IMAGE_SIGNATURES)
    unknown = [n for n, b in zip(paths, blobs) if not b.startswith(signatures)]
    if unknown:
        raise DataError(
            f"Not an image ({IMAGE_FORMATS} expected): {', '.join(unknown)}"
        )
    corrupt = [n for n, b in zip(paths, blobs) if not _decodes(b)]
    if corrupt:
        raise DataError(f"Unreadable image: {', '.join(corrupt)}")
    return blobs


def _decodes(blob: bytes) -> bool:
    try:
        decode_image(blob)
        return True
    except tf.errors.InvalidArgumentError:
        return False


def is_text_file(item: str) -> bool:
    """The file-or-text rule of every text app's ``predict``.

    An argument that names an existing regular file (links followed) stands
    for that file's lines; anything else is a text itself: a missing path, a
    folder, and a string that cannot be a path (too long, a NUL byte).
    """
    return os.path.isfile(item)


def read_text_inputs(items: Iterable[str]) -> list[tuple[str, str | None]]:
    """The texts of ``predict`` arguments, by the rule of :func:`is_text_file`.

    A file is read as UTF-8 (:func:`read_utf8`), one text a line (blank lines
    included, as empty texts).

    Returns:
        ``(text, origin)`` pairs in order: ``origin`` is ``"PATH:LINE"`` for a
        line of a file, None for an argument that is a text itself.

    Raises:
        DataError: a file holds no line, or a byte that is not UTF-8 (the
            message names file, line and column).
    """
    out = []
    for item in items:
        if not is_text_file(item):
            out.append((item, None))
            continue
        lines = read_utf8(item).splitlines()
        if not lines:
            raise DataError(f"{item} holds no text (one input per line).")
        out += [(line, f"{item}:{n}") for n, line in enumerate(lines, 1)]
    return out


def read_utf8(path: os.PathLike) -> str:
    """The text of ``path``; a non-UTF-8 byte is a DataError naming file and line."""
    path = Path(path)
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
