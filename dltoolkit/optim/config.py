"""The one place where optimizer and schedule choices become Keras objects.

Builders never compile; applications and tuning jobs describe the training
method with an :class:`OptimizerConfig` (or any object with its attributes)
and call :func:`make_optimizer`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

from dltoolkit.optim.optimizers import OPTIMIZERS, get_optimizer
from dltoolkit.optim.schedules import (
    SCHEDULES,
    ExponentialSchedule,
    PerformanceScheduler,
    PiecewiseConstantSchedule,
    PowerSchedule,
)


@dataclasses.dataclass
class OptimizerConfig:
    """How to optimize: the optimizer, its learning rate and its schedule.

    Attributes:
        optimizer: one of ``OPTIMIZERS``.
        learning_rate: the initial learning rate ``eta_0``.
        schedule: one of ``SCHEDULES``.
        decay_epochs: power scheduling's ``k`` or exponential scheduling's
            ``s``, in epochs.
        decay_power: power scheduling's ``c``.
        piecewise_boundaries: epochs at which the piecewise constant schedule
            steps down.
        piecewise_factor: the learning rate is multiplied by this at each
            piecewise boundary.
        perf_factor: performance scheduling's factor lambda.
        perf_patience: epochs without improvement before a cut.
        perf_monitor: the metric performance scheduling watches.
        clipvalue: gradient clipping by value, or None.
        clipnorm: gradient clipping by norm, or None.
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    decay_epochs: float = 10.0
    decay_power: float = 1.0
    piecewise_boundaries: tuple = (10, 20)
    piecewise_factor: float = 0.1
    perf_factor: float = 0.5
    perf_patience: int = 3
    perf_monitor: str = "val_loss"
    clipvalue: float | None = None
    clipnorm: float | None = None


_FIELDS = tuple(f.name for f in dataclasses.fields(OptimizerConfig))


def make_optimizer(config, steps_per_epoch):
    """Builds the optimizer (with its schedule) and the callbacks it needs.

    Args:
        config: an :class:`OptimizerConfig` or any object with its attributes.
        steps_per_epoch: optimizer steps per epoch; converts the epoch-based
            settings (``decay_epochs``, ``piecewise_boundaries``) to steps.

    Returns:
        ``(optimizer, callbacks)``. ``"constant"`` and ``"performance"`` give
        a float learning rate; ``"performance"`` adds a
        :class:`PerformanceScheduler` to the callbacks, which the caller passes
        to ``fit``. The other schedules are set as the optimizer's learning
        rate and need no callback.

    References:
        DSE 3151, "Faster Optimizers"; "Learning Rate Scheduling".
    """
    missing = [name for name in _FIELDS if not hasattr(config, name)]
    if missing:
        raise ValueError(
            f"config lacks the optimizer setting(s) {', '.join(missing)}. "
            f"Received: a {type(config).__name__}; expected the attributes of "
            "OptimizerConfig."
        )
    if (
        not isinstance(steps_per_epoch, numbers.Integral)
        or isinstance(steps_per_epoch, bool)
        or steps_per_epoch < 1
    ):
        raise ValueError(
            "steps_per_epoch must be a positive integer. "
            f"Received: steps_per_epoch={steps_per_epoch!r}"
        )
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer. Received: optimizer={config.optimizer!r}. "
            f"Valid names: {', '.join(OPTIMIZERS)}."
        )
    if config.schedule not in SCHEDULES:
        raise ValueError(
            f"Unknown schedule. Received: schedule={config.schedule!r}. "
            f"Valid names: {', '.join(SCHEDULES)}."
        )
    lr0 = _positive(config, "learning_rate")
    callbacks = []
    learning_rate = lr0
    if config.schedule == "power":
        learning_rate = PowerSchedule(
            lr0,
            decay_steps=_positive(config, "decay_epochs") * steps_per_epoch,
            power=_positive(config, "decay_power"),
        )
    elif config.schedule == "exponential":
        learning_rate = ExponentialSchedule(
            lr0, decay_steps=_positive(config, "decay_epochs") * steps_per_epoch
        )
    elif config.schedule == "piecewise":
        boundaries = tuple(config.piecewise_boundaries)
        factor = _positive(config, "piecewise_factor")
        values = [lr0 * factor**i for i in range(len(boundaries) + 1)]
        try:
            learning_rate = PiecewiseConstantSchedule(
                boundaries, values, steps_per_epoch=steps_per_epoch
            )
        except ValueError as error:
            raise ValueError(
                f"Invalid piecewise_boundaries={config.piecewise_boundaries!r}: {error}"
            ) from None
    elif config.schedule == "performance":
        callbacks.append(
            PerformanceScheduler(
                monitor=config.perf_monitor,
                factor=config.perf_factor,
                patience=config.perf_patience,
            )
        )
    optimizer = get_optimizer(
        config.optimizer,
        learning_rate,
        clipvalue=config.clipvalue,
        clipnorm=config.clipnorm,
    )
    return optimizer, callbacks


def _positive(config, name):
    """Returns ``config.<name>`` as a float, or raises if it is not > 0."""
    value = getattr(config, name)
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not 0.0 < float(value) < math.inf
    ):
        raise ValueError(
            f"{name} must be a positive number. Received: {name}={value!r}"
        )
    return float(value)
