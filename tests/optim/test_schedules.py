"""Learning-rate schedules: formulas, Keras classes, saving, performance cuts."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.optim import (
    SCHEDULES,
    ExponentialSchedule,
    PerformanceScheduler,
    PiecewiseConstantSchedule,
    PowerSchedule,
    exponential_lr,
    get_optimizer,
    piecewise_constant_lr,
    power_lr,
)

STEPS = [0, 1, 5, 10, 30, 100]


def keras_values(schedule, steps):
    return [float(schedule(tf.constant(s, dtype=tf.int64))) for s in steps]


def test_schedule_names():
    assert SCHEDULES == ("constant", "power", "exponential", "piecewise", "performance")


# === Pure functions against hand-computed numbers ===


def test_power_lr_by_hand():
    assert power_lr(0, 0.1, k=10) == pytest.approx(0.1)
    assert power_lr(10, 0.1, k=10) == pytest.approx(0.05)  # eta_0 / 2 after k
    assert power_lr(20, 0.1, k=10) == pytest.approx(0.1 / 3)
    assert power_lr(10, 0.1, k=10, c=2.0) == pytest.approx(0.025)


def test_exponential_lr_by_hand():
    assert exponential_lr(0, 0.01, s=20) == pytest.approx(0.01)
    assert exponential_lr(20, 0.01, s=20) == pytest.approx(0.001)  # /10 every s
    assert exponential_lr(40, 0.01, s=20) == pytest.approx(1e-4)
    assert exponential_lr(10, 0.01, s=20) == pytest.approx(0.01 / math.sqrt(10))


def test_piecewise_constant_lr_by_hand():
    boundaries, values = [5, 55], [0.1, 0.001, 1e-4]
    got = [piecewise_constant_lr(s, boundaries, values) for s in [0, 4, 5, 54, 55, 99]]
    assert got == [0.1, 0.1, 0.001, 0.001, 1e-4, 1e-4]


# === Keras classes against the pure functions ===


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
def test_power_schedule_matches_formula(power):
    schedule = PowerSchedule(0.1, decay_steps=10, power=power)
    expected = [power_lr(s, 0.1, 10, power) for s in STEPS]
    np.testing.assert_allclose(keras_values(schedule, STEPS), expected, rtol=1e-6)


def test_exponential_schedule_matches_formula():
    schedule = ExponentialSchedule(0.01, decay_steps=20)
    expected = [exponential_lr(s, 0.01, 20) for s in STEPS]
    np.testing.assert_allclose(keras_values(schedule, STEPS), expected, rtol=1e-6)


def test_piecewise_schedule_matches_formula():
    schedule = PiecewiseConstantSchedule([5, 30], [0.1, 0.01, 0.001])
    steps = [0, 4, 5, 29, 30, 100]
    expected = [piecewise_constant_lr(s, [5, 30], [0.1, 0.01, 0.001]) for s in steps]
    np.testing.assert_allclose(keras_values(schedule, steps), expected, rtol=1e-6)
    assert expected == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]


def test_piecewise_schedule_boundaries_in_epochs():
    schedule = PiecewiseConstantSchedule([2, 3], [1.0, 0.5, 0.25], steps_per_epoch=10)
    steps = [0, 19, 20, 29, 30]
    np.testing.assert_allclose(keras_values(schedule, steps), [1, 1, 0.5, 0.5, 0.25])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: piecewise_constant_lr(0, [5, 5], [1, 2, 3]), "strictly increasing"),
        (lambda: piecewise_constant_lr(0, [5, 2], [1, 2, 3]), "strictly increasing"),
        (lambda: piecewise_constant_lr(0, [5], [1, 2, 3]), "one more entry"),
        (
            lambda: PiecewiseConstantSchedule([1], [1, 2], steps_per_epoch=0),
            "steps_per",
        ),
        (lambda: PowerSchedule(0.1, decay_steps=0), "decay_steps=0"),
        (lambda: ExponentialSchedule(-0.1, decay_steps=5), "initial_learning_rate"),
        (lambda: power_lr(1, 0.1, k=-1), "k=-1"),
    ],
)
def test_bad_schedule_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# === Saving a compiled model with each schedule ===


def tiny_model(learning_rate):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=get_optimizer("momentum", learning_rate), loss="mse")
    return model


def tiny_data(n=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


@pytest.mark.parametrize(
    "schedule",
    [
        PowerSchedule(0.05, decay_steps=4, power=1.5),
        ExponentialSchedule(0.05, decay_steps=8),
        PiecewiseConstantSchedule([1, 2], [0.05, 0.01, 0.001], steps_per_epoch=4),
    ],
    ids=["power", "exponential", "piecewise"],
)
def test_model_with_schedule_saves_and_reloads(tmp_path, schedule):
    model = tiny_model(schedule)
    model.fit(*tiny_data(), batch_size=4, epochs=2, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    reloaded = restored.optimizer._learning_rate
    assert type(reloaded) is type(schedule)
    assert reloaded.get_config() == schedule.get_config()
    assert int(restored.optimizer.iterations) == 8
    np.testing.assert_allclose(
        keras_values(reloaded, STEPS), keras_values(schedule, STEPS), rtol=1e-6
    )


# === Performance scheduling ===


class FakeModel:
    def __init__(self, learning_rate):
        self.optimizer = get_optimizer("sgd", learning_rate)


def drive(scheduler, values, learning_rate=1.0, key="val_loss"):
    """Feeds one metric value per epoch; returns the lr after each epoch."""
    scheduler.set_model(FakeModel(learning_rate))
    scheduler.on_train_begin()
    lrs, logged = [], []
    for epoch, value in enumerate(values):
        logs = {key: value}
        scheduler.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
        lrs.append(float(np.asarray(scheduler.model.optimizer.learning_rate)))
    return lrs, logged


def test_performance_cuts_after_patience_epochs_without_improvement():
    scheduler = PerformanceScheduler(factor=0.5, patience=2)
    # improves, improves, stalls, stalls -> cut; stalls, stalls -> cut; improves.
    lrs, logged = drive(scheduler, [1.0, 0.8, 0.9, 0.85, 0.8, 0.81, 0.7])
    np.testing.assert_allclose(lrs, [1, 1, 1, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(logged, [1, 1, 1, 1, 0.5, 0.5, 0.25])
    assert scheduler.wait == 0 and scheduler.best == pytest.approx(0.7)


def test_performance_respects_min_lr_and_max_mode():
    scheduler = PerformanceScheduler(
        "val_accuracy", factor=0.1, patience=1, min_lr=0.05
    )
    assert scheduler.maximize
    lrs, _ = drive(scheduler, [0.5, 0.6, 0.6, 0.4, 0.55], key="val_accuracy")
    np.testing.assert_allclose(lrs, [1, 1, 0.1, 0.05, 0.05])


@pytest.mark.parametrize(
    "monitor, maximize",
    [
        ("val_loss", False),
        ("val_accuracy", True),
        ("acc", True),
        ("auc_1", True),
        ("val_sparse_categorical_accuracy", True),
        ("mae", False),
    ],
)
def test_performance_infers_the_mode(monitor, maximize):
    assert PerformanceScheduler(monitor).maximize is maximize


def test_performance_missing_monitor_names_the_available_keys():
    scheduler = PerformanceScheduler("val_loss")
    scheduler.set_model(FakeModel(0.1))
    with pytest.raises(ValueError, match=r"'val_loss'.*\['accuracy', 'loss'\]"):
        scheduler.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})


def test_performance_rejects_a_scheduled_optimizer():
    scheduler = PerformanceScheduler()
    scheduler.set_model(FakeModel(PowerSchedule(0.1, 10)))
    with pytest.raises(ValueError, match="float learning rate"):
        scheduler.on_train_begin()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"factor": 1.0}, "factor=1.0"),
        ({"patience": -1}, "patience=-1"),
        ({"mode": "up"}, "Valid modes"),
        ({"min_lr": -1.0}, "min_lr=-1.0"),
    ],
)
def test_performance_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PerformanceScheduler(**kwargs)


def test_performance_training_cuts_lr_and_model_reloads(tmp_path):
    x, y = tiny_data()
    model = tiny_model(0.01)
    # Validation targets are noise, so val_loss soon stops improving.
    x_val = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y_val = np.random.default_rng(2).normal(size=(8, 1)).astype("float32") * 10
    scheduler = PerformanceScheduler(factor=0.5, patience=1)
    history = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=6,
        batch_size=8,
        callbacks=[scheduler],
        verbose=0,
    )
    logged = history.history["learning_rate"]
    assert logged[0] == pytest.approx(0.01) and min(logged) < 0.01
    final_lr = float(np.asarray(model.optimizer.learning_rate))
    assert final_lr < 0.01
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert float(np.asarray(restored.optimizer.learning_rate)) == pytest.approx(
        final_lr
    )
