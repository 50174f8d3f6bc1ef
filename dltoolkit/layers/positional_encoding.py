"""Sinusoidal positional encoding."""

from __future__ import annotations

import keras
from keras import ops


def sinusoidal_encoding(length, depth, max_wavelength=10000.0, dtype="float32"):
    """The ``(length, depth)`` table ``PE(pos, 2i) = sin(pos / w ** (2i / depth))``,
    ``PE(pos, 2i + 1) = cos(pos / w ** (2i / depth))`` with ``w = max_wavelength``.
    """
    position = ops.cast(ops.arange(length), "float32")[:, None]  # (T, 1)
    dims = ops.arange(depth)  # (d,)
    even = ops.cast(dims - dims % 2, "float32")  # 2i for both 2i and 2i + 1
    angle = position / ops.power(max_wavelength, even / float(depth))  # (T, d)
    table = ops.where(dims % 2 == 0, ops.sin(angle), ops.cos(angle))
    return ops.cast(table, dtype)


@keras.saving.register_keras_serializable(package="dltoolkit")
class PositionalEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position encoding to a sequence of vectors.

    ``(batch, time, depth) -> (batch, time, depth)``: the output is
    ``inputs + PE[:time]`` with ``PE`` from :func:`sinusoidal_encoding`. It has
    no weights and works for any length.

    Args:
        max_wavelength: the base ``10000`` of the paper.

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Section 3.5.
        DSE 3151, "Transformers: Positional Encoding": the positional information
        of each token is added to its input embedding.
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        if max_wavelength <= 1:
            raise ValueError(
                f"max_wavelength must be > 1. Received: max_wavelength={max_wavelength}"
            )
        self.max_wavelength = float(max_wavelength)
        self.supports_masking = True

    def call(self, inputs):
        length = ops.shape(inputs)[-2]
        depth = inputs.shape[-1]
        table = sinusoidal_encoding(length, depth, self.max_wavelength, inputs.dtype)
        return inputs + table  # (B, T, d)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
