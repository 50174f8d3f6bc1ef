"""Scatter plots of embeddings, colored by class."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.lines import Line2D

from dltoolkit.plotting import new_figure, save_figure


def scatter_embedding(ax, Y, labels=None, *, title=None, size=6.0, legend=True):
    """Draws 2-D points on ``ax``; one color per class when ``labels`` is given."""
    Y = np.asarray(Y)
    if labels is None:
        ax.scatter(Y[:, 0], Y[:, 1], s=size, color="tab:blue", linewidths=0)
    else:
        labels = np.asarray(labels)
        classes = np.unique(labels)
        cmap = colormaps["tab10" if len(classes) <= 10 else "tab20"]
        index = np.searchsorted(classes, labels) % cmap.N
        ax.scatter(Y[:, 0], Y[:, 1], color=cmap(index), s=size, linewidths=0)
        if legend and len(classes) <= 20:
            handles = [
                Line2D([], [], ls="", marker="o", ms=4, color=cmap(i), label=str(c))
                for i, c in enumerate(classes)
            ]
            ax.legend(handles=handles, fontsize=7, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title, fontsize=9)


def save_scatter(path, Y, labels=None, *, title=None):
    """One scatter plot as a PNG at ``path`` (written atomically)."""
    fig, axes = new_figure(width=6.0, height=6.0)
    scatter_embedding(axes[0, 0], Y, labels, title=title, size=8.0)
    return save_figure(fig, path)


def save_sequence(path, frames, labels=None, titles=None):
    """A row of panels, one per embedding in ``frames``, as a PNG at ``path``.

    Only the last panel carries the class legend.
    """
    fig, axes = new_figure(1, len(frames), width=3.2, height=3.4)
    for k, Y in enumerate(frames):
        scatter_embedding(
            axes[0, k],
            Y,
            labels,
            title=titles[k] if titles else None,
            legend=k == len(frames) - 1,
        )
    return save_figure(fig, path)
