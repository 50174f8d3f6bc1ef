"""Representation tools: t-SNE (exact, or FFT-accelerated from 1,000 points) and
SNE in NumPy, hidden-activation evolution.

``tsne`` / ``sne`` return a ``TSNEResult``; ``ActivationEvolution`` is a Keras
callback that embeds a layer's activations after each epoch and draws the
sequence (E9 309, "Visualizing hidden layer activations").

Names are imported on first use, so ``dltk`` starts without NumPy, matplotlib
or TensorFlow and ``tsne`` alone never imports TensorFlow.
"""

import importlib

_EXPORTS = {
    "check_data": "affinities",
    "conditional_probabilities": "affinities",
    "joint_probabilities": "affinities",
    "nearest_neighbors": "affinities",
    "sparse_joint_probabilities": "affinities",
    "squared_distances": "affinities",
    "TSNEResult": "neighbor_embedding",
    "sne": "neighbor_embedding",
    "sne_kl_and_gradient": "neighbor_embedding",
    "tsne": "neighbor_embedding",
    "tsne_kl_and_gradient": "neighbor_embedding",
    "save_scatter": "plots",
    "save_sequence": "plots",
    "scatter_embedding": "plots",
    "ActivationEvolution": "evolution",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if module == "evolution":
        from dltoolkit._quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
