"""The course's optimizers by name, with the course's default settings."""

from __future__ import annotations

import inspect
import numbers

import keras

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")

# name -> (Keras class, the course's hyperparameters).
_SPECS = {
    "sgd": (keras.optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    "momentum": (keras.optimizers.SGD, {"momentum": 0.9, "nesterov": False}),
    "nesterov": (keras.optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (keras.optimizers.Adagrad, {}),
    "rmsprop": (keras.optimizers.RMSprop, {"rho": 0.9}),
    "adam": (
        keras.optimizers.Adam,
        {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    ),
}


def get_optimizer(
    name,
    learning_rate=1e-3,
    *,
    clipvalue=None,
    clipnorm=None,
    **overrides,
):
    """Builds one of the course's optimizers by name.

    Args:
        name: one of ``OPTIMIZERS``: ``"sgd"`` (plain gradient descent),
            ``"momentum"`` (SGD, momentum 0.9), ``"nesterov"`` (SGD, momentum
            0.9, Nesterov), ``"adagrad"``, ``"rmsprop"`` (rho 0.9) or
            ``"adam"`` (beta_1 0.9, beta_2 0.999, epsilon 1e-7).
        learning_rate: a positive float or a
            ``keras.optimizers.schedules.LearningRateSchedule``.
        clipvalue: if set, clip each gradient element to ``[-clipvalue,
            clipvalue]`` (gradient clipping).
        clipnorm: if set, rescale each weight's gradient to at most this L2
            norm. At most one of ``clipvalue`` and ``clipnorm`` may be set.
        **overrides: other keyword arguments of the Keras optimizer class
            (e.g. ``momentum=0.95``, ``weight_decay=1e-4``); they replace the
            course's defaults.

    Returns:
        A fresh ``keras.optimizers.Optimizer``.

    References:
        DSE 3151, "Faster Optimizers" (SGD with momentum, Nesterov momentum,
        Adagrad, RMSProp, Adam); gradient clipping.
    """
    key = name.lower().strip() if isinstance(name, str) else None
    if key not in _SPECS:
        raise ValueError(
            f"Unknown optimizer. Received: name={name!r}. "
            f"Valid names: {', '.join(OPTIMIZERS)}."
        )
    _check_learning_rate(learning_rate)
    for arg, value in (("clipvalue", clipvalue), ("clipnorm", clipnorm)):
        if value is not None and not _is_positive(value):
            raise ValueError(
                f"{arg} must be a positive number or None. Received: {arg}={value!r}"
            )
    if clipvalue is not None and clipnorm is not None:
        raise ValueError(
            "Set at most one of clipvalue and clipnorm. "
            f"Received: clipvalue={clipvalue}, clipnorm={clipnorm}"
        )
    cls, defaults = _SPECS[key]
    accepted = _accepted_arguments(cls)
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise ValueError(
            f"Unknown argument(s) for optimizer {key!r} ({cls.__name__}): "
            f"{', '.join(unknown)}. Accepted: {', '.join(sorted(accepted))}."
        )
    kwargs = {**defaults, **overrides}
    return cls(
        learning_rate=learning_rate, clipvalue=clipvalue, clipnorm=clipnorm, **kwargs
    )


def _check_learning_rate(learning_rate):
    """Raises ValueError unless the rate is a positive number or a schedule."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return
    if not _is_positive(learning_rate):
        raise ValueError(
            "learning_rate must be a positive float or a "
            "keras.optimizers.schedules.LearningRateSchedule. "
            f"Received: learning_rate={learning_rate!r}"
        )


def _is_positive(value):
    """True for a finite real number > 0 (bools excluded)."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and 0 < float(value) < float("inf")
    )


def _accepted_arguments(cls):
    """Keyword arguments the optimizer class accepts besides the learning rate."""
    params = inspect.signature(cls.__init__).parameters.values()
    names = {
        p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return names - {"self", "learning_rate", "clipvalue", "clipnorm"}
