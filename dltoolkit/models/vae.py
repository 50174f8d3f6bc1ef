"""Variational autoencoder: Gaussian encoder, reparameterization, ELBO loss."""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers, ops

from dltoolkit.layers.gaussian_sampling import GaussianSampling
from dltoolkit.models.registry import register

RECONSTRUCTIONS = ("bernoulli", "gaussian")


def kl_divergence(mu, log_var):
    """``KL(N(mu, diag(exp(log_var))) || N(0, I))`` per example, in closed form.

    ``-1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)``.

    Args:
        mu, log_var: ``(batch, latent)``.

    Returns:
        ``(batch,)``.
    """
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mu) - ops.exp(log_var), axis=-1)


def reconstruction_loss(x, x_hat, kind: str = "bernoulli"):
    """``-log P(x | z)`` per example, summed over the input's elements.

    Args:
        x: targets, ``(batch, ...)`` (in [0, 1] for ``bernoulli``).
        x_hat: the decoder's means, same shape.
        kind: ``bernoulli`` (cross-entropy) or ``gaussian`` (unit variance:
            ``1/2 ||x - x_hat||^2``, dropping the constant).

    Returns:
        ``(batch,)``.
    """
    x = ops.reshape(ops.cast(x, "float32"), (ops.shape(x)[0], -1))
    x_hat = ops.reshape(ops.cast(x_hat, "float32"), (ops.shape(x_hat)[0], -1))
    if kind == "bernoulli":
        p = ops.clip(x_hat, 1e-7, 1.0 - 1e-7)
        return -ops.sum(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p), axis=-1)
    return 0.5 * ops.sum(ops.square(x - x_hat), axis=-1)


