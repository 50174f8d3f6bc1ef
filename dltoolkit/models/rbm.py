"""Restricted Boltzmann machine: binary units, CD-k, Gibbs sampling, free energy.

The energy of a joint configuration of visible ``v`` and hidden ``h`` binary
units is ``E(v, h) = -b'v - c'h - v'W h`` and ``P(v, h) = exp(-E) / Z``. The
units of one layer are independent given the other:
``P(h_j = 1 | v) = sigmoid(c_j + v'W_:j)`` and
``P(v_i = 1 | h) = sigmoid(b_i + W_i: h)``. Summing ``h`` out gives the free
energy ``F(v) = -b'v - sum_j softplus(c_j + v'W_:j)``, ``P(v) = exp(-F(v)) / Z``.

Contrastive divergence CD-k follows the log-likelihood gradient
``-dF(v_data)/dtheta + E_model[dF(v)/dtheta]`` with the model expectation
replaced by ``v_k``, the end of a k-step Gibbs chain started at the data: the
train step minimizes ``mean F(v_0) - mean F(v_k)`` with ``v_k`` held constant.

References:
    E9 309, "Unsupervised learning: Restricted Boltzmann
    Machines", "Boltzmann machine" (learning by maximizing likelihood);
    Hinton, "Training Products of Experts by Minimizing Contrastive
    Divergence", Neural Computation 2002; Hinton, "A Practical Guide to
    Training Restricted Boltzmann Machines", 2010.
"""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from dltoolkit.models.registry import register

# Exact partition functions enumerate 2**n states of the smaller layer.
MAX_ENUMERATED_UNITS = 20


def check_binary_data(x, what: str = "data") -> np.ndarray:
    """Returns ``x`` as float32 after checking it is finite and in [0, 1].

    Raises:
        ValueError: NaN or infinite values, or values outside [0, 1].
    """
    x = np.asarray(x, dtype="float32")
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} holds {int(bad.sum())} NaN or infinite values "
            f"(first at index {first}); an RBM takes values in [0, 1]."
        )
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"{what} must lie in [0, 1] (binary units, or their probabilities). "
            f"Received values in [{x.min():g}, {x.max():g}]."
        )
    return x


@keras.saving.register_keras_serializable(package="dltoolkit")
class RBM(keras.Model):
    """A binary-binary RBM trained by CD-k with ``model.fit``.

    ``fit`` takes batches of visible vectors (or images, flattened) with
    values in [0, 1] (probabilities are sampled to binary states for the
    chain) and logs ``loss`` (the CD objective ``F(v_0) - F(v_k)``) and
    ``reconstruction_mse`` (``v_0`` against ``P(v | h_0)``). Calling the
    model gives the mean-field reconstruction ``P(v | P(h | v))``.

    Args:
        visible_shape: shape of one visible example (flattened inside).
        hidden_units: number of hidden units.
        k: Gibbs steps of CD-k.
        seed: seed of the Gibbs sampler.
    """

    def __init__(self, visible_shape, hidden_units=64, k=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        visible_shape = (
            (visible_shape,) if isinstance(visible_shape, int) else tuple(visible_shape)
        )
        if not visible_shape or any(
            (not isinstance(d, int)) or d < 1 for d in visible_shape
        ):
            raise ValueError(
                f"visible_shape must be positive integers. Received: {visible_shape}"
            )
        if not isinstance(hidden_units, int) or hidden_units < 1:
            raise ValueError(
                f"hidden_units must be a positive integer. Received: {hidden_units!r}"
            )
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer. Received: k={k!r}")
        self.visible_shape = visible_shape
        self.visible_units = math.prod(visible_shape)
        self.hidden_units = hidden_units
        self.k = k
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernel = self.add_weight(
            shape=(self.visible_units, hidden_units),
            initializer=keras.initializers.RandomNormal(stddev=0.01, seed=seed),
            name="kernel",
        )
        self.visible_bias = self.add_weight(
            shape=(self.visible_units,), initializer="zeros", name="visible_bias"
        )
        self.hidden_bias = self.add_weight(
            shape=(hidden_units,), initializer="zeros", name="hidden_bias"
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mse_tracker = keras.metrics.Mean(name="reconstruction_mse")
        self.built = True

    def build(self, input_shape=None):
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.mse_tracker]

    # === Conditionals, energies, sampling ===

    def _flat(self, v):
        return ops.reshape(ops.cast(v, "float32"), (-1, self.visible_units))

    def hidden_probabilities(self, v):
        """``P(h = 1 | v)``: ``(batch, hidden)``."""
        return ops.sigmoid(ops.matmul(self._flat(v), self.kernel) + self.hidden_bias)

    def visible_probabilities(self, h):
        """``P(v = 1 | h)``: ``(batch, visible)``."""
        return ops.sigmoid(
            ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias
        )

    def sample_bernoulli(self, p):
        """Binary states with ``P(1) = p``."""
        u = keras.random.uniform(ops.shape(p), seed=self.seed_generator)
        return ops.cast(u < p, "float32")

    def energy(self, v, h):
        """``E(v, h) = -b'v - c'h - v'W h`` per example."""
        v, h = self._flat(v), ops.cast(h, "float32")
        return (
            -ops.sum(v * self.visible_bias, axis=-1)
            - ops.sum(h * self.hidden_bias, axis=-1)
            - ops.sum(ops.matmul(v, self.kernel) * h, axis=-1)
        )

    def free_energy(self, v):
        """``F(v) = -b'v - sum_j softplus(c_j + v'W_:j)`` per example."""
        v = self._flat(v)
        hidden = ops.matmul(v, self.kernel) + self.hidden_bias
        return -ops.sum(v * self.visible_bias, axis=-1) - ops.sum(
            ops.softplus(hidden), axis=-1
        )

    def gibbs_step(self, v):
        """One alternating update ``v -> h ~ P(h | v) -> v' ~ P(v | h)``."""
        h = self.sample_bernoulli(self.hidden_probabilities(v))
        return self.sample_bernoulli(self.visible_probabilities(h))

    def gibbs_chain(self, v, steps: int):
        """Binary visible states after ``steps`` Gibbs steps from ``v``."""
        v = self._flat(v)
        return ops.fori_loop(0, steps, lambda i, s: self.gibbs_step(s), v)

    def sample(self, count: int, steps: int = 1000):
        """``count`` visible samples: Gibbs chains of ``steps`` steps from noise."""
        start = self.sample_bernoulli(ops.full((count, self.visible_units), 0.5))
        chain = tf.function(lambda v: self.gibbs_chain(v, steps))
        return ops.reshape(chain(start), (count, *self.visible_shape))

    # === Keras ===

    def call(self, inputs, training=None):
        recon = self.visible_probabilities(self.hidden_probabilities(inputs))
        return ops.reshape(recon, (-1, *self.visible_shape))

    @staticmethod
    def _inputs(data):
        return data[0] if isinstance(data, (tuple, list)) else data

    def _cd_terms(self, data):
        v0 = self._flat(self._inputs(data))
        start = self.sample_bernoulli(v0)  # probabilities -> binary states
        vk = ops.stop_gradient(self.gibbs_chain(start, self.k))
        recon = self.visible_probabilities(self.hidden_probabilities(v0))
        return v0, vk, recon

    def train_step(self, data):
        v0, vk, recon = self._cd_terms(data)
        with tf.GradientTape() as tape:
            loss = ops.mean(self.free_energy(v0)) - ops.mean(self.free_energy(vk))
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(loss / replicas)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._update(loss, v0, recon)

    def test_step(self, data):
        v0, vk, recon = self._cd_terms(data)
        loss = ops.mean(self.free_energy(v0)) - ops.mean(self.free_energy(vk))
        return self._update(loss, v0, recon)

    def _update(self, loss, v0, recon):
        self.loss_tracker.update_state(loss)
        self.mse_tracker.update_state(ops.mean(ops.square(v0 - recon)))
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "visible_shape": self.visible_shape,
                "hidden_units": self.hidden_units,
                "k": self.k,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["visible_shape"] = tuple(config["visible_shape"])
        return cls(**config)


# === Exact quantities of a tiny RBM, by enumeration ===


def _states(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)), dtype="float32")


