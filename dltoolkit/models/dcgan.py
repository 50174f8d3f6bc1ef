"""DCGAN: the generator and discriminator of Radford et al. (2016)."""

from __future__ import annotations

import keras
from keras import layers

from dltoolkit.models.registry import register

# The smallest side of the first (generator) / last (discriminator) feature map.
MIN_START = 3


def _check_image_shape(name: str, argument: str, shape) -> tuple[int, int, int]:
    shape = tuple(shape) if shape is not None else ()
    if (
        len(shape) != 3
        or not all(isinstance(d, int) and d > 0 for d in shape)
        or shape[-1] not in (1, 3)
    ):
        raise ValueError(
            f"{name} needs {argument}=(height, width, channels) with 1 or 3 "
            f"channels. Received: {argument}={shape}"
        )
    return shape


def _positive_int(argument: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"{argument} must be a positive integer. Received: {argument}={value!r}"
        )
    return value


def _check_momentum(value) -> None:
    if not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(
            f"bn_momentum must be in [0, 1). Received: bn_momentum={value!r}"
        )


def dcgan_stages(height: int, width: int, stages: int | None = None) -> int:
    """The number of stride-2 stages for an image of ``height`` x ``width``.

    With ``stages=None``: as many halvings as keep both sides whole and at
    least :data:`MIN_START` (16 -> 4 after 2, 28 -> 7 after 2, 32 -> 4 after 3).
    Each side must be ``start * 2**stages``: a power-of-two multiple.

    Raises:
        ValueError: the sides do not halve that often (or not even once).
    """
    if stages is None:
        stages = 0
        while all(s % 2 ** (stages + 1) == 0 for s in (height, width)) and all(
            s // 2 ** (stages + 1) >= MIN_START for s in (height, width)
        ):
            stages += 1
    if stages < 1 or any(s % 2**stages for s in (height, width)):
        raise ValueError(
            "DCGAN image sides must be a power-of-two multiple (start * 2**stages, "
            f"stages >= 1, start >= {MIN_START}), e.g. 16, 28, 32 or 64. "
            f"Received: image shape {height}x{width}, stages={stages}"
        )
    return stages


def _filters(width: int, stage: int) -> int:
    """Filters after ``stage`` halvings: width, 2*width, 4*width, ..."""
    return width * 2**stage


@register("dcgan_generator", family="dcgan")
def build_dcgan_generator(
    image_shape,
    *,
    latent_dim=100,
    width=64,
    stages=None,
    kernel_size=4,
    bn_momentum=0.9,
    name="dcgan_generator",
):
    """Builds the DCGAN generator: noise ``z`` -> image in [-1, 1].

    ``z`` is projected and reshaped to the first feature map (start x start x
    ``width * 2**(stages-1)``), then each fractional-strided convolution
    (``Conv2DTranspose``, stride 2) doubles the side and halves the filters;
    the last one outputs the image channels. Batch norm and ReLU follow every
    layer except the output, which is tanh. No pooling and no dense hidden
    layers: the projection of ``z`` is the input layer, as in the paper.

    Args:
        image_shape: ``(height, width, channels)`` of the generated images;
            each side a power-of-two multiple (see :func:`dcgan_stages`);
            1 or 3 channels.
        latent_dim: size of ``z``.
        width: filters of the last hidden layer (the layer before the output);
            each layer closer to ``z`` has twice as many.
        stages: number of stride-2 layers; None takes the most the image
            size allows.
        kernel_size: side of the transposed-convolution kernels.
        bn_momentum: momentum of the batch-norm moving statistics. 0.9 (the
            DCGAN reference code's 0.1 in PyTorch's convention) lets them
            follow a generator whose activations change scale quickly: with
            Keras's 0.99 they lag by hundreds of steps, and inference-mode
            samples come out blank in short runs.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` from ``(batch, latent_dim)`` to
        ``(batch, *image_shape)``.

    References:
        Radford, Metz & Chintala, "Unsupervised Representation Learning with
        Deep Convolutional Generative Adversarial Networks", ICLR 2016.
        DSE 3151, "Architecture guidelines for stable Deep Convolutional
        GANs".
    """
    h, w, channels = _check_image_shape(name, "image_shape", image_shape)
    latent_dim = _positive_int("latent_dim", latent_dim)
    width = _positive_int("width", width)
    kernel_size = _positive_int("kernel_size", kernel_size)
    _check_momentum(bn_momentum)
    stages = dcgan_stages(h, w, stages)
    start_h, start_w = h // 2**stages, w // 2**stages

    # === Functional Model ===
    z = keras.Input(shape=(latent_dim,), name="z")  # (b, latent_dim)
    first = _filters(width, stages - 1)
    x = layers.Dense(start_h * start_w * first, use_bias=False, name="project")(z)
    x = layers.Reshape((start_h, start_w, first), name="project_reshape")(x)
    x = layers.BatchNormalization(momentum=bn_momentum, name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)  # (b, start_h, start_w, first)
    for stage in range(stages - 1, 0, -1):
        block = f"up{stages - stage}"
        x = layers.Conv2DTranspose(
            _filters(width, stage - 1),
            kernel_size,
            strides=2,
            padding="same",
            use_bias=False,
            name=f"{block}_deconv",
        )(x)  # side doubles, filters halve
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"{block}_bn")(x)
        x = layers.ReLU(name=f"{block}_relu")(x)
    x = layers.Conv2DTranspose(
        channels, kernel_size, strides=2, padding="same", name="output_deconv"
    )(x)  # (b, h, w, channels)
    images = layers.Activation("tanh", dtype="float32", name="output_tanh")(x)
    return keras.Model(z, images, name=name)


