"""The sparse autoencoder's KL sparsity penalty, as an identity layer."""

from __future__ import annotations

import keras
from keras import ops

EPSILON = 1e-7


def kl_sparsity(rho, rho_hat):
    """``sum_l rho log(rho / rho_hat_l) + (1 - rho) log((1 - rho) / (1 - rho_hat_l))``.

    Args:
        rho: the target mean activation, in (0, 1).
        rho_hat: ``(units,)`` mean activation of each hidden unit.

    Returns:
        The scalar penalty Omega(theta).
    """
    rho_hat = ops.clip(rho_hat, EPSILON, 1.0 - EPSILON)
    return ops.sum(
        rho * ops.log(rho / rho_hat)
        + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
    )


@keras.saving.register_keras_serializable(package="dltoolkit")
class SparsityPenalty(keras.layers.Layer):
    """Passes sigmoid activations through and adds ``beta * Omega`` to the loss.

    ``Omega = sum_l KL(rho || rho_hat_l)`` with ``rho_hat_l`` the mean
    activation of unit ``l`` over the batch (the course's average over the
    ``m`` training examples, estimated per batch). The penalty is minimal (0)
    when every ``rho_hat_l = rho``. Activations must lie in [0, 1] (sigmoid
    units); the last axis holds the units and every other axis is averaged.

    Args:
        rho: the sparsity parameter, in (0, 1).
        beta: the penalty weight, >= 0.

    References:
        DSE 3151, "Sparse Autoencoders":
        ``L'(theta) = L(theta) + Omega(theta)``.
    """

    def __init__(self, rho=0.05, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < rho < 1.0:
            raise ValueError(f"rho must be in (0, 1). Received: rho={rho}")
        if beta < 0:
            raise ValueError(f"beta must be >= 0. Received: beta={beta}")
        self.rho = float(rho)
        self.beta = float(beta)

    def penalty(self, inputs):
        """``beta * sum_l KL(rho || rho_hat_l)`` of a batch of activations."""
        x = ops.cast(inputs, "float32")
        rho_hat = ops.mean(ops.reshape(x, (-1, ops.shape(x)[-1])), axis=0)
        return self.beta * kl_sparsity(self.rho, rho_hat)

    def call(self, inputs):
        if self.beta > 0:
            self.add_loss(self.penalty(inputs))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "beta": self.beta})
        return config
