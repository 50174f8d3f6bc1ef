"""Learning-curve diagnosis: underfit, overfit or good fit.

The course (DSE 3151, "Learning Curves") describes the three shapes of a pair
of learning curves; this module turns them into explicit tests on a
``History``. All measures are relative, so they do not depend on the scale
of the loss:

* the *tail* is the last ``TAIL_FRACTION`` of the epochs (at least
  ``MIN_TAIL_EPOCHS`` epochs);
* the training loss's *reference* is the lowest of its first
  ``HEAD_EPOCHS`` epochs, and its *scale* is the largest absolute value from
  the reference epoch on: a loss spike in the first epoch (unnormalized
  inputs, a large initial learning rate) is thereby ignored instead of
  looking like a large improvement;
* the training *improvement* is ``(reference - final loss) / scale``;
* a curve's *relative slope* is the least-squares slope over the tail divided
  by the curve's scale (fraction of its scale per epoch; the validation
  loss's scale is its largest absolute value);
* the *relative gap* is ``(val_loss - loss) / val_loss``, averaged over the
  tail (averages make one noisy epoch harmless);
* the *rise* is how far the tail's mean validation loss lies above the
  minimum validation loss, as a fraction of the validation curve's scale
  (relative to the minimum itself, ordinary epoch-to-epoch noise around a
  small minimum would look like a large rise).

The rules, in order (the first that matches decides):

0. underfit (stuck near chance level), only when ``chance_loss`` is given:
   the final training loss is not at least ``CHANCE_TOL`` (10%) below the
   loss of a trivial predictor, e.g. ``ln(num_classes)`` for softmax
   cross-entropy;
1. underfit (flat): the training loss improved by less than ``FLAT_TOL`` of
   its scale after its first epochs ("remains flat regardless of
   training");
2. overfit: the validation loss rose more than ``RISE_TOL`` above its minimum,
   the minimum lies before the tail, and the tail's mean gap exceeds the gap
   at the minimum ("validation loss decreases to a point and begins
   increasing again");
3. overfit: the relative gap exceeds ``GAP_TOL`` (validation loss stays far
   above a training loss that keeps getting better);
4. underfit (not converged): the training or validation loss still falls
   faster than ``SLOPE_TOL`` per epoch ("continues to decrease until the end
   of training");
5. otherwise good fit: both losses are stable at the end with a small gap.

Without a validation loss only rules 0, 1 and 4 apply.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import math
import textwrap

import numpy as np

from dltoolkit.plotting import new_figure, save_figure

TAIL_FRACTION = 0.2
MIN_TAIL_EPOCHS = 2
SLOPE_TOL = 0.01
FLAT_TOL = 0.1
RISE_TOL = 0.05
GAP_TOL = 0.5
HEAD_EPOCHS = 2
CHANCE_TOL = 0.1

KINDS = ("underfit", "overfit", "good_fit")

_EPS = 1e-12


@dataclasses.dataclass
class Diagnosis:
    """The verdict on a pair of learning curves.

    Attributes:
        kind: ``"underfit"``, ``"overfit"`` or ``"good_fit"``.
        best_epoch: 0-based epoch of the lowest validation loss (of the lowest
            training loss when there is no validation loss).
        generalization_gap: final validation loss minus final training loss,
            or None without a validation loss.
        final_loss: the last training loss.
        final_val_loss: the last validation loss, or None.
        reasons: a short human-readable explanation with the numbers.
        details: the measures the rules used (slopes, gap, rise, tail).
    """

    kind: str
    best_epoch: int
    generalization_gap: float | None
    final_loss: float
    final_val_loss: float | None
    reasons: str
    details: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        """Returns the diagnosis as a JSON-serializable dict."""
        return dataclasses.asdict(self)


def diagnose(
    history, *, loss="loss", val_loss="val_loss", chance_loss: float | None = None
):
    """Classifies learning curves as underfit, overfit or good fit.

    Args:
        history: a ``keras.callbacks.History`` or a dict of per-epoch lists.
        loss: the key of the training loss.
        val_loss: the key of the validation loss; if it is missing from the
            history (or None), only underfitting can be detected.
        chance_loss: optional loss of a trivial predictor on this problem,
            e.g. ``math.log(num_classes)`` for softmax cross-entropy with
            balanced classes (the loss of predicting the uniform
            distribution). When given, a final training loss that is not at
            least ``CHANCE_TOL`` (10%) below it is diagnosed as underfit
            ("stuck near chance level"), whatever the other rules say. It
            must be a positive finite number; None (the default) skips the
            check.

    Returns:
        A :class:`Diagnosis`. The thresholds are the module constants
        ``TAIL_FRACTION``, ``HEAD_EPOCHS``, ``SLOPE_TOL``, ``FLAT_TOL``,
        ``RISE_TOL``, ``GAP_TOL`` and ``CHANCE_TOL`` (see the module
        docstring for the rules).

    Raises:
        ValueError: if the history is empty, lacks the loss, has fewer than
            two epochs, non-finite values or curves of different lengths, or
            if ``chance_loss`` is not a positive finite number.

    References:
        DSE 3151, "Learning Curves"; "Underfit Learning Curves"; "Overfitting
        Curves"; "Good Fit Learning Curves" (generalization gap).
    """
    logs = _history_dict(history)
    chance_loss = _check_chance_loss(chance_loss)
    train = _curve(logs, loss, "loss")
    val = None
    if val_loss is not None and val_loss in logs:
        val = _curve(logs, val_loss, "val_loss")
        if len(val) != len(train):
            raise ValueError(
                f"{loss!r} and {val_loss!r} must have one value per epoch each. "
                f"Received: {len(train)} and {len(val)} values."
            )
    n = len(train)
    tail = min(n - 1, max(MIN_TAIL_EPOCHS, math.ceil(TAIL_FRACTION * n)))
    # The reference skips a spike in the first epoch: the best of the first
    # HEAD_EPOCHS epochs, and the scale only counts epochs from there on.
    ref_epoch = int(np.argmin(train[: min(HEAD_EPOCHS, n - 1)]))
    train_scale = max(np.abs(train[ref_epoch:]).max(), _EPS)
    train_fall = -_relative_slope(train, tail, scale=train_scale)
    improvement = (train[ref_epoch] - train[-1]) / train_scale
    details = {
        "epochs": n,
        "tail_epochs": tail,
        "reference_epoch": ref_epoch,
        "train_fall_per_epoch": train_fall,
        "train_improvement": improvement,
    }
    if chance_loss is not None:
        details.update(
            final_loss=train[-1],
            chance_loss=chance_loss,
            below_chance=(chance_loss - train[-1]) / chance_loss,
        )
    final_loss = float(train[-1])
    if val is None:
        best_epoch = int(np.argmin(train))
        gap = final_val = None
    else:
        best_epoch = int(np.argmin(val))
        final_val = float(val[-1])
        gap = final_val - final_loss
        val_tail = val[-tail:].mean()
        tail_gap = (val[-tail:] - train[-tail:]).mean()
        details.update(
            val_fall_per_epoch=-_relative_slope(val, tail),
            val_rise=(val_tail - val[best_epoch]) / max(np.abs(val).max(), _EPS),
            tail_gap=tail_gap,
            relative_gap=tail_gap / max(abs(val_tail), _EPS),
            gap_at_best=val[best_epoch] - train[best_epoch],
        )
    kind, reasons = _classify(details, best_epoch, gap)
    return Diagnosis(
        kind=kind,
        best_epoch=best_epoch,
        generalization_gap=gap,
        final_loss=final_loss,
        final_val_loss=final_val,
        reasons=reasons,
        details={
            k: v if k in ("epochs", "tail_epochs", "reference_epoch") else float(v)
            for k, v in details.items()
        },
    )


def _classify(d, best_epoch, gap):
    """Applies the module's rules to the measures; returns (kind, reasons)."""
    pct = "{:.1%}".format
    n, tail = d["epochs"], d["tail_epochs"]
    if "chance_loss" in d and d["below_chance"] < CHANCE_TOL:
        below = d["below_chance"]
        where = f"only {pct(below)} below" if below > 0 else f"{pct(-below)} above"
        return "underfit", (
            f"stuck near chance level: the final training loss "
            f"{d['final_loss']:.4g} is {where} the chance loss "
            f"{d['chance_loss']:.4g} (needs > {pct(CHANCE_TOL)} below); the "
            "model has learned little beyond a trivial predictor"
        )
    if d["train_improvement"] < FLAT_TOL:
        start = d["reference_epoch"]
        return "underfit", (
            f"training loss stayed flat: it improved by {pct(d['train_improvement'])}"
            f" of its scale from epoch {start} to epoch {n - 1} (< {pct(FLAT_TOL)})"
        )
    has_val = "val_rise" in d
    if has_val:
        rise, rel_gap = d["val_rise"], d["relative_gap"]
        tail_gap = d["tail_gap"]
        if (
            rise > RISE_TOL
            and best_epoch <= n - 1 - tail
            and tail_gap > d["gap_at_best"]
        ):
            return "overfit", (
                f"validation loss bottomed at epoch {best_epoch} and then rose "
                f"{pct(rise)} of its scale above its minimum (> {pct(RISE_TOL)}) "
                "while the gap "
                f"grew from {d['gap_at_best']:.4g} to {tail_gap:.4g}"
            )
        if rel_gap > GAP_TOL:
            return "overfit", (
                f"validation loss stays far above training loss: the gap "
                f"{tail_gap:.4g} is {pct(rel_gap)} of the validation loss "
                f"(> {pct(GAP_TOL)})"
            )
    falling = []
    if d["train_fall_per_epoch"] > SLOPE_TOL:
        falling.append(f"training loss fell {pct(d['train_fall_per_epoch'])}")
    if has_val and d["val_fall_per_epoch"] > SLOPE_TOL:
        falling.append(f"validation loss fell {pct(d['val_fall_per_epoch'])}")
    if falling:
        return "underfit", (
            f"not converged: over the last {tail} epochs the "
            + " and the ".join(falling)
            + f" of its scale per epoch (> {pct(SLOPE_TOL)}); train longer or "
            "use a larger model"
        )
    if not has_val:
        return "good_fit", (
            "training loss is stable at the end (falls "
            f"{pct(d['train_fall_per_epoch'])} per epoch <= {pct(SLOPE_TOL)}); "
            "no validation loss, so overfitting "
            "cannot be judged"
        )
    return "good_fit", (
        f"both losses are stable at the end and the gap {d['tail_gap']:.4g} is "
        f"{pct(d['relative_gap'])} of the validation loss (<= {pct(GAP_TOL)})"
    )


