"""Representation tools: t-SNE and SNE (exact, NumPy), hidden-activation evolution.

``tsne`` / ``sne`` return a ``TSNEResult``; ``ActivationEvolution`` is a Keras
callback that embeds a layer's activations after each epoch and draws the
sequence (course file 003, "Visualizing hidden layer activations").
"""

from dltoolkit.embed.affinities import (
    check_data,
    conditional_probabilities,
    joint_probabilities,
    squared_distances,
)
from dltoolkit.embed.tsne import (
    TSNEResult,
    sne,
    sne_kl_and_gradient,
    tsne,
    tsne_kl_and_gradient,
)

__all__ = [
    "TSNEResult",
    "check_data",
    "conditional_probabilities",
    "joint_probabilities",
    "sne",
    "sne_kl_and_gradient",
    "squared_distances",
    "tsne",
    "tsne_kl_and_gradient",
]
