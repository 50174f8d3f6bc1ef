"""The course's learning-rate schedules.

Each step-based schedule exists twice: as a pure Python function of the step
(``power_lr``, ``exponential_lr``, ``piecewise_constant_lr``) that needs no
framework, and as a serializable Keras ``LearningRateSchedule`` that computes
the same formula in the graph. Performance scheduling depends on the
validation error, so it is a callback (``PerformanceScheduler``).
"""

from __future__ import annotations

import bisect
import math
import numbers

import keras
import numpy as np
from keras import ops

SCHEDULES = ("constant", "power", "exponential", "piecewise", "performance")

_MAXIMIZED_METRICS = ("acc", "accuracy", "auc", "bleu", "chrf")


# === Pure functions ===


def power_lr(step, lr0, k, c=1.0):
    """Power scheduling: ``lr0 / (1 + step / k) ** c``.

    Args:
        step: training step (iteration) ``t >= 0``.
        lr0: initial learning rate ``eta_0``.
        k: decay steps; after ``k`` steps the rate is ``lr0 / 2**c``.
        c: the power, typically 1.

    Returns:
        The learning rate at ``step`` as a float.

    References:
        DSE 3151, "Learning Rate Scheduling": power scheduling
        ``eta(t) = eta_0 / (1 + t/k)^c``.
    """
    _check_positive("k", k)
    _check_positive("c", c)
    return float(lr0) / (1.0 + float(step) / float(k)) ** float(c)


def exponential_lr(step, lr0, s):
    """Exponential scheduling: ``lr0 * 0.1 ** (step / s)``.

    Args:
        step: training step ``t >= 0``.
        lr0: initial learning rate ``eta_0``.
        s: steps over which the rate drops by a factor of 10.

    Returns:
        The learning rate at ``step`` as a float.

    References:
        DSE 3151, "Learning Rate Scheduling": exponential scheduling
        ``eta(t) = eta_0 0.1^(t/s)``.
    """
    _check_positive("s", s)
    return float(lr0) * 0.1 ** (float(step) / float(s))


def piecewise_constant_lr(step, boundaries, values):
    """Piecewise constant scheduling.

    ``values[i]`` applies while ``step < boundaries[i]``; from the last
    boundary on, ``values[-1]`` applies.

    Args:
        step: training step (or epoch, if the boundaries are epochs).
        boundaries: strictly increasing, non-negative numbers.
        values: learning rates, one more than ``boundaries``.

    Returns:
        The learning rate at ``step`` as a float.

    References:
        DSE 3151, "Learning Rate Scheduling": piecewise constant scheduling
        (e.g. 0.1 for 5 epochs, then 0.001 for 50 epochs).
    """
    boundaries, values = _check_piecewise(boundaries, values)
    return values[bisect.bisect_right(boundaries, float(step))]


# === Keras schedules ===


@keras.saving.register_keras_serializable(package="dltoolkit")
class PowerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Power scheduling as a Keras schedule (see :func:`power_lr`).

    Args:
        initial_learning_rate: ``eta_0``.
        decay_steps: ``k``, in optimizer steps.
        power: ``c``, typically 1.
    """

    def __init__(self, initial_learning_rate, decay_steps, power=1.0):
        _check_positive("initial_learning_rate", initial_learning_rate)
        _check_positive("decay_steps", decay_steps)
        _check_positive("power", power)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = float(decay_steps)
        self.power = float(power)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        base = 1.0 + step / self.decay_steps
        return self.initial_learning_rate / ops.power(base, self.power)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "power": self.power,
        }


@keras.saving.register_keras_serializable(package="dltoolkit")
class ExponentialSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Exponential scheduling as a Keras schedule (see :func:`exponential_lr`).

    Args:
        initial_learning_rate: ``eta_0``.
        decay_steps: ``s``, the optimizer steps per factor-of-10 drop.
    """

    def __init__(self, initial_learning_rate, decay_steps):
        _check_positive("initial_learning_rate", initial_learning_rate)
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = float(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        return self.initial_learning_rate * ops.power(0.1, step / self.decay_steps)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
        }


