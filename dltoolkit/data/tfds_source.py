"""Reading a dataset from the TFDS data dir, never downloading it."""

from __future__ import annotations

import contextlib
import os

from dltoolkit.errors import DataError


def tfds_data_dir(data_dir: str | None) -> str:
    """The TFDS data dir TFDS reads: ``data_dir``, ``$TFDS_DATA_DIR`` or its
    default (for messages and data descriptions)."""
    return data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")


@contextlib.contextmanager
def tfds_required(name: str, data_dir: str | None):
    """Turns "not in the TFDS data dir" inside the block into one DataError
    that says how to supply the dataset (nothing is downloaded at run time).

    Yields the ``tensorflow_datasets`` module, imported here because it is
    slow to import and only TFDS sources need it.
    """
    import tensorflow_datasets as tfds

    try:
        yield tfds
    except (AssertionError, tfds.core.registered.DatasetNotFoundError):
        raise DataError(
            f"TFDS dataset {name!r} is not in the TFDS data dir "
            f"{tfds_data_dir(data_dir)}; nothing "
            "is downloaded at run time: prepare it elsewhere (`tfds build "
            f"{name}`) and copy it there, or pass data_dir."
        ) from None
