"""Shared plotting helpers: headless figures written atomically."""

from __future__ import annotations

import os
import tempfile

from matplotlib.figure import Figure


def new_figure(nrows=1, ncols=1, *, width=6.0, height=4.0):
    """Returns ``(figure, axes)`` without pyplot, so no display is needed."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path):
    """Writes ``fig`` as a PNG to ``path`` through a temporary file."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format="png", dpi=100)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
