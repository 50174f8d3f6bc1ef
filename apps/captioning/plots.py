"""Captioning plots: sample captions, per-word attention over the image."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from dltoolkit.plotting import new_figure, save_figure


def plot_captions(images, captions: list[str], path: Path, *, columns=4) -> Path:
    """Images (floats in [0, 1]) with their generated captions as titles."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, axes = new_figure(rows, columns, width=3.0, height=3.4)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, text in zip(axes.flat, images, captions):
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(textwrap.fill(text or "(empty)", 30), fontsize=8)
    return Path(save_figure(fig, path))


def plot_attention(image, words: list[str], weights, grid, path: Path) -> Path:
    """One panel per word: the image with that step's attention overlaid.

    Args:
        image: ``[S, S, 3]`` floats in [0, 1].
        words: the generated words, then ``[end]``.
        weights: ``[len(words), h*w]`` attention before each word.
        grid: ``(h, w)`` of the feature map.
    """
    columns = min(6, len(words))
    rows = max(1, -(-len(words) // columns))
    fig, axes = new_figure(rows, columns, width=2.0, height=2.2)
    for ax in axes.flat:
        ax.axis("off")
    size = image.shape[0]
    for ax, word, alpha in zip(axes.flat, words, weights):
        heat = np.asarray(alpha).reshape(grid)
        heat = heat / max(float(heat.max()), 1e-9)
        ax.imshow(np.clip(image, 0, 1))
        ax.imshow(
            heat,
            cmap="inferno",
            alpha=0.6,
            extent=(0, size, size, 0),
            interpolation="bilinear",
        )
        ax.set_title(word, fontsize=9)
    return Path(save_figure(fig, path))
