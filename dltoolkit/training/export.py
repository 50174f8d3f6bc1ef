"""SavedModel export with raw-input signatures, written atomically."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf

from dltoolkit.errors import ConfigError

EXPORT_DIR = "export"


def export_saved_model(
    path: os.PathLike,
    model: keras.Model,
    serve: Callable,
    input_signature: list[tf.TensorSpec],
    *,
    extra_endpoints: dict[str, tuple[Callable, list[tf.TensorSpec]]] | None = None,
) -> Path:
    """Writes a SavedModel whose ``serving_default`` is ``serve``.

    The archive is written to a temporary directory beside ``path`` and renamed
    into place, so a crash never leaves a half-written export; an existing
    export is replaced only once the new one is complete.

    Args:
        path: the export directory.
        model: the Keras model ``serve`` calls (its variables are tracked).
        serve: a function of raw inputs returning a dict of final outputs.
        input_signature: the ``tf.TensorSpec`` list of ``serve``.
        extra_endpoints: more named signatures, name -> (fn, input_signature).

    Returns:
        The export path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Leftovers of a killed export (other process ids) go first.
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in path.parent.glob(f".{path.name}.old-*"):
        if path.exists():
            shutil.rmtree(stale, ignore_errors=True)
        else:  # killed between the two renames: the old export is the last good one
            os.replace(stale, path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve, input_signature=input_signature)
    for name, (fn, signature) in (extra_endpoints or {}).items():
        archive.add_endpoint(name, fn, input_signature=signature)
    try:
        archive.write_out(str(tmp), verbose=False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def load_export(path: os.PathLike):
    """Loads an export and returns its ``serving_default`` signature.

    TensorFlow Text is imported first: its ops (the translation app's subword
    tokenizer) must be registered before a graph that uses them loads.
    """
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        raise ConfigError(f"No SavedModel at {path}: run `train` or `export` first.")
    import tensorflow_text  # noqa: F401  (registers the ops)

    return tf.saved_model.load(str(path)).signatures["serving_default"]
