"""Appends each position's coordinates to a feature map (CoordConv)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class SpatialCoordinates(keras.layers.Layer):
    """``(B, h, w, d) -> (B, h, w, d + 2)``: adds the row and column in [-1, 1].

    Attention over a CNN feature map returns a weighted sum of features; with
    the coordinates among them, that sum also says *where* the model looked,
    which a decoder needs to state spatial relations ("above", "to the left
    of").

    References:
        Liu et al., "An intriguing failing of convolutional neural networks
        and the CoordConv solution", NeurIPS 2018.
    """

    def call(self, inputs):
        shape = ops.shape(inputs)
        h, w = shape[1], shape[2]
        rows = ops.linspace(-1.0, 1.0, h) if h > 1 else ops.zeros((1,))
        cols = ops.linspace(-1.0, 1.0, w) if w > 1 else ops.zeros((1,))
        grid_r = ops.broadcast_to(rows[:, None], (h, w))
        grid_c = ops.broadcast_to(cols[None, :], (h, w))
        coords = ops.stack([grid_r, grid_c], axis=-1)  # (h, w, 2)
        coords = ops.cast(coords, inputs.dtype)
        coords = ops.broadcast_to(coords[None], (shape[0], h, w, 2))
        return ops.concatenate([inputs, coords], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2)
