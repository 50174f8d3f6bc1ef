"""VAE: the KL term against its closed form and a Monte Carlo estimate, the
reparameterization, the loss fit logs, and learning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.layers.gaussian_sampling import GaussianSampling
from dltoolkit.models.vae import (
    VariationalAutoencoder,
    build_vae,
    kl_divergence,
    reconstruction_loss,
)


def _np(x):
    return keras.ops.convert_to_numpy(x)


RNG = np.random.default_rng(0)
MU = RNG.normal(size=(3, 2)).astype("float32")
LOG_VAR = RNG.normal(scale=0.5, size=(3, 2)).astype("float32")


def test_kl_matches_the_closed_form_per_dimension():
    """KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2) / 2 - 1/2, summed."""
    s = np.exp(0.5 * LOG_VAR.astype("float64"))
    expected = np.sum(np.log(1 / s) + (s**2 + MU**2) / 2 - 0.5, axis=1)
    np.testing.assert_allclose(_np(kl_divergence(MU, LOG_VAR)), expected, rtol=1e-5)
    assert np.all(_np(kl_divergence(np.zeros((1, 4)), np.zeros((1, 4)))) == 0)


def test_kl_matches_a_monte_carlo_estimate():
    """E_q[log q(z) - log p(z)] over 200,000 samples of z."""
    rng = np.random.default_rng(1)
    mu, log_var = MU[0].astype("float64"), LOG_VAR[0].astype("float64")
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.standard_normal((200_000, 2))
    log_q = -0.5 * np.sum(((z - mu) / sigma) ** 2 + np.log(2 * np.pi * sigma**2), 1)
    log_p = -0.5 * np.sum(z**2 + np.log(2 * np.pi), 1)
    estimate = np.mean(log_q - log_p)
    closed = float(_np(kl_divergence(MU[:1], LOG_VAR[:1]))[0])
    assert closed == pytest.approx(estimate, abs=0.02)


def test_reparameterization_samples_and_gradients():
    layer = GaussianSampling(seed=0)
    mu = np.full((50_000, 2), [1.0, -2.0], dtype="float32")
    log_var = np.full((50_000, 2), np.log([0.25, 4.0]), dtype="float32")
    z = _np(layer([mu, log_var], training=True))
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), [0.5, 2.0], rtol=0.02)
    np.testing.assert_array_equal(_np(layer([mu, log_var], training=False)), mu)
    # dz/dmu = 1 and dz/dlog_var = sigma * eps / 2 = (z - mu) / 2.
    m, lv = tf.Variable(mu[:4]), tf.Variable(log_var[:4])
    with tf.GradientTape(persistent=True) as tape:
        z = layer([m, lv], training=True)
        total = tf.reduce_sum(z)
    np.testing.assert_allclose(tape.gradient(total, m).numpy(), 1.0)
    np.testing.assert_allclose(
        tape.gradient(total, lv).numpy(), (z.numpy() - mu[:4]) / 2, rtol=1e-5
    )


def test_reconstruction_losses():
    x = np.array([[1.0, 0.0, 1.0]], "float32")
    x_hat = np.array([[0.9, 0.2, 0.5]], "float32")
    bce = -(np.log(0.9) + np.log(0.8) + np.log(0.5))
    assert float(_np(reconstruction_loss(x, x_hat))[0]) == pytest.approx(bce, rel=1e-5)
    sse = 0.5 * (0.01 + 0.04 + 0.25)
    assert float(_np(reconstruction_loss(x, x_hat, "gaussian"))[0]) == pytest.approx(
        sse, rel=1e-5
    )


def test_evaluate_reports_reconstruction_plus_kl():
    model = build_vae((4, 4, 1), latent_dim=3, hidden_units=(8,), beta=0.5, seed=0)
    model.compile("adam")
    x = RNG.random((6, 4, 4, 1)).astype("float32")
    logs = model.evaluate(x, x, batch_size=6, verbose=0, return_dict=True)
    mu, log_var = (_np(t) for t in model.encode(x))
    np.testing.assert_allclose(logs["kl"], _np(kl_divergence(mu, log_var)).mean(), 1e-5)
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + 0.5 * logs["kl"])
    # Inference decodes mu: deterministic.
    np.testing.assert_array_equal(_np(model(x)), _np(model.decode(mu)))


def test_fit_lowers_the_negative_elbo():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(2)
    protos = (rng.random((3, 16)) > 0.5).astype("float32")
    x = protos[rng.integers(0, 3, 96)]
    model = build_vae((16,), latent_dim=2, hidden_units=(16,), seed=0)
    model.compile(keras.optimizers.Adam(0.02))
    steps = np.tile(x, (15, 1))
    before = model.evaluate(x, verbose=0, return_dict=True)
    model.fit(steps, epochs=1, batch_size=32, shuffle=False, verbose=0)
    after = model.evaluate(x, verbose=0, return_dict=True)
    assert after["loss"] < 0.6 * before["loss"]
    assert after["kl"] > 0.1  # the code is used


def test_bad_arguments():
    with pytest.raises(ValueError, match="latent_dim"):
        VariationalAutoencoder((4,), latent_dim=0)
    with pytest.raises(ValueError, match="Unknown reconstruction 'poisson'"):
        build_vae((4,), reconstruction="poisson")
    with pytest.raises(ValueError, match="beta"):
        build_vae((4,), beta=-1.0)


def test_mixed_precision_fit_and_float32_reconstruction():
    """Under mixed_bfloat16 the KL of bfloat16 (mu, log_var) adds to the
    float32 reconstruction loss, and the decoder's output is float32."""
    x = RNG.random((8, 4, 4, 1)).astype("float32")
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_vae((4, 4, 1), latent_dim=2, hidden_units=(8,), seed=0)
        model.compile(optimizer="adam")
        history = model.fit(x, batch_size=4, epochs=1, verbose=0)
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.encoder.get_layer("z_mean").compute_dtype == "bfloat16"
    assert model(x, training=False).dtype == "float32"
    assert np.isfinite(history.history["loss"][0])
