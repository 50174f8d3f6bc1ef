"""GAN as in the course: k discriminator steps per generator step.

:class:`GAN` is a ``keras.Model`` whose ``train_step`` runs the course's
algorithm, so ``fit`` (with its callbacks, checkpoints and tf.distribute
strategies) trains it like any other model. The losses are pure functions
of the discriminator's logits, testable on their own. :func:`seeded_noise`
and :func:`interpolate` make the noise the generator is sampled with; the
per-epoch sample grids are
:class:`dltoolkit.training.gan_samples.SampleGridCallback`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

GENERATOR_LOSSES = ("non_saturating", "minimax")


# === Losses ===


def _bce(targets, logits):
    """Elementwise -[t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))], stable."""
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)


def discriminator_loss(real_logits, fake_logits, *, label_smoothing=0.0):
    """The discriminator's loss: the negated value function V(D, G).

    ``-(1/m) sum [log D(x_i) + log(1 - D(G(z_i)))]``, with D = sigmoid(logit).
    One-sided label smoothing (Salimans et al., 2016) replaces the real
    targets 1 by ``1 - label_smoothing``; the fake targets stay 0.

    Args:
        real_logits: ``(m, 1)`` or ``(m,)`` logits of D on real images.
        fake_logits: logits of D on generated images.
        label_smoothing: in [0, 1).

    Returns:
        A float32 scalar.

    References:
        DSE 3151, "Training the GANs", step 6 (the discriminator ascends
        this objective, i.e. descends its negation).
    """
    real_logits = tf.cast(real_logits, tf.float32)
    fake_logits = tf.cast(fake_logits, tf.float32)
    real_targets = tf.fill(tf.shape(real_logits), 1.0 - float(label_smoothing))
    real = tf.reduce_mean(_bce(real_targets, real_logits))
    fake = tf.reduce_mean(_bce(tf.zeros_like(fake_logits), fake_logits))
    return real + fake


def generator_loss(fake_logits, *, kind="non_saturating"):
    """The generator's loss on D's logits for generated images.

    ``"non_saturating"``: ``-(1/m) sum log D(G(z_i))`` (the generator
    maximizes log D(G(z)): strong gradients while D rejects its samples);
    ``"minimax"``: ``(1/m) sum log(1 - D(G(z_i)))``, the value function's own
    term, which saturates when D wins.

    References:
        DSE 3151, "Training the GANs", step 9; "Objective function of
        Generator".
    """
    fake_logits = tf.cast(fake_logits, tf.float32)
    if kind == "non_saturating":
        return tf.reduce_mean(_bce(tf.ones_like(fake_logits), fake_logits))
    if kind == "minimax":
        return -tf.reduce_mean(_bce(tf.zeros_like(fake_logits), fake_logits))
    raise ValueError(
        f"Unknown generator loss {kind!r}. Valid: {', '.join(GENERATOR_LOSSES)}."
    )


# === Model ===


@keras.saving.register_keras_serializable(package="dltoolkit")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Each ``train_step`` takes ``k * m`` real images (``x`` or ``(x, labels)``;
    labels are ignored), makes ``k`` discriminator steps on ``k`` minibatches
    of ``m`` real images and ``m`` fresh generated ones, then one generator
    step on ``m`` fresh noise vectors. ``compile(optimizer)`` gives the
    optimizer to the discriminator and a copy of it (same class, settings and
    schedule, its own state) to the generator, unless ``generator_optimizer``
    is given. Real images are expected in [-1, 1] (the generator's tanh range).

    Logged: ``d_loss``, ``g_loss``, ``loss`` (their sum, which the runner
    watches for divergence), ``d_real`` and ``d_fake`` (mean D(x) and
    D(G(z))). ``test_step`` computes the same on held-out images without
    updates. Calling the model generates images from noise.

    Args:
        generator: ``(batch, latent_dim) -> images`` in [-1, 1].
        discriminator: ``images -> (batch, 1)`` logits.
        k: discriminator steps per generator step.
        label_smoothing: one-sided smoothing of the real targets, in [0, 1).
        generator_loss: ``"non_saturating"`` or ``"minimax"``.
        num_fixed: rows of ``fixed_noise``, the noise of the per-epoch sample
            grids; it is a model variable, so checkpoints keep it.
        seed: seed of ``fixed_noise`` and of the training noise.
        optimizer_settings: optimizer attributes ``compile`` sets on both
            optimizers when they have them, e.g. ``{"beta_1": 0.5}`` (the DCGAN
            paper's Adam momentum) for optimizers made by a shared factory.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014
        (Algorithm 1). DSE 3151, "Training the GANs".
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        k=1,
        label_smoothing=0.0,
        generator_loss="non_saturating",
        num_fixed=64,
        seed=0,
        optimizer_settings=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer. Received: k={k!r}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(
                "label_smoothing must be in [0, 1). "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(
                f"Unknown generator_loss {generator_loss!r}. "
                f"Valid: {', '.join(GENERATOR_LOSSES)}."
            )
        g_out, d_in = tuple(generator.output.shape[1:]), discriminator.input.shape[1:]
        if g_out != tuple(d_in):
            raise ValueError(
                "The generator's output shape must be the discriminator's input "
                f"shape. Received: generator output {g_out}, discriminator input "
                f"{tuple(d_in)}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.input.shape[-1])
        self.image_shape = g_out
        self.k = k
        self.label_smoothing = float(label_smoothing)
        self.generator_loss_kind = generator_loss
        self.num_fixed = num_fixed
        self.seed = seed
        self.optimizer_settings = dict(optimizer_settings or {})
        self.fixed_noise = self.add_weight(
            shape=(num_fixed, self.latent_dim),
            initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed),
            trainable=False,
            name="fixed_noise",
        )
        self.noise_seed = keras.random.SeedGenerator(seed + 1, name="noise_seed")
        self.generator_optimizer = None
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("loss", "d_loss", "g_loss", "d_real", "d_fake")
        }
        self.built = True

    def call(self, z, training=False):
        return self.generator(z, training=training)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """``optimizer`` trains D; ``generator_optimizer=`` (default a copy) G."""
        generator_optimizer = kwargs.pop("generator_optimizer", None)
        if loss is not None or metrics:
            raise ValueError(
                "GAN computes its own losses and metrics; compile it with an "
                f"optimizer only. Received: loss={loss!r}, metrics={metrics!r}"
            )
        super().compile(optimizer=optimizer, **kwargs)
        self._apply_settings(self.optimizer)
        if generator_optimizer is None:
            generator_optimizer = self.optimizer.__class__.from_config(
                self.optimizer.get_config()
            )
        self.generator_optimizer = keras.optimizers.get(generator_optimizer)
        self._apply_settings(self.generator_optimizer)
        # Built now, on each network's own variables, so checkpoints written
        # before and after the first step hold the same optimizer variables.
        self.optimizer.build(self.discriminator.trainable_variables)
        self.generator_optimizer.build(self.generator.trainable_variables)

    def _apply_settings(self, optimizer):
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # loss scaling
        for name, value in self.optimizer_settings.items():
            if hasattr(inner, name):
                setattr(inner, name, value)

    def get_compile_config(self):
        return None  # a reloaded GAN is compiled again by whoever trains it

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "k": self.k,
            "label_smoothing": self.label_smoothing,
            "generator_loss": self.generator_loss_kind,
            "num_fixed": self.num_fixed,
            "seed": self.seed,
            "optimizer_settings": self.optimizer_settings,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        discriminator = keras.saving.deserialize_keras_object(
            config.pop("discriminator")
        )
        return cls(generator, discriminator, **config)

    # === Steps ===

    def _gan_noise(self, m):
        return keras.random.normal((m, self.latent_dim), seed=self.noise_seed)

    def _replica_share(self, loss):
        """The per-replica loss whose gradients, summed over replicas, average."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss

    def _gan_losses(self, real, training):
        """D's and G's losses on one minibatch of real images and m fakes."""
        m = tf.shape(real)[0]
        fake = self.generator(self._gan_noise(m), training=training)
        real_logits = self.discriminator(real, training=training)
        fake_logits = self.discriminator(fake, training=training)
        d_loss = discriminator_loss(
            real_logits, fake_logits, label_smoothing=self.label_smoothing
        )
        g_loss = generator_loss(fake_logits, kind=self.generator_loss_kind)
        return d_loss, g_loss, real_logits, fake_logits

    def _discriminator_step(self, real):
        with tf.GradientTape() as tape:
            d_loss, _, real_logits, fake_logits = self._gan_losses(real, True)
            scaled = self.optimizer.scale_loss(self._replica_share(d_loss))
        variables = self.discriminator.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return d_loss, real_logits, fake_logits

    def _generator_step(self, m):
        with tf.GradientTape() as tape:
            fake = self.generator(self._gan_noise(m), training=True)
            fake_logits = self.discriminator(fake, training=True)
            g_loss = generator_loss(fake_logits, kind=self.generator_loss_kind)
            scaled = self.generator_optimizer.scale_loss(self._replica_share(g_loss))
        variables = self.generator.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.generator_optimizer.apply_gradients(zip(grads, variables))
        return g_loss

    def _real_images(self, data):
        images = data[0] if isinstance(data, (tuple, list)) else data
        images = tf.cast(images, tf.float32)
        tf.debugging.assert_all_finite(
            images, "GAN: the real images hold NaN or infinite values"
        )
        return images

    def train_step(self, data):
        images = self._real_images(data)  # (k * m, h, w, c)
        tf.debugging.assert_greater_equal(
            tf.shape(images)[0],
            self.k,
            message="GAN: a training batch needs at least k real images",
        )
        d_losses = []
        for i in range(self.k):
            real = images[i :: self.k]  # minibatch i: (m, h, w, c)
            d_loss, real_logits, fake_logits = self._discriminator_step(real)
            d_losses.append(d_loss)
        g_loss = self._generator_step(tf.shape(images)[0] // self.k)
        return self._gan_logs(
            tf.add_n(d_losses) / self.k, g_loss, real_logits, fake_logits
        )

    def test_step(self, data):
        d_loss, g_loss, real_logits, fake_logits = self._gan_losses(
            self._real_images(data), False
        )
        return self._gan_logs(d_loss, g_loss, real_logits, fake_logits)

    def _gan_logs(self, d_loss, g_loss, real_logits, fake_logits):
        values = {
            "loss": d_loss + g_loss,
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
            "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32))),
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    # === Sampling ===

    def generate(self, z, batch_size=256) -> np.ndarray:
        """Images in [0, 1] (numpy) for the noise rows ``z``."""
        out = []
        for start in range(0, len(z), batch_size):
            batch = self.generator(z[start : start + batch_size], training=False)
            out.append(keras.ops.convert_to_numpy(batch))
        images = np.concatenate(out) if out else np.zeros((0, *self.image_shape))
        return np.clip((images + 1.0) / 2.0, 0.0, 1.0)


# === Noise ===


def seeded_noise(seed: int, count: int, latent_dim: int):
    """``count`` noise rows that depend only on ``seed`` (stateless, exportable)."""
    seed = tf.cast(seed, tf.int64)
    return tf.random.stateless_normal(
        tf.stack([tf.cast(count, tf.int32), latent_dim]),
        seed=tf.stack([seed, tf.constant(0, tf.int64)]),
    )


def interpolate(z0, z1, steps: int, *, method: str = "slerp") -> np.ndarray:
    """``steps`` points from ``z0`` to ``z1``: spherical (slerp) or linear.

    Slerp keeps the points at the norm a Gaussian sample typically has, where
    linear interpolation passes through low-norm, atypical noise (White, 2016,
    "Sampling Generative Networks").
    """
    z0, z1 = np.asarray(z0, dtype="float64"), np.asarray(z1, dtype="float64")
    if steps < 2:
        raise ValueError(f"steps must be >= 2. Received: steps={steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "linear":
        return ((1 - t) * z0 + t * z1).astype("float32")
    if method != "slerp":
        raise ValueError(f"method must be 'slerp' or 'linear'. Received: {method!r}")
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1) + 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:  # (nearly) parallel: slerp is the linear path
        return ((1 - t) * z0 + t * z1).astype("float32")
    out = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    return out.astype("float32")
