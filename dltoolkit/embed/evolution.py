"""Inter-epoch evolution of hidden activations, embedded with t-SNE.

References:
    E9 309, "Visualizing hidden layer activations in CNNs using
    t-SNE: inter-epoch evolution"; Rauber et al., "Visualizing the hidden
    activity of artificial neural networks", IEEE TVCG 23(1), 2016.
"""

from __future__ import annotations

import os
import uuid

import keras
import numpy as np

from dltoolkit.embed.affinities import check_data
from dltoolkit.embed.neighbor_embedding import tsne
from dltoolkit.embed.plots import save_sequence
from dltoolkit.errors import ConfigError, DataError


def _labels(y, n):
    """Class labels ``(n,)`` from integer labels or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if y.shape[0] != n:
        raise DataError(f"x has {n} samples but y has {y.shape[0]} labels.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise DataError(
            f"y holds a single class ({classes[0].item()!r}): the panels color "
            "points by class to show how the classes separate, so pass samples of "
            "at least "
            "2 classes, or y=None for uncolored panels."
        )
    return y


class ActivationEvolution(keras.callbacks.Callback):
    """Embeds a layer's activations on a fixed sample after every ``every`` epochs.

    Each frame is a t-SNE of the activations of ``layer_name`` on ``x``; the
    first frame starts from PCA (with early exaggeration), every later one
    from the previous frame's coordinates (without early exaggeration), so
    the frames stay comparable and points can be followed across them. After
    each frame the callback writes ``path`` (a PNG with a row of panels, one
    per frame, colored by ``y``) and ``path`` with ``.npz`` in place of
    ``.png``: ``epochs`` (frames,), ``embeddings`` (frames, n, 2),
    ``kl_divergence`` (frames,) and ``labels`` (n,) when ``y`` is given.

    Args:
        layer_name: the layer whose output is embedded (flattened per sample).
        x: the fixed sample, ``n >= 3 * perplexity`` inputs.
        y: labels of ``x`` (integers or one-hot) to color the points; at least
            2 classes (a single class raises ``DataError``: nothing to
            separate); ``None`` draws every point in one color.
        every: embed after epochs ``every, 2 * every, ...``.
        path: the PNG to write (its directory is created).
        include_initial: also embed before training (frame "epoch 0").
        perplexity, n_iter, random_state: passed to ``tsne``.
        batch_size: for computing the activations.
        backend: ``tsne``'s backend, ``"numpy"`` or ``"tensorflow"``.
        verbose: a tqdm bar per frame.

    Attributes:
        epochs, embeddings, kl_divergences: the frames computed so far.
    """

    def __init__(
        self,
        layer_name: str,
        x,
        y=None,
        *,
        every: int = 1,
        path="activation_evolution.png",
        include_initial: bool = True,
        perplexity: float = 30.0,
        n_iter: int = 500,
        random_state=0,
        batch_size: int = 256,
        backend: str = "numpy",
        verbose: bool = False,
    ):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer. Received: {every!r}")
        self.layer_name = layer_name
        self.x = np.asarray(x)
        n = self.x.shape[0]
        # Fails now, not after the first epoch, when x is too small.
        check_data(np.zeros((n, 1)), perplexity)
        self.y = None if y is None else _labels(y, n)
        self.every = every
        self.path = os.fspath(path)
        self.include_initial = include_initial
        self.perplexity = perplexity
        self.n_iter = n_iter
        self.random_state = random_state
        self.batch_size = batch_size
        self.backend = backend
        self.verbose = verbose
        self.epochs, self.embeddings, self.kl_divergences = [], [], []
        self._features = None

    def _feature_model(self):
        if self._features is None:
            names = [layer.name for layer in self.model.layers]
            if self.layer_name not in names:
                raise ConfigError(
                    f"No layer named {self.layer_name!r} in model "
                    f"{self.model.name!r}. Layers: {', '.join(names)}"
                )
            output = self.model.get_layer(self.layer_name).output
            self._features = keras.Model(self.model.inputs, output)
        return self._features

    def _frame(self, epoch: int) -> None:
        acts = self._feature_model().predict(
            self.x, batch_size=self.batch_size, verbose=0
        )
        acts = np.asarray(acts).reshape(len(self.x), -1)
        first = not self.embeddings
        try:
            result = tsne(
                acts,
                perplexity=self.perplexity,
                n_iter=self.n_iter,
                random_state=self.random_state,
                init="pca" if first else self.embeddings[-1],
                exaggeration_iter=250 if first else 0,
                backend=self.backend,
                verbose=self.verbose,
            )
        except DataError as err:
            raise DataError(
                f"epoch {epoch}: activations of layer {self.layer_name!r}: {err}"
            ) from None
        self.epochs.append(epoch)
        self.embeddings.append(result.embedding)
        self.kl_divergences.append(result.kl_divergence)
        self._write()

    def _write(self) -> None:
        titles = [
            f"epoch {e} (KL {kl:.2f})"
            for e, kl in zip(self.epochs, self.kl_divergences)
        ]
        save_sequence(self.path, self.embeddings, self.y, titles)
        arrays = {
            "epochs": np.asarray(self.epochs),
            "embeddings": np.stack(self.embeddings),
            "kl_divergence": np.asarray(self.kl_divergences),
        }
        if self.y is not None:
            arrays["labels"] = self.y
        npz = os.path.splitext(self.path)[0] + ".npz"
        tmp = f"{npz}.{uuid.uuid4().hex}.tmp.npz"
        try:
            np.savez(tmp, **arrays)
            os.replace(tmp, npz)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def on_train_begin(self, logs=None):
        if self.include_initial and not self.epochs:
            self._frame(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self._frame(epoch + 1)
