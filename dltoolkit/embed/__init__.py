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
from dltoolkit.embed.plots import save_scatter, save_sequence, scatter_embedding
from dltoolkit.embed.tsne import (
    TSNEResult,
    sne,
    sne_kl_and_gradient,
    tsne,
    tsne_kl_and_gradient,
)

__all__ = [
    "ActivationEvolution",
    "TSNEResult",
    "check_data",
    "conditional_probabilities",
    "joint_probabilities",
    "save_scatter",
    "save_sequence",
    "scatter_embedding",
    "sne",
    "sne_kl_and_gradient",
    "squared_distances",
    "tsne",
    "tsne_kl_and_gradient",
]


def __getattr__(name):
    # The callback needs Keras (and so TensorFlow): imported only when asked for.
    if name == "ActivationEvolution":
        from dltoolkit._quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
        from dltoolkit.embed.evolution import ActivationEvolution

        return ActivationEvolution
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
