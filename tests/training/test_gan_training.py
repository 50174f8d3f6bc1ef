"""GAN training: the course's losses by hand, k steps, distribution, resume."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.models import get_builder
from dltoolkit.models.gan import (
    GAN,
    discriminator_loss,
    generator_loss,
    interpolate,
    seeded_noise,
)
from dltoolkit.training import runner
from dltoolkit.training.config import TrainConfig
from dltoolkit.training.plots import image_grid

SHAPE = (8, 8, 1)
LN2, LN3 = math.log(2.0), math.log(3.0)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _gan(seed=0, **options):
    keras.utils.set_random_seed(seed)
    generator = get_builder("dcgan_generator")(SHAPE, latent_dim=4, width=4)
    discriminator = get_builder("dcgan_discriminator")(SHAPE, width=4)
    return GAN(generator, discriminator, seed=seed, num_fixed=6, **options)


def _images(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, *SHAPE)).astype("float32")


# === Losses against hand-computed values ===


@pytest.mark.parametrize(
    "real, fake, smoothing, expected",
    [
        # D(x) = D(G(z)) = 0.5: -log 0.5 - log 0.5.
        ([0.0], [0.0], 0.0, 2 * LN2),
        # D(x) = 0.75, D(G(z)) = 0.25: -log 0.75 - log 0.75.
        ([LN3], [-LN3], 0.0, -2 * math.log(0.75)),
        # Real target 0.9: -(0.9 log 0.75 + 0.1 log 0.25) - log 0.75.
        (
            [LN3],
            [-LN3],
            0.1,
            -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)) - math.log(0.75),
        ),
        # Means over the minibatch: real (-log .75 - log .5) / 2, fake -log .5.
        ([LN3, 0.0], [0.0, 0.0], 0.0, (-math.log(0.75) + LN2) / 2 + LN2),
    ],
)
def test_discriminator_loss_by_hand(real, fake, smoothing, expected):
    value = discriminator_loss(
        np.array(real)[:, None], np.array(fake)[:, None], label_smoothing=smoothing
    )
    assert float(value) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "fake, kind, expected",
    [
        ([0.0], "non_saturating", LN2),  # -log 0.5
        ([-LN3], "non_saturating", -math.log(0.25)),
        ([-LN3, LN3], "non_saturating", (-math.log(0.25) - math.log(0.75)) / 2),
        ([0.0], "minimax", -LN2),  # log(1 - 0.5)
        ([-LN3], "minimax", math.log(0.75)),
    ],
)
def test_generator_loss_by_hand(fake, kind, expected):
    value = generator_loss(np.array(fake)[:, None], kind=kind)
    assert float(value) == pytest.approx(expected, rel=1e-6)


def test_losses_match_the_formulas_on_random_logits():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(7, 1)) * 3, rng.normal(size=(5, 1)) * 3
    d_real, d_fake = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    expected = -np.mean(0.8 * np.log(d_real) + 0.2 * np.log(1 - d_real))
    expected -= np.mean(np.log(1 - d_fake))
    value = discriminator_loss(real, fake, label_smoothing=0.2)
    assert float(value) == pytest.approx(expected, rel=1e-5)
    assert float(generator_loss(fake)) == pytest.approx(-np.mean(np.log(d_fake)))


def test_non_saturating_loss_keeps_its_gradient_when_d_wins():
    """D(G(z)) ~ 0: log(1 - D) is flat there, -log D is steep (Goodfellow
    et al. 2014)."""
    logits = tf.constant([[-8.0]])
    grads = {}
    for kind in ("non_saturating", "minimax"):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = generator_loss(logits, kind=kind)
        grads[kind] = float(tape.gradient(loss, logits)[0, 0])
    sigmoid = 1 / (1 + math.exp(8.0))
    assert grads["non_saturating"] == pytest.approx(-(1 - sigmoid), rel=1e-5)
    assert grads["minimax"] == pytest.approx(-sigmoid, rel=1e-4)
    assert abs(grads["non_saturating"]) > 1000 * abs(grads["minimax"])


def test_unknown_generator_loss():
    with pytest.raises(ValueError, match="non_saturating, minimax"):
        generator_loss(tf.zeros((1, 1)), kind="wasserstein")


# === Training steps ===


def test_train_step_logs_the_losses_of_its_minibatches(monkeypatch):
    """With a zero learning rate, the logged losses are the formulas' values."""
    gan = _gan()
    gan.compile(keras.optimizers.SGD(0.0))
    z = np.random.default_rng(5).normal(size=(16, 4)).astype("float32")
    monkeypatch.setattr(gan, "_gan_noise", lambda m: tf.constant(z)[:m])
    x = _images(16)
    logs = gan.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    fake = gan.generator(z, training=True)
    real_logits = gan.discriminator(x, training=True)
    fake_logits = gan.discriminator(fake, training=True)
    d = float(discriminator_loss(real_logits, fake_logits))
    g = float(generator_loss(fake_logits))
    assert logs["d_loss"][0] == pytest.approx(d, rel=1e-4)
    assert logs["g_loss"][0] == pytest.approx(g, rel=1e-4)
    assert logs["loss"][0] == pytest.approx(d + g, rel=1e-4)
    assert logs["d_real"][0] == pytest.approx(
        float(tf.reduce_mean(tf.sigmoid(real_logits))), rel=1e-4
    )


