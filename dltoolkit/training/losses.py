"""Losses the apps share beyond those Keras has."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy with label smoothing and an ignored id.

    Keras's ``SparseCategoricalCrossentropy`` has ``ignore_class`` but no
    label smoothing. With smoothing ``eps`` over ``V`` classes the target is
    ``(1 - eps)`` on the label plus ``eps / V`` everywhere, so the loss is
    ``(1 - eps) * nll + eps * mean_v(-log p_v)``. Positions whose label is
    ``ignore_class`` (padding) count for nothing: the loss is the mean over the
    other positions of the batch, as Keras's ``ignore_class`` gives.

    Args:
        label_smoothing: ``eps`` in ``[0, 1)``; 0 is plain cross-entropy.
        ignore_class: the label id to skip (padding), or None.
        from_logits: ``y_pred`` are logits rather than probabilities.

    References:
        Szegedy et al., "Rethinking the Inception Architecture for Computer
        Vision", CVPR 2016, Section 7; Vaswani et al., "Attention Is All You
        Need", 2017, Section 5.4 (eps = 0.1 for translation).
    """

    def __init__(
        self,
        label_smoothing=0.0,
        ignore_class=None,
        from_logits=False,
        name="smoothed_sparse_crossentropy",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1). Received: {label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)
        self.ignore_class = ignore_class
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        if self.from_logits:
            log_p = ops.log_softmax(y_pred, axis=-1)
        else:
            log_p = ops.log(ops.clip(y_pred, 1e-7, 1.0))
        labels = ops.cast(y_true, "int32")
        safe = labels
        if self.ignore_class is not None:
            safe = ops.where(labels == self.ignore_class, 0, labels)
        nll = -ops.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
        loss = nll
        if self.label_smoothing:
            eps = self.label_smoothing
            loss = (1.0 - eps) * nll - eps * ops.mean(log_p, axis=-1)
        if self.ignore_class is None:
            return loss
        keep = ops.cast(labels != self.ignore_class, loss.dtype)
        # The reduction averages over every position; scale so that it
        # averages over the kept ones only.
        scale = ops.cast(ops.size(keep), loss.dtype) / ops.maximum(ops.sum(keep), 1.0)
        return loss * keep * scale

    def get_config(self):
        config = super().get_config()
        config.update(
            label_smoothing=self.label_smoothing,
            ignore_class=self.ignore_class,
            from_logits=self.from_logits,
        )
        return config
