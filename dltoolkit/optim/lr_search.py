"""Learning-rate search: a coarse sweep on a log scale, then a finer one.

Following the course (DSE 3151, "How about optimizing GD by varying
learning rate?"): try rates on a log scale (0.0001, 0.001, 0.01, 0.1,
1.0), run a few epochs with each, pick the best, then search more finely
around it (e.g. 0.05, 0.2, 0.3 around 0.1).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from dltoolkit.plotting import new_figure, save_figure


@dataclasses.dataclass
class LRSearchResult:
    """The outcome of :func:`find_learning_rate`.

    Attributes:
        best_lr: the rate with the lowest score over both sweeps.
        coarse: ``(lr, loss)`` for each coarse rate, ascending in lr.
        fine: ``(lr, loss)`` for each fine rate, ascending in lr.
        score_name: the loss that was scored, ``"val_loss"`` or ``"loss"``.
            Diverged runs (NaN or infinite loss) score ``inf``.
    """

    best_lr: float
    coarse: list
    fine: list
    score_name: str = "loss"

    @property
    def best_loss(self):
        """The score of ``best_lr``."""
        return min(loss for lr, loss in self.coarse + self.fine if lr == self.best_lr)

    def plot(self, path):
        """Draws loss against learning rate (log x) and marks the best rate.

        Args:
            path: where to write the PNG.

        Returns:
            ``path``.
        """
        fig, axes = new_figure()
        ax = axes[0, 0]
        finite = [loss for _, loss in self.coarse + self.fine if math.isfinite(loss)]
        top = max(finite) if finite else 1.0
        for points, style, label in (
            (self.coarse, "o-", "coarse"),
            (self.fine, "s--", "fine"),
        ):
            ok = [(lr, loss) for lr, loss in points if math.isfinite(loss)]
            if ok:
                ax.plot(*zip(*ok), style, label=label)
            bad = [lr for lr, loss in points if not math.isfinite(loss)]
            if bad:
                ax.plot(bad, [top] * len(bad), "rx", markersize=10)
        if any(not math.isfinite(loss) for _, loss in self.coarse + self.fine):
            ax.plot([], [], "rx", label="diverged (drawn at top)")
        if finite and min(finite) > 0 and max(finite) / min(finite) > 100:
            ax.set_yscale("log")
        ax.axvline(self.best_lr, color="gray", linestyle=":")
        if math.isfinite(self.best_loss):
            ax.plot(
                [self.best_lr],
                [self.best_loss],
                "*",
                color="gold",
                markeredgecolor="k",
                markersize=16,
                label=f"best lr = {self.best_lr:.3g}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel(f"final {self.score_name}")
        ax.set_title("Learning-rate search")
        ax.legend()
        return save_figure(fig, path)


def find_learning_rate(
    build_model,
    train_data,
    *,
    val_data=None,
    min_lr=1e-4,
    max_lr=1.0,
    num_coarse=5,
    num_fine=5,
    epochs=1,
    steps_per_epoch=None,
    plot_path=None,
    verbose=0,
):
    """Finds a good learning rate by a coarse then a fine log-scale search.

    Coarse: ``num_coarse`` rates log-spaced from ``min_lr`` to ``max_lr``.
    Fine: ``num_fine`` rates log-spaced strictly between the best coarse rate
    and its coarse neighbours (half below, half above; all on one side when
    the best coarse rate is at an end of the range). Each rate trains a fresh
    model for ``epochs`` epochs and scores the final validation loss (with
    ``val_data``) or the final training loss. NaN or infinite losses score
    ``inf``; a run stops at the first NaN.

    Args:
        build_model: ``build_model(learning_rate) -> keras.Model``, compiled
            with that learning rate; called once per rate.
        train_data: a ``tf.data.Dataset`` of ``(x, y)`` batches or an
            ``(x, y)`` tuple of arrays.
        val_data: optional validation data in the same forms.
        min_lr: the smallest coarse rate.
        max_lr: the largest coarse rate.
        num_coarse: number of coarse rates (at least 2).
        num_fine: number of fine rates (0 skips the fine search).
        epochs: epochs per run.
        steps_per_epoch: optional steps per epoch, passed to ``fit``.
        plot_path: if given, :meth:`LRSearchResult.plot` writes a PNG here.
        verbose: 0 is silent; 1 shows a progress bar; 2 also shows ``fit``
            logs.

    Returns:
        An :class:`LRSearchResult`.

    References:
        DSE 3151, "How about optimizing GD by varying learning rate?",
        linear search on a log scale followed by a finer search.
    """
    if not callable(build_model):
        raise ValueError(
            "build_model must be a callable learning_rate -> compiled keras.Model. "
            f"Received: build_model={build_model!r}"
        )
    fit_data = _fit_arguments(train_data, "train_data")
    if val_data is not None:
        _fit_arguments(val_data, "val_data")
    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if not _is_real(value) or not 0.0 < value < math.inf:
            raise ValueError(
                f"{name} must be a positive number. Received: {name}={value!r}"
            )
    if max_lr <= min_lr:
        raise ValueError(
            f"max_lr must exceed min_lr. Received: min_lr={min_lr}, max_lr={max_lr}"
        )
    _check_int("num_coarse", num_coarse, 2)
    _check_int("num_fine", num_fine, 0)
    _check_int("epochs", epochs, 1)
    if steps_per_epoch is not None:
        _check_int("steps_per_epoch", steps_per_epoch, 1)

    score_name = "loss" if val_data is None else "val_loss"
    fit_kwargs = dict(
        fit_data,
        validation_data=val_data,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=[keras.callbacks.TerminateOnNaN()],
        verbose=2 if verbose >= 2 else 0,
    )
    progress = tqdm(total=num_coarse + num_fine, desc="lr search", disable=not verbose)

    def score(lr):
        model = build_model(lr)
        _check_model(model, lr)
        history = model.fit(**fit_kwargs).history
        losses = history.get(score_name) or [math.nan]
        final = float(losses[-1])
        if not math.isfinite(final) or len(losses) < epochs:
            final = math.inf
        progress.update(1)
        progress.set_postfix(lr=f"{lr:.3g}", **{score_name: f"{final:.4g}"})
        return final

    try:
        coarse_rates = np.geomspace(min_lr, max_lr, num_coarse)
        coarse = [(float(lr), score(float(lr))) for lr in coarse_rates]
        best_index = int(np.argmin([loss for _, loss in coarse]))
        fine_rates = _fine_rates(coarse_rates, best_index, num_fine)
        fine = [(lr, score(lr)) for lr in fine_rates]
    finally:
        progress.close()
    best_lr = min(coarse + fine, key=lambda pair: pair[1])[0]
    result = LRSearchResult(
        best_lr=best_lr, coarse=coarse, fine=fine, score_name=score_name
    )
    if plot_path is not None:
        result.plot(plot_path)
    return result


def _fine_rates(coarse_rates, best_index, num_fine):
    """Log-spaced rates strictly between the best coarse rate and its neighbours."""
    best = float(coarse_rates[best_index])
    sides = []
    if best_index > 0:
        sides.append(float(coarse_rates[best_index - 1]))
    if best_index < len(coarse_rates) - 1:
        sides.append(float(coarse_rates[best_index + 1]))
    counts = [num_fine // len(sides)] * len(sides)
    counts[-1] += num_fine - sum(counts)  # the odd one goes above the best
    rates = []
    for neighbour, count in zip(sides, counts):
        for j in range(1, count + 1):
            rates.append(best * (neighbour / best) ** (j / (count + 1)))
    return sorted(rates)


def _fit_arguments(data, name):
    """Turns a dataset or an ``(x, y)`` tuple into ``fit`` keyword arguments."""
    if isinstance(data, tf.data.Dataset):
        return {"x": data, "shuffle": False}  # a Dataset shuffles itself
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return {"x": data[0], "y": data[1]}
    raise ValueError(
        f"{name} must be a tf.data.Dataset or an (x, y) tuple. "
        f"Received: {name} of type {type(data).__name__}"
    )


def _check_model(model, lr):
    """Raises unless ``model`` is compiled with learning rate ``lr``."""
    if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
        what = (
            "an uncompiled keras.Model"
            if isinstance(model, keras.Model)
            else repr(model)
        )
        raise ValueError(
            "build_model(learning_rate) must return a compiled keras.Model. "
            f"Received: {what}"
        )
    actual = float(np.asarray(model.optimizer.learning_rate))
    if not math.isclose(actual, lr, rel_tol=1e-5):
        raise ValueError(
            "build_model(learning_rate) must compile with the given learning "
            f"rate. Received: learning_rate={lr:.6g}, but the optimizer's "
            f"learning rate is {actual:.6g}."
        )


def _is_real(value):
    """True for a real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(name, value, minimum):
    """Raises ValueError unless ``value`` is an integer >= ``minimum``."""
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < minimum
    ):
        raise ValueError(
            f"{name} must be an integer >= {minimum}. Received: {name}={value!r}"
        )