def test_k_discriminator_steps_per_generator_step():
    k = 2
    gan = _gan(k=k)
    gan.compile(keras.optimizers.Adam(1e-3))
    g_before = [_np(v) for v in gan.generator.trainable_variables]
    gan.fit(_images(24), batch_size=12, epochs=1, verbose=0)  # 2 steps
    assert int(_np(gan.optimizer.iterations)) == 2 * k
    assert int(_np(gan.generator_optimizer.iterations)) == 2
    assert gan.generator_optimizer is not gan.optimizer
    changed = [
        not np.allclose(a, _np(b))
        for a, b in zip(g_before, gan.generator.trainable_variables)
    ]
    assert all(changed)


@pytest.mark.serial
def test_runs_under_a_mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        gan = _gan(label_smoothing=0.1)  # k = 1
        gan.compile(keras.optimizers.Adam(1e-3))
    history = gan.fit(_images(32), batch_size=16, epochs=2, verbose=0).history
    assert all(np.isfinite(history["loss"]))
    assert int(_np(gan.optimizer.iterations)) == 4
    assert int(_np(gan.generator_optimizer.iterations)) == 4
    assert _np(gan(np.zeros((3, 4), "float32"))).shape == (3, *SHAPE)


def test_learns_a_constant_image():
    """Real images all 0.5: the generator's samples move to 0.5."""
    gan = _gan(seed=1)
    gan.compile(keras.optimizers.Adam(5e-3, beta_1=0.5))
    x = np.full((64, *SHAPE), 0.5, "float32")
    before = gan.generate(np.random.default_rng(0).normal(size=(64, 4)))
    gan.fit(x, batch_size=32, epochs=40, verbose=0)
    after = gan.generate(np.random.default_rng(0).normal(size=(64, 4)))
    target = 0.75  # 0.5 in [-1, 1] is 0.75 in [0, 1]
    assert abs(after.mean() - target) < 0.1 < abs(before.mean() - target)


def test_nan_in_real_images_is_a_clear_error():
    gan = _gan()
    gan.compile("adam")
    x = _images(8)
    x[3, 2, 2, 0] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or infinite"):
        gan.fit(x, batch_size=8, epochs=1, verbose=0)
    x[3, 2, 2, 0] = np.inf
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or infinite"):
        gan.fit(x, batch_size=8, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"k": 0}, "k must be a positive integer"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"generator_loss": "hinge"}, "generator_loss"),
    ],
)
def test_bad_gan_options(options, match):
    with pytest.raises(ValueError, match=match):
        _gan(**options)


def test_generator_and_discriminator_shapes_must_agree():
    generator = get_builder("dcgan_generator")(SHAPE, latent_dim=4, width=4)
    discriminator = get_builder("dcgan_discriminator")((16, 16, 1), width=4)
    with pytest.raises(ValueError, match=r"generator output \(8, 8, 1\)"):
        GAN(generator, discriminator)


