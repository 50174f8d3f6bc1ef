"""A pretrained network's own input preprocessing, as a saved layer."""

from __future__ import annotations

import keras
from keras import ops

# The modes of keras.applications' preprocess_input functions
# (keras.applications.imagenet_utils): "none" for the networks that carry their
# own rescaling inside (EfficientNet, ConvNeXt, MobileNetV3, RegNet, ...).
MODES = ("none", "tf", "torch", "caffe")
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="dltoolkit")
class ImagePreprocessing(keras.layers.Layer):
    """``(B, H, W, 3)`` RGB images -> the input a pretrained network expects.

    The input is scaled by ``scale`` to 0-255 pixels (``scale=255`` for
    images in [0, 1]), then transformed as the network's
    ``preprocess_input`` does: ``"tf"`` to [-1, 1], ``"torch"`` to [0, 1]
    normalized by the ImageNet mean and deviation, ``"caffe"`` to BGR minus
    the ImageNet mean, ``"none"`` unchanged. Inside the model, so a SavedModel
    export still takes raw pixels.

    Args:
        mode: one of ``MODES``.
        scale: factor to 0-255 pixels.
    """

    def __init__(self, mode="none", scale=255.0, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(
                f"Unknown preprocessing mode. Received: mode={mode!r}. "
                f"Valid modes: {', '.join(MODES)}."
            )
        self.mode = mode
        self.scale = float(scale)

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype) * self.scale
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, self.compute_dtype)
            std = ops.convert_to_tensor(_TORCH_STD, self.compute_dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "caffe":
            mean = ops.convert_to_tensor(_CAFFE_MEAN_BGR, self.compute_dtype)
            return ops.flip(x, axis=-1) - mean
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "scale": self.scale}
