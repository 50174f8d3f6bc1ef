"""The VAE's reparameterization: z = mu + sigma * eps."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class GaussianSampling(keras.layers.Layer):
    """Draws ``z = mu + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``.

    Called on ``[mu, log_var]``. The randomness enters only through ``eps``,
    so gradients flow to ``mu`` and ``log_var`` (the reparameterization
    trick). With ``training=False`` and ``sample_at_inference=False`` it
    returns ``mu`` (deterministic reconstructions).

    Args:
        sample_at_inference: also sample when not training.
        seed: seed of the ``eps`` sampler.

    References:
        DSE 3151, "Variational Autoencoders": "sample eps ~ N(0, 1),
        and then compute z = mu + sigma * eps"; Kingma and Welling,
        "Auto-Encoding Variational Bayes", ICLR 2014.
    """

    def __init__(self, sample_at_inference=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.sample_at_inference = bool(sample_at_inference)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        mu, log_var = inputs
        if not (training or self.sample_at_inference):
            return mu
        eps = keras.random.normal(
            ops.shape(mu), dtype=mu.dtype, seed=self.seed_generator
        )
        return mu + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {"sample_at_inference": self.sample_at_inference, "seed": self.seed}
        )
        return config
