"""HAN attention drawn over sample reviews (PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from dltoolkit.plotting import save_figure

MAX_WORDS_SHOWN = 18


def plot_han_attention(samples: list[dict], path: os.PathLike) -> Path:
    """Draws word and sentence attention of a HAN over a few reviews.

    Each review is a panel; each sentence a row: its sentence weight in a
    red box on the left, then its words on a blue background as dark as the
    word's weight relative to the sentence's largest.

    Args:
        samples: dicts with ``title`` (str), ``sentences`` (list of word
            lists, as the model saw them), ``word_weights`` (one list per
            sentence) and ``sentence_weights`` (one per sentence).
        path: the PNG to write.

    Returns:
        The path written.
    """
    blues, reds = colormaps["Blues"], colormaps["Reds"]
    rows = [max(1, len(s["sentences"])) for s in samples]
    width_chars = 12 + max(
        (
            sum(len(w) + 1 for w in words[:MAX_WORDS_SHOWN]) + 2
            for s in samples
            for words in s["sentences"]
        ),
        default=40,
    )
    fontsize = 10.0
    # One x unit is one monospace character (0.6 em) of the axes' width.
    width = max(7.0, width_chars * 0.6 * fontsize / 72 / 0.9)
    fig = Figure(figsize=(width, 0.9 + 0.32 * (sum(rows) + 2 * len(samples))))
    grid = fig.add_gridspec(len(samples), 1, height_ratios=[r + 1.5 for r in rows])
    for panel, sample in enumerate(samples):
        ax = fig.add_subplot(grid[panel])
        ax.set_xlim(0, width_chars)
        ax.set_ylim(rows[panel] + 0.2, -0.8)
        ax.axis("off")
        ax.set_title(sample["title"], fontsize=fontsize + 1, loc="left")
        weights = np.asarray(sample["sentence_weights"], dtype=float)
        for row, words in enumerate(sample["sentences"]):
            alpha = float(weights[row]) if row < len(weights) else 0.0
            ax.text(
                0.5,
                row,
                f"{alpha:.2f}",
                family="monospace",
                fontsize=fontsize,
                va="center",
                bbox=dict(facecolor=reds(0.15 + 0.75 * alpha), edgecolor="none"),
            )
            word_w = np.asarray(sample["word_weights"][row], dtype=float)
            top = word_w.max() if word_w.size and word_w.max() > 0 else 1.0
            x = 8.0
            for i, word in enumerate(words[:MAX_WORDS_SHOWN]):
                level = float(word_w[i] / top) if i < word_w.size else 0.0
                ax.text(
                    x,
                    row,
                    word,
                    family="monospace",
                    fontsize=fontsize,
                    va="center",
                    color="white" if level > 0.6 else "black",
                    bbox=dict(
                        facecolor=blues(0.05 + 0.85 * level),
                        edgecolor="none",
                        pad=1.0,
                    ),
                )
                x += len(word) + 1
            if len(words) > MAX_WORDS_SHOWN:
                ax.text(x, row, "...", family="monospace", fontsize=fontsize)
    fig.suptitle(
        "HAN attention: sentence weight (red),\n"
        "word weight (blue, relative to the sentence's largest)",
        fontsize=fontsize + 1,
    )
    fig.set_layout_engine("tight")
    return Path(save_figure(fig, path))
