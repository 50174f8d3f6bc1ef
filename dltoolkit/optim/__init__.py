"""The course's training methods: optimizers, schedules, search, diagnosis."""

from dltoolkit.optim.config import OptimizerConfig, make_optimizer
from dltoolkit.optim.diagnosis import Diagnosis, diagnose, plot_learning_curves
from dltoolkit.optim.lr_search import LRSearchResult, find_learning_rate
from dltoolkit.optim.optimizers import OPTIMIZERS, get_optimizer
from dltoolkit.optim.schedules import (
    SCHEDULES,
    ExponentialSchedule,
    PerformanceScheduler,
    PiecewiseConstantSchedule,
    PowerSchedule,
    exponential_lr,
    piecewise_constant_lr,
    power_lr,
)

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "Diagnosis",
    "ExponentialSchedule",
    "LRSearchResult",
    "OptimizerConfig",
    "PerformanceScheduler",
    "PiecewiseConstantSchedule",
    "PowerSchedule",
    "diagnose",
    "exponential_lr",
    "find_learning_rate",
    "get_optimizer",
    "make_optimizer",
    "piecewise_constant_lr",
    "plot_learning_curves",
    "power_lr",
]
