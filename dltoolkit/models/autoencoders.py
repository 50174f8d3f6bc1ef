"""Autoencoders: undercomplete, overcomplete, tied, denoising, sparse,
contractive and convolutional.

One generic dense builder (:func:`build_autoencoder`) takes every
regularizer as an option; the named variants are thin wrappers with the
variant's defaults. The encoder is ``h = g(W x + b)`` and the decoder
``x^ = f(W* h + c)`` (DSE 3151, "Generative Models: Introduction").
The code layer is named ``code``, so :func:`encoder_of` finds the encoder of
any of them.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from dltoolkit.layers.contractive_dense import ContractiveDense
from dltoolkit.layers.masking_noise import MaskingNoise
from dltoolkit.layers.sparsity_penalty import SparsityPenalty
from dltoolkit.layers.tied_dense import TiedDense
from dltoolkit.models.registry import register

OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "elu", "softplus", "linear")
CODE_LAYER = "code"


def _check_no_classes(num_classes, name):
    if num_classes is not None:
        raise ValueError(
            f"{name} reconstructs its input and has no classes: pass "
            f"num_classes=None. Received: num_classes={num_classes!r}"
        )


def _input_size(input_shape) -> int:
    input_shape = tuple(input_shape)
    if not input_shape or any((not isinstance(d, int)) or d < 1 for d in input_shape):
        raise ValueError(
            "input_shape must be positive integers. "
            f"Received: input_shape={input_shape}"
        )
    return math.prod(input_shape)


def _units(hidden_units) -> tuple[int, ...]:
    if isinstance(hidden_units, int):
        hidden_units = (hidden_units,)
    hidden_units = tuple(hidden_units)
    if any((not isinstance(u, int)) or u < 1 for u in hidden_units):
        raise ValueError(
            "hidden_units must be positive integers. "
            f"Received: hidden_units={hidden_units}"
        )
    return hidden_units


def _choice(argument, value, valid):
    if value not in valid:
        raise ValueError(
            f"Unknown {argument} {value!r}. Valid: {', '.join(map(str, valid))}."
        )


@register("autoencoder", family="autoencoder")
def build_autoencoder(
    input_shape,
    num_classes=None,
    *,
    code_size=32,
    hidden_units=(),
    activation="sigmoid",
    output_activation="sigmoid",
    tied=False,
    noise=0.0,
    sparsity=None,
    sparsity_weight=0.1,
    contraction=0.0,
    kernel_initializer="glorot_uniform",
    seed=None,
    name="autoencoder",
):
    """Builds a dense autoencoder with any of the course's regularizers.

    Inputs of rank > 1 (images) are flattened and the reconstruction is
    reshaped back, so the output has the input's shape. Train it on
    ``(x, x)`` pairs; penalties (sparsity, contraction) enter ``model.losses``.

    Args:
        input_shape: shape of one example, e.g. ``(64,)`` or ``(8, 8, 1)``.
        num_classes: must be None (the registry's common signature).
        code_size: units k of the code ``h``.
        hidden_units: widths of the encoder's layers before the code; the
            decoder mirrors them.
        activation: g, of the hidden layers and the code.
        output_activation: f: ``sigmoid`` (inputs in [0, 1]) or ``linear``.
        tied: decoder weights are the encoder's transposed (W* = W^T).
        noise: masking-noise probability q of the denoising autoencoder
            (training only); 0 turns it off.
        sparsity: the sparse autoencoder's target mean activation rho, in
            (0, 1), or None; needs ``activation="sigmoid"``.
        sparsity_weight: beta, the weight of the KL sparsity penalty.
        contraction: lambda, the weight of the contractive penalty
            ``||J_x(h)||_F^2``; needs a one-layer encoder
            (``hidden_units=()``) and untied weights.
        kernel_initializer: initializer of every kernel.
        seed: seed of the masking noise.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` whose output has the input's shape.

    References:
        DSE 3151, "Undercomplete and Overcomplete Autoencoders",
        "Regularization in Autoencoders" (tied weights), "Denoising
        Autoencoders", "Sparse Autoencoders", "Contractive Autoencoders".
    """
    _check_no_classes(num_classes, name)
    size = _input_size(input_shape)
    hidden_units = _units(hidden_units)
    if not isinstance(code_size, int) or code_size < 1:
        raise ValueError(
            f"code_size must be a positive integer. Received: code_size={code_size!r}"
        )
    _choice("activation", activation, HIDDEN_ACTIVATIONS)
    _choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"noise must be in [0, 1). Received: noise={noise}")
    if sparsity is not None:
        if not 0.0 < sparsity < 1.0:
            raise ValueError(
                f"sparsity (rho) must be in (0, 1). Received: sparsity={sparsity}"
            )
        if activation != "sigmoid":
            raise ValueError(
                "sparsity needs activation='sigmoid' (mean activations in "
                f"(0, 1)). Received: activation={activation!r}"
            )
    if sparsity_weight < 0:
        raise ValueError(
            f"sparsity_weight must be >= 0. Received: sparsity_weight={sparsity_weight}"
        )
    if contraction < 0:
        raise ValueError(
            f"contraction must be >= 0. Received: contraction={contraction}"
        )
    if contraction > 0 and (hidden_units or tied):
        raise ValueError(
            "contraction needs a one-layer untied encoder h = g(Wx + b): "
            f"hidden_units=() and tied=False. Received: hidden_units={hidden_units}, "
            f"tied={tied}"
        )
    if contraction > 0:
        _choice("activation", activation, ContractiveDense.ACTIVATIONS)

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    if noise > 0:
        x = MaskingNoise(noise, seed=seed, name="corrupt")(x)
    widths = (*hidden_units, code_size)
    encoders = []
    for i, units in enumerate(widths, start=1):
        last = i == len(widths)
        layer_name = f"{CODE_LAYER}_dense" if last else f"encoder_{i}"
        if last and contraction > 0:
            x = ContractiveDense(
                units,
                activation=activation,
                contraction=contraction,
                kernel_initializer=kernel_initializer,
                name=CODE_LAYER,
            )(x)
            continue
        if tied:
            dense = TiedDense(
                units, kernel_initializer=kernel_initializer, name=layer_name
            )
        else:
            dense = layers.Dense(
                units, kernel_initializer=kernel_initializer, name=layer_name
            )
        encoders.append(dense)
        x = dense(x)
        x = layers.Activation(
            activation, name=CODE_LAYER if last else f"{layer_name}_act"
        )(x)
    if sparsity is not None:
        x = SparsityPenalty(sparsity, sparsity_weight, name="sparsity")(x)
    # Decoder: mirrored widths, then the reconstruction.
    outs = (*reversed(hidden_units), size)
    for i, units in enumerate(outs, start=1):
        last = i == len(outs)
        layer_name = "reconstruction_dense" if last else f"decoder_{i}"
        if tied:
            x = encoders[len(encoders) - i](x, transpose=True)
        else:
            x = layers.Dense(
                units, kernel_initializer=kernel_initializer, name=layer_name
            )(x)
        if last:
            x = layers.Activation(
                output_activation, dtype="float32", name="reconstruction"
            )(x)
        else:
            x = layers.Activation(activation, name=f"{layer_name}_act")(x)
    if len(input_shape) > 1:
        # float32 like the reconstruction (under a mixed-precision policy a
        # default Reshape would cast the model's output back to bfloat16).
        x = layers.Reshape(
            tuple(input_shape), dtype="float32", name="reconstruction_image"
        )(x)
    return keras.Model(inputs, x, name=name)


@register("undercomplete_autoencoder", family="autoencoder")
def build_undercomplete_autoencoder(
    input_shape,
    num_classes=None,
    *,
    code_size=16,
    name="undercomplete_autoencoder",
    **options,
):
    """An autoencoder whose code is smaller than its input (dim h < dim x).

    Args:
        code_size: must be below the input size.
        options: any option of :func:`build_autoencoder`.

    References:
        DSE 3151, "Undercomplete and Overcomplete Autoencoders".
    """
    size = _input_size(input_shape)
    if not isinstance(code_size, int) or not 1 <= code_size < size:
        raise ValueError(
            f"An undercomplete autoencoder needs code_size < the input size {size}. "
            f"Received: code_size={code_size!r}"
        )
    return build_autoencoder(
        input_shape, num_classes, code_size=code_size, name=name, **options
    )


@register("overcomplete_autoencoder", family="autoencoder")
def build_overcomplete_autoencoder(
    input_shape,
    num_classes=None,
    *,
    code_size=None,
    name="overcomplete_autoencoder",
    **options,
):
    """An autoencoder whose code is larger than its input (dim h > dim x).

    Unregularized, it can learn the identity; combine it with ``noise``,
    ``sparsity`` or ``contraction``.

    Args:
        code_size: must exceed the input size; default twice the input size.
        options: any option of :func:`build_autoencoder`.

    References:
        DSE 3151, "Undercomplete and Overcomplete Autoencoders",
        "Regularization in Autoencoders".
    """
    size = _input_size(input_shape)
    code_size = 2 * size if code_size is None else code_size
    if not isinstance(code_size, int) or code_size <= size:
        raise ValueError(
            f"An overcomplete autoencoder needs code_size > the input size {size}. "
            f"Received: code_size={code_size!r}"
        )
    return build_autoencoder(
        input_shape, num_classes, code_size=code_size, name=name, **options
    )


@register("tied_autoencoder", family="autoencoder")
def build_tied_autoencoder(
    input_shape, num_classes=None, *, name="tied_autoencoder", **options
):
    """An autoencoder with tied weights, W* = W^T (see :class:`TiedDense`)."""
    return build_autoencoder(input_shape, num_classes, tied=True, name=name, **options)


@register("denoising_autoencoder", family="autoencoder")
def build_denoising_autoencoder(
    input_shape, num_classes=None, *, noise=0.3, name="denoising_autoencoder", **options
):
    """An autoencoder trained on inputs masked with probability ``noise`` (q).

    The target stays the clean input; the corruption happens only in
    training (see :class:`MaskingNoise`).
    """
    if not 0.0 < noise < 1.0:
        raise ValueError(f"noise must be in (0, 1). Received: noise={noise}")
    return build_autoencoder(
        input_shape, num_classes, noise=noise, name=name, **options
    )


@register("sparse_autoencoder", family="autoencoder")
def build_sparse_autoencoder(
    input_shape,
    num_classes=None,
    *,
    sparsity=0.05,
    sparsity_weight=0.1,
    name="sparse_autoencoder",
    **options,
):
    """An autoencoder with the KL sparsity penalty toward ``sparsity`` (rho).

    See :class:`SparsityPenalty`: ``beta * sum_l KL(rho || rho_hat_l)``.
    """
    if sparsity is None:
        raise ValueError("A sparse autoencoder needs sparsity (rho) in (0, 1).")
    return build_autoencoder(
        input_shape,
        num_classes,
        sparsity=sparsity,
        sparsity_weight=sparsity_weight,
        name=name,
        **options,
    )


@register("contractive_autoencoder", family="autoencoder")
def build_contractive_autoencoder(
    input_shape,
    num_classes=None,
    *,
    contraction=0.01,
    name="contractive_autoencoder",
    **options,
):
    """An autoencoder penalized by ``contraction * ||J_x(h)||_F^2``.

    See :class:`ContractiveDense`.
    """
    if contraction <= 0:
        raise ValueError(
            f"contraction must be > 0. Received: contraction={contraction}"
        )
    return build_autoencoder(
        input_shape, num_classes, contraction=contraction, name=name, **options
    )


@register("conv_autoencoder", family="autoencoder", min_input=(4, 4))
def build_conv_autoencoder(
    input_shape,
    num_classes=None,
    *,
    filters=(16, 8),
    kernel_size=3,
    activation="relu",
    output_activation="sigmoid",
    noise=0.0,
    seed=None,
    name="conv_autoencoder",
):
    """A convolutional autoencoder, as in the course's Keras example.

    Encoder: per entry of ``filters``, a same-padded convolution and a 2x2
    max-pooling; decoder: the mirror, convolution then 2x2 up-sampling; a
    final convolution gives the image's channels.

    Args:
        input_shape: ``(height, width, channels)``; height and width must be
            divisible by ``2 ** len(filters)``.
        num_classes: must be None.
        filters: filters per encoder stage.
        kernel_size: convolution size.
        activation: of every convolution but the last.
        output_activation: ``sigmoid`` or ``linear``.
        noise: masking-noise probability q (training only).
        seed: seed of the masking noise.
        name: model name.

    References:
        DSE 3151, "Autoencoders: Introduction" (Conv2D +
        MaxPooling2D encoder, Conv2D + UpSampling2D decoder,
        ``model.fit(x, x)``).
    """
    _check_no_classes(num_classes, name)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            "conv_autoencoder expects an image input_shape (height, width, "
            f"channels). Received: input_shape={input_shape}"
        )
    _input_size(input_shape)
    filters = _units(filters)
    if not filters:
        raise ValueError("filters needs at least one stage. Received: filters=()")
    _choice("activation", activation, HIDDEN_ACTIVATIONS)
    _choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"noise must be in [0, 1). Received: noise={noise}")
    factor = 2 ** len(filters)
    h, w, channels = input_shape
    if h % factor or w % factor:
        raise ValueError(
            f"conv_autoencoder with {len(filters)} pooling stages needs height and "
            f"width divisible by {factor}. Received: input_shape={input_shape}"
        )
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = MaskingNoise(noise, seed=seed, name="corrupt")(inputs) if noise > 0 else inputs
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(
            f,
            kernel_size,
            padding="same",
            activation=activation,
            name=f"encoder_conv_{i}",
        )(x)
        x = layers.MaxPooling2D(
            2,
            padding="same",
            name=CODE_LAYER if i == len(filters) else f"encoder_pool_{i}",
        )(x)
    for i, f in enumerate(reversed(filters), start=1):
        x = layers.Conv2D(
            f,
            kernel_size,
            padding="same",
            activation=activation,
            name=f"decoder_conv_{i}",
        )(x)
        x = layers.UpSampling2D(2, name=f"decoder_up_{i}")(x)
    outputs = layers.Conv2D(
        channels,
        kernel_size,
        padding="same",
        activation=output_activation,
        dtype="float32",
        name="reconstruction",
    )(x)
    return keras.Model(inputs, outputs, name=name)


# === Inspecting a trained autoencoder ===


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    """The encoder ``x -> h`` of an autoencoder built here (up to ``code``)."""
    try:
        code = autoencoder.get_layer(CODE_LAYER)
    except ValueError:
        raise ValueError(
            f"Model {autoencoder.name!r} has no layer named {CODE_LAYER!r}: not an "
            "autoencoder built by dltoolkit.models.autoencoders."
        ) from None
    return keras.Model(
        autoencoder.inputs, code.output, name=f"{autoencoder.name}_encoder"
    )


def jacobian_frobenius_norms(encoder: keras.Model, x) -> np.ndarray:
    """``||J_x(h)||_F`` of each example, by automatic differentiation.

    Args:
        encoder: a model ``x -> h`` (e.g. :func:`encoder_of`).
        x: ``(batch, ...)`` inputs.

    Returns:
        ``(batch,)`` Frobenius norms of ``dh / dx``.
    """
    x = tf.convert_to_tensor(np.asarray(x, dtype="float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = encoder(x, training=False)
        h = tf.reshape(h, (tf.shape(h)[0], -1))
    jac = tape.batch_jacobian(h, x)  # (batch, k, *input_shape)
    jac = tf.reshape(jac, (tf.shape(jac)[0], -1))
    return tf.norm(jac, axis=-1).numpy()


def psnr(clean, noisy, *, max_value: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over a whole batch of images.

    ``10 log10(max^2 / MSE)``; infinite when the images are identical.
    """
    clean = np.asarray(clean, dtype="float64")
    noisy = np.asarray(noisy, dtype="float64")
    if clean.shape != noisy.shape:
        raise ValueError(
            f"psnr needs equal shapes. Received: {clean.shape} and {noisy.shape}"
        )
    mse = float(np.mean((clean - noisy) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(max_value**2 / mse)
