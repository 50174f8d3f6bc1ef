"""A dense layer whose transpose is the decoder of a tied-weight autoencoder."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class TiedDense(keras.layers.Layer):
    """``x W + b`` forward, ``h W^T + c`` with ``transpose=True``.

    The same layer is called twice in an autoencoder: once as the encoder's
    affine map and once, with ``transpose=True``, as the decoder's, so the
    decoder weight is the encoder kernel transposed (W* = W^T) and only the
    biases ``b`` (units) and ``c`` (input size) are separate. A functional
    model saves the two calls as two nodes of one layer, so the tie survives
    ``model.save`` and ``keras.models.load_model``. Activations are applied
    by separate layers.

    Args:
        units: size of the forward output (the code).
        use_bias: add ``b`` forward and ``c`` in the transpose.
        kernel_initializer: initializer of ``W`` (input size x units).

    References:
        DSE 3151, "Regularization in Autoencoders": "Another trick
        is to tie the weights of encoder and decoder (W* = W^T). This
        effectively reduces the number of parameters and acts as a
        regularizer."
    """

    def __init__(
        self, units, *, use_bias=True, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer. Received: {units!r}")
        self.units = units
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        features = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(features, self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), initializer="zeros", name="bias"
            )
            self.decoder_bias = self.add_weight(
                shape=(features,), initializer="zeros", name="decoder_bias"
            )

    def call(self, inputs, transpose=False):
        if transpose:
            # (batch, units) -> (batch, features)
            out = ops.matmul(inputs, ops.transpose(self.kernel))
            return out + self.decoder_bias if self.use_bias else out
        out = ops.matmul(inputs, self.kernel)  # (batch, units)
        return out + self.bias if self.use_bias else out

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
