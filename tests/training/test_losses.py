"""SmoothedSparseCrossentropy against Keras's loss and a hand computation."""

import keras
import numpy as np
import pytest

from dltoolkit.training.losses import SmoothedSparseCrossentropy

PROBS = np.array(
    [
        [[0.7, 0.1, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]],
        [[0.1, 0.1, 0.1, 0.7], [0.4, 0.3, 0.2, 0.1], [0.1, 0.6, 0.2, 0.1]],
    ],
    np.float32,
)
LABELS = np.array([[2, 1, 0], [3, 0, 0]])  # 0 is padding


def test_without_smoothing_it_is_keras_sparse_crossentropy_ignoring_padding():
    ours = SmoothedSparseCrossentropy(0.0, ignore_class=0)(LABELS, PROBS)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
    assert float(ours) == pytest.approx(float(keras_loss(LABELS, PROBS)), rel=1e-5)


def test_smoothing_by_hand():
    eps = 0.1
    kept = [(0, 0), (0, 1), (1, 0)]
    expected = np.mean(
        [
            (1 - eps) * -np.log(PROBS[b, t, LABELS[b, t]])
            + eps * -np.log(PROBS[b, t]).mean()
            for b, t in kept
        ]
    )
    ours = SmoothedSparseCrossentropy(eps, ignore_class=0)(LABELS, PROBS)
    assert float(ours) == pytest.approx(expected, rel=1e-5)


def test_from_logits_equals_probabilities():
    logits = np.log(PROBS)
    a = SmoothedSparseCrossentropy(0.2, ignore_class=0, from_logits=True)
    b = SmoothedSparseCrossentropy(0.2, ignore_class=0)
    assert float(a(LABELS, logits)) == pytest.approx(float(b(LABELS, PROBS)), rel=1e-5)


def test_all_padding_costs_nothing():
    loss = SmoothedSparseCrossentropy(0.1, ignore_class=0)(np.zeros((2, 3)), PROBS)
    assert float(loss) == 0.0


def test_config_round_trip_and_bad_smoothing():
    loss = SmoothedSparseCrossentropy(0.1, ignore_class=0)
    again = SmoothedSparseCrossentropy.from_config(loss.get_config())
    assert again.label_smoothing == 0.1 and again.ignore_class == 0
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
        SmoothedSparseCrossentropy(1.0)