@keras.saving.register_keras_serializable(package="dltoolkit")
class PiecewiseConstantSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise constant scheduling (see :func:`piecewise_constant_lr`).

    Args:
        boundaries: strictly increasing boundaries, in optimizer steps, or in
            epochs when ``steps_per_epoch`` is given.
        values: learning rates, one more than ``boundaries``.
        steps_per_epoch: if given, each boundary is multiplied by it.
    """

    def __init__(self, boundaries, values, steps_per_epoch=None):
        boundaries, values = _check_piecewise(boundaries, values)
        if steps_per_epoch is not None:
            _check_positive("steps_per_epoch", steps_per_epoch)
        self.boundaries = boundaries
        self.values = values
        self.steps_per_epoch = steps_per_epoch
        scale = 1.0 if steps_per_epoch is None else float(steps_per_epoch)
        self.step_boundaries = [b * scale for b in boundaries]

    def __call__(self, step):
        step = ops.cast(step, "float32")
        # Number of boundaries already reached = index of the value in force.
        reached = [
            ops.cast(ops.greater_equal(step, b), "int32") for b in self.step_boundaries
        ]
        index = ops.sum(ops.stack(reached)) if reached else 0
        return ops.take(ops.convert_to_tensor(self.values, "float32"), index)

    def get_config(self):
        return {
            "boundaries": list(self.boundaries),
            "values": list(self.values),
            "steps_per_epoch": self.steps_per_epoch,
        }


# === Performance scheduling ===


class PerformanceScheduler(keras.callbacks.Callback):
    """Performance scheduling: cut the learning rate when the metric stalls.

    At the end of every epoch the monitored metric is compared with the best
    value so far. After ``patience`` epochs in a row without improvement the
    optimizer's learning rate is multiplied by ``factor`` (never below
    ``min_lr``) and the wait counter starts again. The learning rate used in
    the epoch is written to ``logs["learning_rate"]`` so it appears in the
    ``History``. The optimizer must have a float learning rate, not a schedule.

    Args:
        monitor: the metric to watch, e.g. ``"val_loss"``.
        factor: the factor lambda in ``(0, 1)``.
        patience: epochs without improvement before a cut.
        min_lr: lower bound on the learning rate.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``"max"`` for accuracy, AUC,
            BLEU and chrF metrics such as ``"val_accuracy"``, ``"min"``
            otherwise).
        verbose: 1 prints a line at each cut.

    References:
        DSE 3151, "Learning Rate Scheduling": performance scheduling
        ("reduce the learning rate by a factor of lambda when the error stops
        dropping").
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.5,
        patience=3,
        min_lr=0.0,
        mode="auto",
        verbose=0,
    ):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(
                f"monitor must be a metric name. Received: monitor={monitor!r}"
            )
        if not (_is_real(factor) and 0.0 < factor < 1.0):
            raise ValueError(f"factor must be in (0, 1). Received: factor={factor!r}")
        if not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(
                "patience must be a non-negative integer. "
                f"Received: patience={patience!r}"
            )
        if not (_is_real(min_lr) and min_lr >= 0.0):
            raise ValueError(f"min_lr must be >= 0. Received: min_lr={min_lr!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"Unknown mode. Received: mode={mode!r}. Valid modes: auto, min, max."
            )
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.min_lr = float(min_lr)
        self.mode = mode
        self.verbose = verbose
        self.maximize = _infer_maximize(monitor) if mode == "auto" else mode == "max"
        self._reset()

    def _reset(self):
        self.wait = 0
        self.best = -math.inf if self.maximize else math.inf

    def on_train_begin(self, logs=None):
        self._reset()
        lr = getattr(self.model.optimizer, "_learning_rate", None)
        if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError(
                "PerformanceScheduler needs an optimizer with a float learning "
                f"rate. Received: a {type(lr).__name__} schedule."
            )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if self.monitor not in logs:
            raise ValueError(
                f"PerformanceScheduler monitors {self.monitor!r}, which is not in "
                f"the epoch logs. Available keys: {sorted(logs)}. "
                "(Validation metrics need validation data in fit().)"
            )
        current = float(logs[self.monitor])
        optimizer = self.model.optimizer
        lr = float(np.asarray(optimizer.learning_rate))
        logs["learning_rate"] = lr
        if self._improved(current):
            self.best = current
            self.wait = 0
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        self.wait = 0
        new_lr = max(lr * self.factor, self.min_lr)
        if new_lr < lr:
            optimizer.learning_rate = new_lr
            if self.verbose:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} has not improved for "
                    f"{self.patience} epochs; learning rate {lr:.3g} -> {new_lr:.3g}."
                )

    def _improved(self, current):
        if math.isnan(current):
            return False
        return current > self.best if self.maximize else current < self.best


# === Validation helpers ===


def _infer_maximize(monitor):
    """True for accuracy/AUC/BLEU-like metric names (``val_accuracy``, ``val_bleu``)."""
    name = monitor.lower().removeprefix("val_")
    tokens = name.split("_")
    return any(t in _MAXIMIZED_METRICS for t in tokens) or name.endswith("accuracy")


def _is_real(value):
    """True for a real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_positive(name, value):
    """Raises ValueError unless ``value`` is a finite real number > 0."""
    if not (_is_real(value) and 0.0 < float(value) < math.inf):
        raise ValueError(
            f"{name} must be a positive number. Received: {name}={value!r}"
        )


def _check_piecewise(boundaries, values):
    """Validates piecewise boundaries and values; returns them as float lists."""
    try:
        boundaries = [float(b) for b in boundaries]
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(
            "boundaries and values must be sequences of numbers. "
            f"Received: boundaries={boundaries!r}, values={values!r}"
        ) from None
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            "values must have exactly one more entry than boundaries. "
            f"Received: {len(boundaries)} boundaries={boundaries}, "
            f"{len(values)} values={values}"
        )
    if any(b < 0 or not math.isfinite(b) for b in boundaries) or any(
        later <= earlier for earlier, later in zip(boundaries, boundaries[1:])
    ):
        raise ValueError(
            "boundaries must be finite, non-negative and strictly increasing. "
            f"Received: boundaries={boundaries}"
        )
    if any(v < 0 or not math.isfinite(v) for v in values):
        raise ValueError(
            "values must be finite, non-negative learning rates. "
            f"Received: values={values}"
        )
    return boundaries, values
