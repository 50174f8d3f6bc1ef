"""make_optimizer: every schedule choice gives the right learning rate."""

import dataclasses

import keras
import numpy as np
import pytest

from dltoolkit.optim import (
    OPTIMIZERS,
    SCHEDULES,
    OptimizerConfig,
    PerformanceScheduler,
    exponential_lr,
    make_optimizer,
    power_lr,
)

STEPS_PER_EPOCH = 5
STEPS = [0, 1, 7, 25, 50, 99, 100, 120]


def lr_at(optimizer, steps):
    lr = optimizer._learning_rate
    if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
        return [float(lr(s)) for s in steps]
    return [float(np.asarray(lr))] * len(steps)


def make(**kwargs):
    return make_optimizer(OptimizerConfig(**kwargs), steps_per_epoch=STEPS_PER_EPOCH)


def test_defaults_give_adam_at_a_constant_rate():
    optimizer, callbacks = make()
    assert isinstance(optimizer, keras.optimizers.Adam) and callbacks == []
    np.testing.assert_allclose(lr_at(optimizer, STEPS), 1e-3)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_name(name):
    optimizer, _ = make(optimizer=name, learning_rate=0.02, clipnorm=1.0)
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.02)
    assert optimizer.clipnorm == 1.0


def test_power_schedule_in_epochs():
    optimizer, callbacks = make(
        learning_rate=0.1, schedule="power", decay_epochs=4, decay_power=2.0
    )
    expected = [power_lr(s, 0.1, k=20, c=2.0) for s in STEPS]
    np.testing.assert_allclose(lr_at(optimizer, STEPS), expected, rtol=1e-6)
    assert lr_at(optimizer, [20]) == pytest.approx([0.025])
    assert callbacks == []


def test_exponential_schedule_in_epochs():
    optimizer, _ = make(learning_rate=0.1, schedule="exponential", decay_epochs=10)
    expected = [exponential_lr(s, 0.1, s=50) for s in STEPS]
    np.testing.assert_allclose(lr_at(optimizer, STEPS), expected, rtol=1e-6)
    assert lr_at(optimizer, [50, 100]) == pytest.approx([0.01, 0.001])


def test_piecewise_schedule_in_epochs():
    optimizer, _ = make(
        learning_rate=0.1,
        schedule="piecewise",
        piecewise_boundaries=(10, 20),
        piecewise_factor=0.1,
    )
    np.testing.assert_allclose(
        lr_at(optimizer, [0, 49, 50, 99, 100, 500]),
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
        rtol=1e-6,
    )


def test_performance_schedule_adds_the_callback():
    optimizer, callbacks = make(
        learning_rate=0.1,
        schedule="performance",
        perf_factor=0.2,
        perf_patience=4,
        perf_monitor="val_accuracy",
    )
    np.testing.assert_allclose(lr_at(optimizer, STEPS), 0.1)
    (callback,) = callbacks
    assert isinstance(callback, PerformanceScheduler)
    assert (callback.factor, callback.patience, callback.monitor) == (
        0.2,
        4,
        "val_accuracy",
    )
    assert callback.maximize


def test_every_schedule_name_builds():
    for schedule in SCHEDULES:
        optimizer, _ = make(schedule=schedule)
        assert lr_at(optimizer, [0]) == pytest.approx([1e-3])


def test_accepts_any_object_with_the_fields():
    @dataclasses.dataclass
    class AppConfig(OptimizerConfig):
        epochs: int = 3

    optimizer, _ = make_optimizer(AppConfig(optimizer="rmsprop"), steps_per_epoch=1)
    assert isinstance(optimizer, keras.optimizers.RMSprop)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "lbfgs"}, "optimizer='lbfgs'.*Valid names: sgd"),
        ({"schedule": "cosine"}, "schedule='cosine'.*Valid names: constant, power"),
        ({"learning_rate": 0.0}, "learning_rate=0.0"),
        ({"schedule": "power", "decay_epochs": -1}, "decay_epochs=-1"),
        ({"schedule": "piecewise", "piecewise_boundaries": (20, 10)}, "piecewise_b"),
        ({"schedule": "performance", "perf_factor": 2.0}, "factor=2.0"),
        ({"clipvalue": -1.0}, "clipvalue=-1.0"),
    ],
)
def test_bad_config_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_bad_steps_per_epoch_and_missing_fields():
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        make_optimizer(OptimizerConfig(), steps_per_epoch=0)
    with pytest.raises(ValueError, match="lacks the optimizer setting"):
        make_optimizer(object(), steps_per_epoch=1)
