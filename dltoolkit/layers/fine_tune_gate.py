"""An identity layer that lets gradients through only once it is opened."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class FineTuneGate(keras.layers.Layer):
    """Identity forward; the gradient is multiplied by ``open`` (0 or 1).

    Placed after a pretrained backbone whose top layers are trainable, it keeps
    them frozen (zero gradient) until a callback opens it, without changing
    the trainable variables: the optimizer, its checkpoints and the compiled
    train step stay the same, so fine-tuning starts mid-``fit`` and survives
    resume (``open`` is a saved, non-trainable weight).
    """

    def build(self, input_shape):
        self.open = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="open"
        )
        self.built = True

    def call(self, inputs):
        gate = ops.cast(self.open, inputs.dtype)
        return inputs * gate + ops.stop_gradient(inputs) * (1.0 - gate)

    def compute_output_shape(self, input_shape):
        return input_shape
