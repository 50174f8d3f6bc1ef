"""The autoencode app's figures (PNG): image rows, VAE maps, score histograms."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dltoolkit.plotting import save_figure


def montage(images: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """Tiles ``[n, h, w, c]`` images in [0, 1] into one image, white gaps."""
    n, h, w, c = images.shape
    rows = -(-n // columns)
    out = np.ones((rows * (h + gap) - gap, columns * (w + gap) - gap, c), "float32")
    for i, image in enumerate(images):
        r, k = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, k * (w + gap) : k * (w + gap) + w] = (
            np.clip(image, 0, 1)
        )
    return out


def _show(ax, image):
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_image_rows(rows: dict[str, np.ndarray], path: os.PathLike) -> Path:
    """One labelled strip of images per entry (e.g. clean / corrupted / denoised)."""
    names = list(rows)
    columns = max(len(v) for v in rows.values())
    fig = Figure(figsize=(1.0 * columns + 1.5, 1.1 * len(names)))
    axes = fig.subplots(len(names), 1, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        _show(ax, montage(np.asarray(rows[name]), columns))
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    fig.subplots_adjust(left=1.4 / (1.0 * columns + 1.5), right=0.99, hspace=0.1)
    return Path(save_figure(fig, path))


def plot_grid(images: np.ndarray, path: os.PathLike, *, title: str) -> Path:
    """A square grid of images, as one tiled picture."""
    side = int(np.ceil(np.sqrt(len(images))))
    fig = Figure(figsize=(0.6 * side + 0.4, 0.6 * side + 0.7), layout="constrained")
    ax = fig.add_subplot()
    _show(ax, montage(np.asarray(images), side))
    ax.set_title(title)
    return Path(save_figure(fig, path))


def plot_latent_map(
    z: np.ndarray, labels: np.ndarray, class_names: list[str], path: os.PathLike
) -> Path:
    """Test images' latent means (first two dimensions), coloured by class."""
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.add_subplot()
    scatter = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=10, alpha=0.8)
    if len(class_names) > 1:
        handles, _ = scatter.legend_elements(num=None)
        present = sorted(set(labels.tolist()))
        ax.legend(
            handles,
            [class_names[i] for i in present],
            title="class",
            fontsize=8,
            loc="best",
        )
    ax.set_xlabel("z[0] (posterior mean)")
    ax.set_ylabel("z[1] (posterior mean)")
    ax.set_title("VAE latent map of the test images")
    return Path(save_figure(fig, path))


def plot_score_histograms(
    scores: dict[str, np.ndarray], path: os.PathLike, *, title: str
) -> Path:
    """Overlaid histograms of anomaly scores, one per group, log x-axis."""
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.add_subplot()
    values = np.concatenate([np.asarray(v) for v in scores.values()])
    low, high = max(values.min(), 1e-6), max(values.max(), 2e-6)
    bins = np.geomspace(low, high, 40)
    for name, v in scores.items():
        ax.hist(np.clip(v, low, high), bins=bins, alpha=0.55, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("reconstruction error (mean squared, per image)")
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.legend()
    return Path(save_figure(fig, path))
