"""Quiet start-up for command-line entry points."""

from __future__ import annotations

import os


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ start-up log lines silenced.

    TensorFlow's native libraries log to stderr before logging is configured
    (oneDNN notices, CUDA probing on machines without a GPU), and
    TF_CPP_MIN_LOG_LEVEL does not reach those lines. Entry points call this
    first so that stderr carries only what the command itself says. Python
    errors raised during the import are not hidden: they propagate after
    stderr is restored.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()  # device probing logs here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
