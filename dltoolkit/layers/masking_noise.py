"""Masking noise: the denoising autoencoder's corruption."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class MaskingNoise(keras.layers.Layer):
    """Sets each input element to 0 with probability ``rate``, in training only.

    Unlike dropout, kept elements are not rescaled: the corruption is the
    course's ``P(x~ = 0 | x) = q``, ``P(x~ = x | x) = 1 - q``. At inference the
    layer is the identity.

    Args:
        rate: the masking probability q, in [0, 1).
        seed: seed of the mask sampler.

    References:
        DSE 3151, "Denoising Autoencoders"; Vincent et al.,
        "Extracting and Composing Robust Features with Denoising
        Autoencoders", ICML 2008.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1). Received: rate={rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator)
        return ops.where(keep >= self.rate, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
