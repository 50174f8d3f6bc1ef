"""The course's backpropagation worked example (DSE 3151, "Back Propagation"),
trained one step in Keras."""

import keras
import numpy as np
import pytest
from keras import ops

from dltoolkit.optim import get_optimizer

# Unit j of the example's 3-2-1 network: inputs 1-3, hidden 4-5, output 6.
W_HIDDEN = [[0.2, -0.3], [0.4, 0.1], [-0.5, 0.2]]  # w14 w15 / w24 w25 / w34 w35
B_HIDDEN = [-0.4, 0.2]  # theta4, theta5
W_OUT = [[-0.3], [-0.2]]  # w46, w56
B_OUT = [0.1]  # theta6


def half_squared_error(y_true, y_pred):
    """0.5 * (T - O)^2: its gradient gives the course's Err_j = O(1-O)(T-O)."""
    return 0.5 * ops.sum(ops.square(y_true - y_pred), axis=-1)


def build_network():
    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(2, activation="sigmoid", name="hidden")(inputs)
    output = keras.layers.Dense(1, activation="sigmoid", name="output")(hidden)
    model = keras.Model(inputs, output)
    model.get_layer("hidden").set_weights([np.array(W_HIDDEN), np.array(B_HIDDEN)])
    model.get_layer("output").set_weights([np.array(W_OUT), np.array(B_OUT)])
    return model


def test_forward_pass_matches_the_course_example():
    model = build_network()
    x = np.array([[1.0, 0.0, 1.0]])
    hidden = keras.Model(model.input, model.get_layer("hidden").output)
    np.testing.assert_allclose(
        hidden.predict(x, verbose=0), [[0.332, 0.525]], atol=1e-3
    )
    np.testing.assert_allclose(model.predict(x, verbose=0), [[0.474]], atol=1e-3)


@pytest.mark.parametrize(
    "name, layer, index, expected",
    [
        ("w46", "output", (0, 0), -0.261),
        ("w56", "output", (1, 0), -0.138),
        ("w14", "hidden", (0, 0), 0.192),
        ("w15", "hidden", (0, 1), -0.306),
        ("w24", "hidden", (1, 0), 0.4),
        ("w25", "hidden", (1, 1), 0.1),
        ("w34", "hidden", (2, 0), -0.508),
        ("w35", "hidden", (2, 1), 0.194),
        ("t6", "output", (0,), 0.218),
        ("t5", "hidden", (1,), 0.194),
        ("t4", "hidden", (0,), -0.408),
    ],
)
def test_one_sgd_step_matches_the_course_example(
    trained_network, name, layer, index, expected
):
    kernel, bias = trained_network.get_layer(layer).get_weights()
    value = (bias if name.startswith("t") else kernel)[index]
    assert round(float(value), 3) == pytest.approx(expected, abs=1e-9), name


@pytest.fixture
def trained_network():
    model = build_network()
    model.compile(optimizer=get_optimizer("sgd", 0.9), loss=half_squared_error)
    model.train_on_batch(np.array([[1.0, 0.0, 1.0]]), np.array([[1.0]]))
    return model