@register("dcgan_discriminator", family="dcgan")
def build_dcgan_discriminator(
    image_shape,
    *,
    width=64,
    stages=None,
    kernel_size=4,
    leaky_slope=0.2,
    bn_momentum=0.9,
    name="dcgan_discriminator",
):
    """Builds the DCGAN discriminator: image in [-1, 1] -> one logit.

    Each strided convolution (stride 2) halves the side and doubles the
    filters (``width``, ``2 * width``, ...); batch norm (except on the first
    layer, as in the paper) and LeakyReLU follow each. The last feature map is
    flattened into a single output unit: the logit of D(x) = P(x is real).
    No pooling and no dense hidden layers.

    Args:
        image_shape: ``(height, width, channels)``; sides as for
            :func:`build_dcgan_generator`.
        width: filters of the first convolution.
        stages: number of strided convolutions; None takes the most the image
            size allows.
        kernel_size: side of the convolution kernels.
        leaky_slope: the LeakyReLU slope for negative inputs (0.2 in the paper).
        bn_momentum: momentum of the batch-norm moving statistics.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` from ``(batch, *image_shape)`` to
        ``(batch, 1)`` logits.

    References:
        Radford, Metz & Chintala, ICLR 2016. DSE 3151, "Architecture
        guidelines for stable Deep Convolutional GANs".
    """
    h, w, _ = _check_image_shape(name, "image_shape", image_shape)
    width = _positive_int("width", width)
    kernel_size = _positive_int("kernel_size", kernel_size)
    if not isinstance(leaky_slope, (int, float)) or not 0 <= leaky_slope < 1:
        raise ValueError(
            f"leaky_slope must be in [0, 1). Received: leaky_slope={leaky_slope!r}"
        )
    _check_momentum(bn_momentum)
    stages = dcgan_stages(h, w, stages)

    # === Functional Model ===
    images = keras.Input(shape=tuple(image_shape), name="images")  # (b, h, w, c)
    x = images
    for stage in range(stages):
        block = f"down{stage + 1}"
        x = layers.Conv2D(
            _filters(width, stage),
            kernel_size,
            strides=2,
            padding="same",
            use_bias=stage == 0,
            name=f"{block}_conv",
        )(x)  # side halves, filters double
        if stage > 0:
            x = layers.BatchNormalization(momentum=bn_momentum, name=f"{block}_bn")(x)
        x = layers.LeakyReLU(negative_slope=leaky_slope, name=f"{block}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)  # (b, start_h * start_w * filters)
    logits = layers.Dense(1, dtype="float32", name="logit")(x)  # (b, 1)
    return keras.Model(images, logits, name=name)
