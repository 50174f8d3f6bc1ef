"""The contractive autoencoder's encoder layer: h = g(Wx + b) plus ||J||_F^2."""

from __future__ import annotations

import keras
from keras import ops


def _derivative(activation: str, a, h):
    """``g'(a)`` of an elementwise activation, from ``a`` and ``h = g(a)``."""
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "tanh":
        return 1.0 - ops.square(h)
    if activation == "relu":
        return ops.cast(a > 0, a.dtype)
    if activation == "softplus":
        return ops.sigmoid(a)
    return ops.ones_like(a)  # linear


@keras.saving.register_keras_serializable(package="dltoolkit")
class ContractiveDense(keras.layers.Layer):
    """``h = g(x W + b)`` that adds ``lambda * mean ||J_x(h)||_F^2`` to the loss.

    For an elementwise activation the encoder's Jacobian is
    ``J = diag(g'(a)) W^T`` (``a = x W + b``), so
    ``||J||_F^2 = sum_l g'(a_l)^2 sum_j W_jl^2``: exact, with no per-unit
    backward pass. The penalty is averaged over the batch.

    Args:
        units: code size k.
        activation: ``sigmoid``, ``tanh``, ``relu``, ``softplus`` or ``linear``.
        contraction: the penalty weight lambda, >= 0.
        kernel_initializer: initializer of ``W`` (input size x units).

    References:
        DSE 3151, "Contractive Autoencoders":
        ``Omega(theta) = ||J_x(h)||_F^2 = sum_j sum_l (dh_l / dx_j)^2``;
        Rifai et al., "Contractive Auto-Encoders", ICML 2011.
    """

    ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "linear")

    def __init__(
        self,
        units,
        *,
        activation="sigmoid",
        contraction=0.1,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer. Received: {units!r}")
        if activation not in self.ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {activation!r} for a contractive layer. "
                f"Valid: {', '.join(self.ACTIVATIONS)}."
            )
        if contraction < 0:
            raise ValueError(
                f"contraction must be >= 0. Received: contraction={contraction}"
            )
        self.units = units
        self.activation = activation
        self.contraction = float(contraction)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer="zeros", name="bias"
        )

    def _forward(self, inputs):
        a = ops.matmul(inputs, self.kernel) + self.bias  # (batch, units)
        h = a if self.activation == "linear" else getattr(ops, self.activation)(a)
        return a, h

    def _frobenius_squared(self, a, h):
        """``||J_x(h)||_F^2`` per example from ``a`` and ``h``, in float32.

        Under a mixed-precision policy ``a`` and ``h`` are bfloat16/float16;
        the penalty is computed in float32 so that it adds to the float32 loss
        (and keeps its precision).
        """
        a = ops.cast(a, "float32")
        h = ops.cast(h, "float32")
        kernel = ops.cast(self.kernel, "float32")
        slope = _derivative(self.activation, a, h)  # (batch, units)
        column_norms = ops.sum(ops.square(kernel), axis=0)  # (units,)
        return ops.sum(ops.square(slope) * column_norms, axis=-1)

    def jacobian_frobenius_squared(self, inputs):
        """``||J_x(h)||_F^2`` per example: ``(batch,)``, float32."""
        return self._frobenius_squared(*self._forward(inputs))

    def call(self, inputs):
        a, h = self._forward(inputs)
        if self.contraction > 0:
            frobenius = self._frobenius_squared(a, h)
            self.add_loss(self.contraction * ops.mean(frobenius))
        return h

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": self.activation,
                "contraction": self.contraction,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
