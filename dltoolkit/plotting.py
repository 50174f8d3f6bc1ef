"""Plotting helpers shared by the package: headless figures written atomically."""

from __future__ import annotations

import os
import uuid

from matplotlib.figure import Figure


def new_figure(nrows=1, ncols=1, *, width=6.0, height=4.0):
    """Returns ``(figure, axes)`` without pyplot, so no display is needed."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path):
    """Writes ``fig`` as a PNG to ``path`` through a temporary file."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