def plot_learning_curves(history, path, *, diagnosis=None, metrics=("loss",)):
    """Draws training and validation curves, one panel per metric, as a PNG.

    Args:
        history: a ``keras.callbacks.History`` or a dict of per-epoch lists.
        path: where to write the PNG.
        diagnosis: optional :class:`Diagnosis`; its best epoch is marked and
            its verdict written in the title.
        metrics: the metrics to draw; ``"val_" + name`` is drawn beside each
            when present.

    Returns:
        ``path``.

    References:
        DSE 3151, "Learning Curves" (optimization and performance curves).
    """
    logs = _history_dict(history)
    if isinstance(metrics, str):
        metrics = (metrics,)
    if not metrics:
        raise ValueError("metrics must name at least one metric. Received: ()")
    curves = [
        (
            m,
            _curve(logs, m, m),
            _curve(logs, f"val_{m}", m) if f"val_{m}" in logs else None,
        )
        for m in metrics
    ]
    fig, axes = new_figure(1, len(curves))
    for ax, (name, train, val) in zip(axes[0], curves):
        epochs = np.arange(len(train))
        ax.plot(epochs, train, "o-", markersize=3, label=f"train {name}")
        if val is not None:
            ax.plot(epochs, val, "o-", markersize=3, label=f"validation {name}")
        if diagnosis is not None:
            ax.axvline(
                diagnosis.best_epoch,
                color="gray",
                linestyle=":",
                label=f"best epoch {diagnosis.best_epoch}",
            )
        ax.set_xlabel("epoch (0-based)")
        ax.set_ylabel(name)
        ax.legend()
    if diagnosis is not None:
        title = f"{diagnosis.kind.replace('_', ' ')}: {diagnosis.reasons}"
        fig.suptitle(textwrap.fill(title, width=60 * len(curves)), fontsize=10)
    return save_figure(fig, path)


