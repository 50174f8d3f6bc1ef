"""Averages the outputs of ensemble members, one of them being trained."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class EnsembleAverage(keras.layers.Layer):
    """``sum_k w_k p_k`` at inference; the first member's ``p_0`` in training.

    The inputs are the class probabilities of the ensemble's members: the
    first is the member being trained, the others were trained before (and
    are frozen). In training the layer passes the first member's output
    through, so the loss fits that member on its own, as if alone (members
    trained separately, then averaged); at inference (validation, evaluation,
    export) it returns the weighted average, so checkpoints and early
    stopping on validation follow the ensemble.

    Args:
        weights: one weight per member (first: the trained one), summing to 1.

    References:
        Mesnil, Mikolov, Ranzato and Bengio, "Ensemble of Generative and
        Discriminative Techniques for Sentiment Analysis of Movie Reviews",
        ICLR 2015 workshop (NB-SVM averaged with neural models on IMDB).
    """

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        weights = [float(w) for w in weights]
        if len(weights) < 2 or min(weights) < 0 or abs(sum(weights) - 1) > 1e-6:
            raise ValueError(
                "weights must be two or more non-negative numbers summing to 1. "
                f"Received: weights={weights}"
            )
        self.member_weights = weights

    def call(self, inputs, training=None):
        if len(inputs) != len(self.member_weights):
            raise ValueError(
                f"EnsembleAverage expects {len(self.member_weights)} inputs. "
                f"Received: {len(inputs)}"
            )
        if training:
            return inputs[0]
        return sum(
            w * ops.cast(p, self.compute_dtype)
            for w, p in zip(self.member_weights, inputs)
        )

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(weights=self.member_weights)
        return config
