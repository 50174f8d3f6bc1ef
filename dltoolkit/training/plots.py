"""Plots and images written beside a run's report (PNG, no display needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from dltoolkit.plotting import save_figure


def _save(fig: Figure, path: os.PathLike) -> Path:
    fig.set_layout_engine("tight")
    return Path(save_figure(fig, path))


def plot_confusion_matrix(
    matrix, class_names: list[str], path: os.PathLike, *, title="Confusion matrix"
) -> Path:
    """Draws a confusion matrix (rows: true class, columns: predicted)."""
    matrix = np.asarray(matrix)
    n = len(class_names)
    size = max(4.0, 0.45 * n + 2)
    fig = Figure(figsize=(size, size))
    ax = fig.add_subplot()
    im = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels=class_names, rotation=90 if n > 10 else 0)
    ax.set_yticks(range(n), labels=class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 20:
        threshold = matrix.max() / 2 if matrix.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    int(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black",
                )
    return _save(fig, path)


def plot_image_grid(
    images, titles: list[str], path: os.PathLike, *, columns: int = 8
) -> Path:
    """Draws images (``[n, h, w, c]`` floats in [0, 1]) with a title each."""
    images = np.asarray(images)
    n = len(images)
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(1.6 * columns, 1.8 * rows))
    for i in range(n):
        ax = fig.add_subplot(rows, columns, i + 1)
        image = images[i]
        if image.shape[-1] == 1:
            ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(np.clip(image, 0, 1))
        ax.set_title(titles[i], fontsize=8)
        ax.axis("off")
    return _save(fig, path)


def image_grid(images, columns: int = 8, pad: int = 1) -> np.ndarray:
    """Tiles ``[n, h, w, c]`` images in [0, 1] into one uint8 ``[H, W, c]`` image."""
    images = np.asarray(images, dtype="float32")
    n, h, w, c = images.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), "float32")
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = images[i]
    return np.round(np.clip(grid, 0, 1) * 255).astype("uint8")


def save_png(image, path) -> Path:
    """Writes a uint8 ``[h, w, c]`` image as PNG (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(tf.io.encode_png(np.asarray(image, dtype="uint8")).numpy())
    os.replace(tmp, path)
    return path