def test_optimizer_settings_reach_both_optimizers():
    gan = _gan(optimizer_settings={"beta_1": 0.5})
    gan.compile(keras.optimizers.Adam(1e-3))
    assert gan.optimizer.beta_1 == gan.generator_optimizer.beta_1 == 0.5
    assert gan.generator_optimizer.get_config()["learning_rate"] == pytest.approx(1e-3)
    plain = _gan()
    plain.compile(keras.optimizers.Adam(1e-3))
    assert plain.generator_optimizer.beta_1 == 0.9


def test_compile_takes_no_loss():
    with pytest.raises(ValueError, match="optimizer only"):
        _gan().compile("adam", loss="mse")


# === Saving and resuming ===


def test_save_and_reload(tmp_path):
    gan = _gan(k=2, label_smoothing=0.2)
    gan.compile("adam")
    gan.fit(_images(16), batch_size=8, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert (loaded.k, loaded.label_smoothing) == (2, 0.2)
    z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.generate(z), gan.generate(z), atol=1e-6)
    np.testing.assert_array_equal(_np(loaded.fixed_noise), _np(gan.fixed_noise))


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_resume_keeps_both_optimizers_and_the_fixed_noise(tmp_path):
    config = TrainConfig(epochs=3, batch_size=8, early_stopping_monitor="loss")
    data = tf.data.Dataset.from_tensor_slices(_images(16)).batch(8)  # 2 steps

    def fit(seed, **kwargs):
        def build():
            return _gan(seed=seed, k=2)

        return runner.fit(
            build,
            data,
            data,  # without validation data Keras's CSVLogger writes NA columns
            config=config,
            run_dir=tmp_path,
            steps_per_epoch=2,
            loss=None,
            verbose=0,
            **kwargs,
        )

    captured = {}

    class _Capture(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                captured["noise"] = _np(self.model.fixed_noise)
                captured["d_slots"] = [_np(v) for v in self.model.optimizer.variables]
                captured["g_slots"] = [
                    _np(v) for v in self.model.generator_optimizer.variables
                ]

    with pytest.raises(KeyboardInterrupt):
        fit(0, extra_callbacks=[_Capture(), _Interrupt()])

    restored = {}

    class _AtResume(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if "epoch" not in restored:
                restored["epoch"] = epoch
                restored["noise"] = _np(self.model.fixed_noise)
                restored["d"] = [_np(v) for v in self.model.optimizer.variables]
                restored["g"] = [
                    _np(v) for v in self.model.generator_optimizer.variables
                ]

    # Another seed: a fresh model would have other noise and zero optimizer state.
    result = fit(1, extra_callbacks=[_AtResume()])
    assert restored["epoch"] == 1
    np.testing.assert_array_equal(restored["noise"], captured["noise"])
    for saved, loaded in zip(captured["d_slots"], restored["d"]):
        np.testing.assert_array_equal(saved, loaded)
    for saved, loaded in zip(captured["g_slots"], restored["g"]):
        np.testing.assert_array_equal(saved, loaded)
    assert int(_np(result.model.optimizer.iterations)) == 3 * 2 * 2  # epochs*steps*k
    assert int(_np(result.model.generator_optimizer.iterations)) == 3 * 2
    assert result.epochs == 3


# === Sampling helpers ===


def test_seeded_noise_depends_only_on_the_seed():
    a = _np(seeded_noise(7, 5, 3))
    np.testing.assert_array_equal(a, _np(seeded_noise(7, 5, 3)))
    assert a.shape == (5, 3)
    assert not np.allclose(a, _np(seeded_noise(8, 5, 3)))


def test_slerp_keeps_the_norm_and_ends_at_the_seeds():
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=64), rng.normal(size=64)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    path = interpolate(z0, z1, 7)
    np.testing.assert_allclose(path[0], z0, atol=1e-5)
    np.testing.assert_allclose(path[-1], z1, atol=1e-5)
    np.testing.assert_allclose(
        np.linalg.norm(path, axis=1), np.linalg.norm(z0), rtol=1e-5
    )
    linear = interpolate(z0, z1, 3, method="linear")
    np.testing.assert_allclose(linear[1], (z0 + z1) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="steps"):
        interpolate(z0, z1, 1)


def test_image_grid_layout():
    images = np.zeros((3, 2, 2, 1), "float32")
    images[1] = 1.0
    grid = image_grid(images, columns=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 4, 0] == 255  # image 0, image 1
    assert grid[4, 4, 0] == 255  # empty slot: background