def _history_dict(history):
    """Returns the dict of per-epoch lists inside a History, or the dict itself."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, collections.abc.Mapping):
        raise ValueError(
            "history must be a keras.callbacks.History or a dict of per-epoch "
            f"lists. Received: {type(history).__name__}"
        )
    if not logs:
        raise ValueError("history is empty: it holds no metrics. Received: {}")
    return logs


def _curve(logs, key, what):
    """Returns ``logs[key]`` as a finite float array of at least two epochs."""
    if key not in logs:
        raise ValueError(
            f"history has no {what} under the key {key!r}. "
            f"Available keys: {sorted(logs)}"
        )
    values = np.asarray(logs[key], dtype=float).reshape(-1)
    if len(values) < 2:
        raise ValueError(
            f"history[{key!r}] needs at least 2 epochs to show a trend. "
            f"Received: {len(values)} value(s)"
        )
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"history[{key!r}] is not finite at epoch {int(bad[0])} "
            f"(value {values[bad[0]]}): training diverged."
        )
    return values


def _relative_slope(values, tail, scale=None):
    """Least-squares slope over the last ``tail`` epochs, per unit of scale.

    ``scale`` defaults to the curve's largest absolute value.
    """
    segment = values[-(tail + 1) :]
    slope = np.polyfit(np.arange(len(segment)), segment, 1)[0]
    if scale is None:
        scale = max(np.abs(values).max(), _EPS)
    return float(slope / scale)


def _check_chance_loss(chance_loss):
    """Returns ``chance_loss`` as a float (or None); it must be positive."""
    if chance_loss is None:
        return None
    if isinstance(chance_loss, bool) or not isinstance(
        chance_loss, (int, float, np.integer, np.floating)
    ):
        raise ValueError(
            "chance_loss must be a positive number, e.g. math.log(num_classes). "
            f"Received: {chance_loss!r}"
        )
    value = float(chance_loss)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            "chance_loss must be a positive finite number, e.g. "
            f"math.log(num_classes). Received: {chance_loss!r}"
        )
    return value
