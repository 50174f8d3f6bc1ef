"""Autoencoder variants against independent references: numpy forward passes,
the course's formulas, autodiff (batch_jacobian) and finite differences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.layers.contractive_dense import ContractiveDense
from dltoolkit.layers.masking_noise import MaskingNoise
from dltoolkit.layers.sparsity_penalty import SparsityPenalty
from dltoolkit.layers.tied_dense import TiedDense
from dltoolkit.models.autoencoders import (
    build_autoencoder,
    build_conv_autoencoder,
    build_overcomplete_autoencoder,
    build_undercomplete_autoencoder,
    encoder_of,
    jacobian_frobenius_norms,
    psnr,
)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


RNG = np.random.default_rng(0)
X = RNG.random((5, 6)).astype("float32")


# === Under- and overcomplete ===


def test_undercomplete_and_overcomplete_code_sizes():
    under = build_undercomplete_autoencoder((6,), code_size=3)
    assert encoder_of(under).output.shape == (None, 3)
    over = build_overcomplete_autoencoder((6,))
    assert encoder_of(over).output.shape == (None, 12)  # twice the input
    with pytest.raises(ValueError, match="code_size < the input size 6"):
        build_undercomplete_autoencoder((6,), code_size=6)
    with pytest.raises(ValueError, match="code_size > the input size 64"):
        build_overcomplete_autoencoder((8, 8, 1), code_size=64)


def test_plain_forward_is_the_course_formula():
    """h = g(Wx + b), x^ = f(W* h + c)."""
    model = build_autoencoder((6,), code_size=3)
    w, b = (_np(v) for v in model.get_layer("code_dense").weights)
    w2, c = (_np(v) for v in model.get_layer("reconstruction_dense").weights)
    expected = _sigmoid(_sigmoid(X @ w + b) @ w2 + c)
    np.testing.assert_allclose(_np(model(X)), expected, atol=1e-6)


# === Tied weights ===


def test_tied_decoder_is_the_encoder_kernel_transposed():
    model = build_autoencoder((6,), code_size=3, tied=True)
    layer = model.get_layer("code_dense")
    assert isinstance(layer, TiedDense)
    # One kernel (6x3) and two biases: no decoder kernel.
    assert model.count_params() == 6 * 3 + 3 + 6
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 3)).astype("float32")
    b, c = rng.normal(size=3).astype("float32"), rng.normal(size=6).astype("float32")
    layer.set_weights([w, b, c])
    expected = _sigmoid(_sigmoid(X @ w + b) @ w.T + c)
    np.testing.assert_allclose(_np(model(X)), expected, atol=1e-6)


def test_tied_kernel_gets_gradient_from_both_uses(tmp_path):
    model = build_autoencoder((6,), code_size=3, hidden_units=(4,), tied=True)
    assert model.count_params() == (6 * 4 + 4 + 6) + (4 * 3 + 3 + 4)
    x = tf.constant(X)
    kernel = model.get_layer("code_dense").kernel
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - x) ** 2)
    grad = tape.gradient(loss, kernel)
    # Against finite differences of the whole model in the kernel.
    w0 = _np(kernel).copy()
    eps, (i, j) = 1e-2, (2, 1)
    values = []
    for delta in (eps, -eps):
        w = w0.copy()
        w[i, j] += delta
        kernel.assign(w)
        values.append(float(np.mean((_np(model(X)).astype("float64") - X) ** 2)))
    kernel.assign(w0)
    numeric = (values[0] - values[1]) / (2 * eps)
    assert _np(grad)[i, j] == pytest.approx(numeric, rel=2e-2, abs=1e-6)

    model.save(tmp_path / "tied.keras")
    reloaded = keras.models.load_model(tmp_path / "tied.keras")
    np.testing.assert_allclose(_np(reloaded(X)), _np(model(X)), atol=1e-6)
    # Still tied after reloading: changing the one kernel changes both uses.
    reloaded.get_layer("code_dense").kernel.assign(np.zeros((4, 3), "float32"))
    code = _np(encoder_of(reloaded)(X))
    np.testing.assert_allclose(code, 0.5, atol=1e-6)  # sigmoid(0 + b=0)


# === Denoising ===


def test_masking_noise_masks_with_probability_q_in_training_only():
    layer = MaskingNoise(0.3, seed=0)
    x = np.full((200, 100), 0.7, dtype="float32")
    out = _np(layer(x, training=True))
    masked = out == 0
    assert masked.mean() == pytest.approx(0.3, abs=0.01)
    np.testing.assert_array_equal(out[~masked], np.float32(0.7))  # no rescaling
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    with pytest.raises(ValueError, match="rate must be in"):
        MaskingNoise(1.0)


def test_denoising_autoencoder_corrupts_only_in_training():
    model = build_autoencoder((6,), code_size=3, noise=0.5, seed=0)
    clean = build_autoencoder((6,), code_size=3)
    clean.set_weights(model.get_weights())
    np.testing.assert_allclose(_np(model(X)), _np(clean(X)), atol=1e-6)
    assert not np.allclose(_np(model(X, training=True)), _np(clean(X)))


# === Sparse ===


def _kl(rho, rho_hat):
    return np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )


def test_sparsity_penalty_is_beta_sum_of_kl_to_rho():
    h = RNG.uniform(0.05, 0.95, size=(7, 4)).astype("float32")
    layer = SparsityPenalty(rho=0.1, beta=3.0)
    np.testing.assert_array_equal(_np(layer(h)), h)  # identity
    expected = 3.0 * _kl(0.1, h.astype("float64").mean(axis=0))
    assert float(_np(layer.penalty(h))) == pytest.approx(expected, rel=1e-5)
    # Minimal (zero) exactly when every mean activation equals rho.
    assert float(_np(layer.penalty(np.full((3, 4), 0.1, "float32")))) == (
        pytest.approx(0.0, abs=1e-6)
    )


def test_sparse_autoencoder_adds_the_penalty_to_its_loss():
    model = build_autoencoder((6,), code_size=4, sparsity=0.05, sparsity_weight=2.0)
    model.compile("sgd", "mse")
    h = _np(encoder_of(model)(X)).astype("float64")
    mse = float(np.mean((_np(model(X)) - X) ** 2))
    expected = mse + 2.0 * _kl(0.05, h.mean(axis=0))
    assert model.evaluate(X, X, verbose=0) == pytest.approx(expected, rel=1e-4)


def test_sparse_training_drives_mean_activation_toward_rho():
    x = np.random.default_rng(2).random((64, 6)).astype("float32")
    means = {}
    for beta in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        model = build_autoencoder(
            (6,), code_size=8, sparsity=0.05, sparsity_weight=beta
        )
        model.compile(keras.optimizers.Adam(0.05), "mse")
        steps = np.tile(x, (60, 1))  # 60 full-batch steps in one epoch
        model.fit(steps, steps, epochs=1, batch_size=64, shuffle=False, verbose=0)
        means[beta] = float(_np(encoder_of(model)(x)).mean())
    assert means[1.0] < 0.15 < means[0.0]


def test_sparsity_needs_sigmoid_units():
    with pytest.raises(ValueError, match="sparsity needs activation='sigmoid'"):
        build_autoencoder((6,), sparsity=0.05, activation="relu")
    with pytest.raises(ValueError, match="rho must be in"):
        SparsityPenalty(rho=1.0)


# === Contractive ===


@pytest.mark.parametrize("activation", ContractiveDense.ACTIVATIONS)
def test_contractive_norm_equals_batch_jacobian(activation):
    layer = ContractiveDense(3, activation=activation, contraction=0.5)
    x = tf.constant(RNG.normal(size=(4, 5)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = layer(x)
    jac = tape.batch_jacobian(h, x)  # (batch, 3, 5)
    expected = tf.reduce_sum(jac**2, axis=[1, 2]).numpy()
    np.testing.assert_allclose(
        _np(layer.jacobian_frobenius_squared(x)), expected, rtol=1e-5, atol=1e-7
    )
    assert float(_np(layer.losses[-1])) == pytest.approx(
        0.5 * expected.mean(), rel=1e-5
    )


def test_contractive_norm_equals_finite_differences():
    """||J||_F^2 = sum_j sum_l (dh_l / dx_j)^2 by central differences."""
    layer = ContractiveDense(3, activation="sigmoid", contraction=1.0)
    x = RNG.normal(size=(1, 4))
    layer(x.astype("float32"))
    w = _np(layer.kernel).astype("float64")
    b = _np(layer.bias).astype("float64")
    eps, total = 1e-5, 0.0
    for j in range(4):
        step = np.zeros_like(x)
        step[0, j] = eps
        diff = _sigmoid((x + step) @ w + b) - _sigmoid((x - step) @ w + b)
        total += np.sum((diff / (2 * eps)) ** 2)
    value = float(_np(layer.jacobian_frobenius_squared(x.astype("float32")))[0])
    assert value == pytest.approx(total, rel=1e-4)


def test_contractive_autoencoder_loss_and_measured_norm():
    model = build_autoencoder((6,), code_size=4, contraction=0.3)
    model.compile("sgd", "mse")
    norms = jacobian_frobenius_norms(encoder_of(model), X)
    mse = float(np.mean((_np(model(X)) - X) ** 2))
    expected = mse + 0.3 * float(np.mean(norms**2))
    assert model.evaluate(X, X, verbose=0) == pytest.approx(expected, rel=1e-4)


def test_contraction_shrinks_the_jacobian():
    x = np.random.default_rng(3).random((64, 6)).astype("float32")
    norms = {}
    for lam in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        model = build_autoencoder((6,), code_size=8, contraction=lam)
        model.compile(keras.optimizers.Adam(0.02), "mse")
        steps = np.tile(x, (40, 1))  # 40 full-batch steps in one epoch
        model.fit(steps, steps, epochs=1, batch_size=64, shuffle=False, verbose=0)
        norms[lam] = float(jacobian_frobenius_norms(encoder_of(model), x).mean())
    assert norms[1.0] < 0.5 * norms[0.0]


def test_contraction_needs_a_one_layer_untied_encoder():
    with pytest.raises(ValueError, match="one-layer untied encoder"):
        build_autoencoder((6,), contraction=0.1, hidden_units=(4,))
    with pytest.raises(ValueError, match="one-layer untied encoder"):
        build_autoencoder((6,), contraction=0.1, tied=True)
    with pytest.raises(ValueError, match="Unknown activation 'elu'"):
        build_autoencoder((6,), contraction=0.1, activation="elu")


# === Convolutional ===


def test_conv_autoencoder_shapes_and_sizes():
    model = build_conv_autoencoder((8, 8, 1), filters=(4, 2))
    assert model.get_layer("code").output.shape == (None, 2, 2, 2)
    assert model.output.shape == (None, 8, 8, 1)
    assert build_conv_autoencoder((12, 4, 3), filters=(2,)).output.shape == (
        None,
        12,
        4,
        3,
    )
    with pytest.raises(ValueError, match="divisible by 4"):
        build_conv_autoencoder((10, 8, 1), filters=(4, 2))
    with pytest.raises(ValueError, match="image input_shape"):
        build_conv_autoencoder((64,))


# === Other arguments and helpers ===


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(code_size=0), "code_size"),
        (dict(noise=1.0), "noise"),
        (dict(sparsity=0.0), "sparsity"),
        (dict(sparsity=0.1, sparsity_weight=-1.0), "sparsity_weight"),
        (dict(contraction=-1.0), "contraction"),
        (dict(activation="nope"), "activation"),
        (dict(output_activation="softmax"), "output_activation"),
        (dict(hidden_units=(0,)), "hidden_units"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_autoencoder((6,), **kwargs)


def test_psnr_against_the_definition():
    clean = np.zeros((2, 4, 4))
    noisy = clean + 0.1
    assert psnr(clean, noisy) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert psnr(clean, clean) == float("inf")
    with pytest.raises(ValueError, match="equal shapes"):
        psnr(clean, clean[0])


def test_encoder_of_needs_a_code_layer():
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no layer named 'code'"):
        encoder_of(plain)


@pytest.mark.parametrize(
    "layer",
    [
        TiedDense(3, use_bias=False),
        MaskingNoise(0.2, seed=3),
        SparsityPenalty(rho=0.2, beta=0.5),
        ContractiveDense(4, activation="tanh", contraction=0.3),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layer_config_round_trip(layer):
    config = layer.get_config()
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == config


# === Mixed precision ===


@pytest.mark.parametrize(
    "options",
    [
        {"tied": True},
        {"noise": 0.3, "seed": 0},
        {"sparsity": 0.05},
        {"contraction": 0.01},
        {"contraction": 0.01, "activation": "relu"},
    ],
)
def test_mixed_precision_penalties_and_output_are_float32(options):
    """Under mixed_bfloat16 the layers compute in bfloat16, but the penalties
    (add_loss) and the reconstruction are float32, so fit can sum them with
    the float32 loss."""
    x = RNG.random((8, 4, 4, 1)).astype("float32")
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_autoencoder((4, 4, 1), code_size=3, **options)
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, x, batch_size=4, epochs=1, verbose=0)
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("code").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"
    assert model(x, training=False).dtype == "float32"
    assert all(loss.dtype == "float32" for loss in model.losses)
    assert np.isfinite(history.history["loss"][0])