@keras.saving.register_keras_serializable(package="dltoolkit")
class VariationalAutoencoder(keras.Model):
    """A dense VAE trained with ``model.fit`` through its own ``train_step``.

    The encoder maps ``x`` to ``(mu, log_var)`` of ``Q(z | x)``; a sample
    ``z = mu + sigma * eps`` is decoded to the mean of ``P(x | z)``. The loss
    per example is ``-log P(x | z) + beta * KL(Q(z | x) || N(0, I))`` (the
    negative ELBO for ``beta = 1``), averaged over the batch. ``fit`` logs
    ``loss``, ``reconstruction``, ``kl`` and ``mse`` (of the sampled
    reconstruction). Calling the model (``training=False``) decodes ``mu``.

    Args:
        input_shape: shape of one example; images are flattened.
        latent_dim: size of z.
        hidden_units: widths of the encoder's hidden layers; the decoder
            mirrors them.
        activation: of the hidden layers.
        reconstruction: ``bernoulli`` (sigmoid output, cross-entropy) or
            ``gaussian`` (linear output, squared error).
        beta: weight of the KL term.
        seed: seed of ``eps``.

    References:
        DSE 3151, "Variational Autoencoders" (encoder, decoder,
        loss, reparameterization trick); Kingma and Welling, "Auto-Encoding
        Variational Bayes", ICLR 2014.
    """

    def __init__(
        self,
        input_shape,
        latent_dim=2,
        hidden_units=(128,),
        activation="relu",
        reconstruction="bernoulli",
        beta=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        input_shape = tuple(input_shape)
        if not input_shape or any(
            (not isinstance(d, int)) or d < 1 for d in input_shape
        ):
            raise ValueError(
                f"input_shape must be positive integers. Received: {input_shape}"
            )
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(
                f"latent_dim must be a positive integer. Received: {latent_dim!r}"
            )
        hidden_units = (
            (hidden_units,) if isinstance(hidden_units, int) else tuple(hidden_units)
        )
        if any((not isinstance(u, int)) or u < 1 for u in hidden_units):
            raise ValueError(
                f"hidden_units must be positive integers. Received: {hidden_units}"
            )
        if reconstruction not in RECONSTRUCTIONS:
            raise ValueError(
                f"Unknown reconstruction {reconstruction!r}. "
                f"Valid: {', '.join(RECONSTRUCTIONS)}."
            )
        if beta < 0:
            raise ValueError(f"beta must be >= 0. Received: beta={beta}")
        self.image_shape = input_shape
        self.latent_dim = latent_dim
        self.hidden_units = hidden_units
        self.activation = activation
        self.reconstruction = reconstruction
        self.beta = float(beta)
        self.seed = seed
        size = math.prod(input_shape)

        x_in = keras.Input(shape=input_shape, name="inputs")
        x = layers.Flatten(name="flatten")(x_in)
        for i, units in enumerate(hidden_units, start=1):
            x = layers.Dense(units, activation=activation, name=f"encoder_{i}")(x)
        mu = layers.Dense(latent_dim, name="z_mean")(x)
        log_var = layers.Dense(latent_dim, name="z_log_var")(x)
        self.encoder = keras.Model(x_in, [mu, log_var], name="encoder")

        z_in = keras.Input(shape=(latent_dim,), name="z")
        x = z_in
        for i, units in enumerate(reversed(hidden_units), start=1):
            x = layers.Dense(units, activation=activation, name=f"decoder_{i}")(x)
        out = "sigmoid" if reconstruction == "bernoulli" else "linear"
        x = layers.Dense(size, activation=out, dtype="float32", name="x_mean")(x)
        x = layers.Reshape(input_shape, dtype="float32", name="reconstruction")(x)
        self.decoder = keras.Model(z_in, x, name="decoder")
        self.sampling = GaussianSampling(seed=seed, name="sampling")

        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.mse_tracker = keras.metrics.Mean(name="mse")
        self.built = True  # the encoder and decoder hold every weight

    def build(self, input_shape=None):
        self.built = True

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.reconstruction_tracker,
            self.kl_tracker,
            self.mse_tracker,
        ]

    def encode(self, x):
        """``(mu, log_var)`` of ``Q(z | x)``."""
        return self.encoder(x)

    def decode(self, z):
        """The mean of ``P(x | z)``."""
        return self.decoder(z)

    def call(self, inputs, training=None):
        mu, log_var = self.encoder(inputs, training=training)
        return self.decoder(self.sampling([mu, log_var], training=training))

    def terms(self, x, training=True):
        """Per-example ``(reconstruction, kl, x_hat)`` with a sampled z."""
        mu, log_var = self.encoder(x, training=training)
        z = self.sampling([mu, log_var], training=True)
        x_hat = self.decoder(z, training=training)
        # The loss terms in float32 (mu and log_var are bfloat16/float16
        # under a mixed-precision policy; the reconstruction is float32).
        mu, log_var = ops.cast(mu, "float32"), ops.cast(log_var, "float32")
        return (
            reconstruction_loss(x, x_hat, self.reconstruction),
            kl_divergence(mu, log_var),
            x_hat,
        )

    def _update(self, x, loss, recon, kl, x_hat):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(recon))
        self.kl_tracker.update_state(ops.mean(kl))
        x = ops.reshape(ops.cast(x, "float32"), (ops.shape(x)[0], -1))
        x_hat = ops.reshape(x_hat, (ops.shape(x_hat)[0], -1))
        self.mse_tracker.update_state(ops.mean(ops.square(x - x_hat)))
        return {m.name: m.result() for m in self.metrics}

    @staticmethod
    def _inputs(data):
        return data[0] if isinstance(data, (tuple, list)) else data

    def train_step(self, data):
        x = self._inputs(data)
        with tf.GradientTape() as tape:
            recon, kl, x_hat = self.terms(x, training=True)
            loss = ops.mean(recon + self.beta * kl)
            if self.losses:
                loss = loss + ops.sum(self.losses)
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(loss / replicas)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._update(x, loss, recon, kl, x_hat)

    def test_step(self, data):
        x = self._inputs(data)
        recon, kl, x_hat = self.terms(x, training=False)
        loss = ops.mean(recon + self.beta * kl)
        return self._update(x, loss, recon, kl, x_hat)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_shape": self.image_shape,
                "latent_dim": self.latent_dim,
                "hidden_units": self.hidden_units,
                "activation": self.activation,
                "reconstruction": self.reconstruction,
                "beta": self.beta,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        config["hidden_units"] = tuple(config["hidden_units"])
        return cls(**config)


@register("vae", family="autoencoder")
def build_vae(
    input_shape,
    num_classes=None,
    *,
    latent_dim=2,
    hidden_units=(128,),
    activation="relu",
    reconstruction="bernoulli",
    beta=1.0,
    seed=None,
    name="vae",
):
    """Builds a :class:`VariationalAutoencoder` (compile it with no loss).

    Args:
        input_shape: shape of one example.
        num_classes: must be None.
        latent_dim, hidden_units, activation, reconstruction, beta, seed:
            see :class:`VariationalAutoencoder`.
        name: model name.
    """
    if num_classes is not None:
        raise ValueError(
            "vae reconstructs its input and has no classes: pass num_classes=None. "
            f"Received: num_classes={num_classes!r}"
        )
    return VariationalAutoencoder(
        input_shape,
        latent_dim=latent_dim,
        hidden_units=hidden_units,
        activation=activation,
        reconstruction=reconstruction,
        beta=beta,
        seed=seed,
        name=name,
    )
