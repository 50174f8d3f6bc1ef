"""A dense layer over (sparse) features scaled by fixed per-feature weights."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="dltoolkit")
class ScaledDense(keras.layers.Layer):
    """``(x * r) W + b``: a dense layer on features scaled by a fixed ``r``.

    ``r`` (one value per input feature, not trained) is set after building
    with :meth:`set_scale`; it is a non-trainable weight, so it is saved and
    reloaded with the model. With ``r`` the naive-Bayes log-count ratios of
    binary n-gram features this is the NB-weighted logistic regression of
    Wang and Manning (their NBSVM with a logistic loss). Inputs may be a
    ``tf.SparseTensor`` (the usual case: millions of n-gram features, a few
    hundred present per text) or dense.

    Args:
        units: outputs (class logits, or probabilities with ``activation``).
        activation: applied to the output (e.g. ``"softmax"``).
        dropout: training only: the share of a row's present features
            dropped (the rest scaled by ``1 / (1 - dropout)``).
        l2: weight of the L2 penalty ``l2 * sum(W ** 2)`` on the kernel (the
            scaled features' weights).

    References:
        Wang and Manning, "Baselines and Bigrams: Simple, Good Sentiment and
        Topic Classification", ACL 2012 (section 2.1: ``x~ = r o x``).
    """

    def __init__(self, units, *, activation=None, dropout=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer. Received: {units!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1). Received: {dropout!r}")
        if float(l2) < 0.0:
            raise ValueError(f"l2 must be >= 0. Received: {l2!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.l2 = float(l2)
        self._allow_non_tensor_positional_args = True

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError("ScaledDense needs a known number of input features.")
        self.scale = self.add_weight(
            shape=(features,), initializer="ones", trainable=False, name="scale"
        )
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
        self.kernel = self.add_weight(
            shape=(features, self.units),
            initializer="zeros",
            regularizer=regularizer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer="zeros", name="bias"
        )

    def set_scale(self, values) -> None:
        """Sets ``r``: one value per input feature."""
        values = np.asarray(values, "float32")
        if values.shape != tuple(self.scale.shape):
            raise ValueError(
                f"scale must have shape {tuple(self.scale.shape)}. "
                f"Received: shape={values.shape}"
            )
        self.scale.assign(values)

    def call(self, inputs, training=None):
        weights = tf.expand_dims(tf.convert_to_tensor(self.scale), 1) * self.kernel
        if isinstance(inputs, tf.SparseTensor):
            x = tf.cast(inputs, weights.dtype)
            if training and self.dropout:
                keep = tf.random.uniform(tf.shape(x.values)) >= self.dropout
                x = tf.sparse.retain(x, keep)
                x = x.with_values(x.values / (1.0 - self.dropout))
            out = tf.sparse.sparse_dense_matmul(x, weights)
        else:
            x = tf.cast(inputs, weights.dtype)
            if training and self.dropout:
                x = tf.nn.dropout(x, rate=self.dropout)
            out = tf.matmul(x, weights)
        return self.activation(out + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=keras.activations.serialize(self.activation),
            dropout=self.dropout,
            l2=self.l2,
        )
        return config
