"""The MLP solves XOR: by the course's hand-set weights and by training."""

import keras
import numpy as np

from dltoolkit.models import get_builder

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
XOR = np.array([0, 1, 1, 0], dtype="float32")


def test_hand_set_solution_outputs_xor_exactly():
    model = get_builder("mlp")(
        (2,), 1, hidden_units=(2,), activation="relu", classifier_activation="linear"
    )
    # DSE 3151, "Solving XOR": h = relu(W^T x + c), y = w^T h + b.
    W = np.array([[1, 1], [1, 1]], dtype="float32")
    c = np.array([0, -1], dtype="float32")
    w = np.array([[1], [-2]], dtype="float32")
    b = np.array([0], dtype="float32")
    model.get_layer("dense_1").set_weights([W, c])
    model.get_layer("predictions").set_weights([w, b])
    out = keras.ops.convert_to_numpy(model(X, training=False))
    np.testing.assert_array_equal(out[:, 0], XOR)


def test_training_learns_xor():
    model = get_builder("mlp")(
        (2,),
        1,
        hidden_units=(8,),
        activation="tanh",
        kernel_initializer="glorot_uniform",
        classifier_activation="sigmoid",
    )
    model.compile(keras.optimizers.Adam(learning_rate=0.05), "binary_crossentropy")
    # 300 full-batch Adam steps: the four examples repeated, one batch a step.
    model.fit(np.tile(X, (60, 1)), np.tile(XOR, 60), epochs=5, batch_size=4, verbose=0)
    predictions = keras.ops.convert_to_numpy(model(X, training=False))[:, 0]
    np.testing.assert_array_equal(np.round(predictions), XOR)
