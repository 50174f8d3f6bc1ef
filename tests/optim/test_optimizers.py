"""get_optimizer: the course's optimizers, defaults and gradient clipping."""

import re

import keras
import numpy as np
import pytest

from dltoolkit.optim import OPTIMIZERS, PowerSchedule, get_optimizer

EXPECTED = {
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


def test_every_name_is_covered():
    assert set(OPTIMIZERS) == set(EXPECTED)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_class_and_course_defaults(name):
    cls, hyper = EXPECTED[name]
    optimizer = get_optimizer(name, 0.05)
    assert type(optimizer) is cls
    config = optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(0.05)
    for key, value in hyper.items():
        assert config[key] == pytest.approx(value), key
    assert config["clipnorm"] is None and config["clipvalue"] is None


def test_overrides_replace_defaults():
    optimizer = get_optimizer("momentum", 0.01, momentum=0.5)
    assert optimizer.get_config()["momentum"] == pytest.approx(0.5)


def test_accepts_a_schedule():
    schedule = PowerSchedule(0.1, decay_steps=10)
    optimizer = get_optimizer("sgd", schedule)
    assert optimizer.get_config()["learning_rate"]["class_name"] == "PowerSchedule"


def one_step(optimizer, gradient):
    variable = keras.Variable(np.zeros(2, dtype="float32"))
    optimizer.apply([np.array(gradient, dtype="float32")], [variable])
    return np.asarray(variable)


def test_clipvalue_clips_each_element():
    optimizer = get_optimizer("sgd", 1.0, clipvalue=0.5)
    assert optimizer.clipvalue == 0.5
    np.testing.assert_allclose(one_step(optimizer, [1e6, -0.1]), [-0.5, 0.1])


def test_clipnorm_rescales_the_gradient():
    optimizer = get_optimizer("sgd", 1.0, clipnorm=1.0)
    assert optimizer.clipnorm == 1.0
    np.testing.assert_allclose(one_step(optimizer, [3e6, 4e6]), [-0.6, -0.8], rtol=1e-5)


def test_without_clipping_a_huge_gradient_takes_a_huge_step():
    np.testing.assert_allclose(one_step(get_optimizer("sgd", 1.0), [1e6, 0]), [-1e6, 0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "adamw"}, "Valid names: sgd, momentum, nesterov"),
        ({"name": "sgd", "learning_rate": -1.0}, "learning_rate=-1.0"),
        ({"name": "sgd", "learning_rate": "fast"}, "learning_rate='fast'"),
        ({"name": "sgd", "clipnorm": 0.0}, "clipnorm=0.0"),
        ({"name": "sgd", "clipnorm": 1.0, "clipvalue": 1.0}, "at most one"),
        ({"name": "adam", "momentum": 0.9}, "Unknown argument(s) for optimizer 'adam'"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        get_optimizer(**kwargs)