def log_partition(rbm: RBM) -> float:
    """``log Z``, enumerating the states of the smaller layer.

    Raises:
        ValueError: both layers have more than ``MAX_ENUMERATED_UNITS`` units.
    """
    n = min(rbm.visible_units, rbm.hidden_units)
    if n > MAX_ENUMERATED_UNITS:
        raise ValueError(
            f"log_partition enumerates 2**n states of the smaller layer; n={n} "
            f"exceeds {MAX_ENUMERATED_UNITS}."
        )
    w = ops.convert_to_numpy(rbm.kernel).astype("float64")
    b = ops.convert_to_numpy(rbm.visible_bias).astype("float64")
    c = ops.convert_to_numpy(rbm.hidden_bias).astype("float64")
    if rbm.visible_units <= rbm.hidden_units:
        v = _states(rbm.visible_units).astype("float64")
        neg_f = v @ b + np.logaddexp(0.0, v @ w + c).sum(axis=1)
    else:  # sum the visible units out instead
        h = _states(rbm.hidden_units).astype("float64")
        neg_f = h @ c + np.logaddexp(0.0, h @ w.T + b).sum(axis=1)
    top = neg_f.max()
    return float(top + np.log(np.exp(neg_f - top).sum()))


def log_likelihood(rbm: RBM, v) -> float:
    """Mean exact ``log P(v) = -F(v) - log Z`` of binary visible vectors."""
    v = check_binary_data(v, "visible data").reshape(-1, rbm.visible_units)
    free = ops.convert_to_numpy(rbm.free_energy(v)).astype("float64")
    return float(np.mean(-free) - log_partition(rbm))


@register("rbm", family="rbm")
def build_rbm(
    input_shape, num_classes=None, *, hidden_units=64, k=1, seed=None, name="rbm"
):
    """Builds an :class:`RBM` over ``input_shape`` binary visible units.

    Compile it with an optimizer only (plain ``SGD`` is the classic choice);
    ``fit(x)`` runs CD-k.

    Args:
        input_shape: shape of one visible example.
        num_classes: must be None.
        hidden_units: number of binary hidden units.
        k: Gibbs steps of CD-k.
        seed: seed of the Gibbs sampler and the initial weights.
        name: model name.
    """
    if num_classes is not None:
        raise ValueError(
            "rbm models its input and has no classes: pass num_classes=None. "
            f"Received: num_classes={num_classes!r}"
        )
    return RBM(input_shape, hidden_units=hidden_units, k=k, seed=seed, name=name)
