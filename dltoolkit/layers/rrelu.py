"""Randomized leaky ReLU."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU: ``f(x) = x`` for ``x >= 0`` and ``a * x`` otherwise.

    In training the slope ``a`` is drawn per element from ``U(lower, upper)``;
    at inference it is fixed to the mean slope ``(lower + upper) / 2``.

    Args:
        lower: smallest negative slope.
        upper: largest negative slope.
        seed: seed of the slope sampler.

    References:
        Xu et al., "Empirical Evaluation of Rectified Activations in
        Convolutional Network", 2015. DSE 3151, "Randomized leaky ReLU
        (RReLU): alpha is picked randomly in a given range during training and
        is fixed to an average value during testing".
    """

    def __init__(self, lower=1.0 / 8.0, upper=1.0 / 3.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= lower <= upper:
            raise ValueError(
                "RReLU needs 0 <= lower <= upper. "
                f"Received: lower={lower}, upper={upper}"
            )
        self.lower = float(lower)
        self.upper = float(upper)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training:
            slope = keras.random.uniform(
                ops.shape(inputs),
                minval=self.lower,
                maxval=self.upper,
                dtype=inputs.dtype,
                seed=self.seed_generator,
            )
        else:
            slope = ops.cast((self.lower + self.upper) / 2.0, inputs.dtype)
        return ops.where(inputs >= 0, inputs, slope * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"lower": self.lower, "upper": self.upper, "seed": self.seed})
        return config
