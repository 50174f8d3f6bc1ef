"""The captioning model of the app, and its in-graph caption functions.

``build_model`` maps the config onto :func:`dltoolkit.models.captioner.
build_captioner` (optionally with a frozen CNN from a classification run);
``make_caption`` turns a trained model into ``images -> captions`` (greedy or
beam search inside the graph), and ``make_serve`` into ``image bytes ->
captions``: the function of the evaluation, the ``val_bleu`` callback and the
SavedModel alike (:mod:`dltoolkit.training.decoders`).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.data.captions import END_ID, FIRST_WORD_ID, START_ID, UNK_ID
from dltoolkit.data.images import decode_image_batch_masked
from dltoolkit.decoding import best_sequence
from dltoolkit.errors import ConfigError
from dltoolkit.models import get_builder
from dltoolkit.models.backbones import backbone_features, pretrained
from dltoolkit.models.captioner import captioner_step_fn

# Builder options the config passes through when set (None: builder default).
DECODER_OPTIONS = (
    "feature_layer",
    "feature_dim",
    "embedding_dim",
    "units",
    "attention",
    "attention_units",
    "conditioning",
    "num_layers",
    "num_heads",
    "dropout",
)
LSTM_ONLY = ("embedding_dim", "attention", "attention_units", "conditioning")
TRANSFORMER_ONLY = ("num_layers", "num_heads")
_BANNED = (0, UNK_ID, START_ID)  # never generated
STATUS_OK, STATUS_NOT_IMAGE = "ok", "not an image"


@keras.saving.register_keras_serializable(package="dltoolkit")
def token_accuracy(y_true, y_pred):
    """Share of caption tokens (padding excluded) whose argmax is right."""
    y_true = tf.cast(y_true, tf.int32)
    real = tf.cast(y_true != 0, tf.float32)
    right = tf.cast(
        tf.argmax(y_pred, axis=-1, output_type=tf.int32) == y_true, tf.float32
    )
    return tf.reduce_sum(right * real) / tf.maximum(tf.reduce_sum(real), 1.0)


def pretrained_cnn(path, image_size: int) -> keras.Model:
    """The CNN of a classification run (``DIR`` or ``DIR/model.keras``), frozen.

    A grayscale classifier gets a fixed RGB-to-gray 1x1 convolution in front,
    so it reads the captioner's RGB images.
    """
    path = Path(path)
    file = path / "model.keras" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(
            f"encoder_weights: no trained model at {file} (give a classify run "
            "directory or its model.keras)."
        )
    classifier = keras.models.load_model(file)
    shape = tuple(classifier.inputs[0].shape[1:])
    if len(shape) != 3 or shape[:2] != (image_size, image_size):
        raise ConfigError(
            f"encoder_weights: the classifier at {file} reads {shape} images; "
            f"the captioner reads {image_size}x{image_size} (set image_size="
            f"{shape[0]} or train the classifier with image_size={image_size})."
        )
    if shape[2] == 3:
        return classifier
    rgb = keras.Input((image_size, image_size, 3), name="rgb")
    gray = keras.layers.Conv2D(1, 1, use_bias=False, trainable=False, name="to_gray")
    gray.build((None, image_size, image_size, 3))
    gray.set_weights([np.array([0.299, 0.587, 0.114], "float32").reshape(1, 1, 3, 1)])
    from dltoolkit.models.captioner import feature_extractor

    features = feature_extractor(classifier)
    return keras.Model(rgb, features(gray(rgb)), name=f"{classifier.name}_rgb")


def build_model(config, vocab_size: int, concept_cnn=None) -> keras.Model:
    """The captioner for ``config`` (see :class:`CaptioningConfig`); with
    ``concept_cnn`` (the prepare stage's concept-pretrained CNN) that network
    is the CNN, frozen unless ``train_encoder``."""
    options = {k: getattr(config, k) for k in DECODER_OPTIONS}
    options = {k: v for k, v in options.items() if v is not None}
    wrong = LSTM_ONLY if config.decoder == "transformer" else TRANSFORMER_ONLY
    for key in wrong:
        if key in options:
            raise ConfigError(
                f"The {config.decoder} decoder takes no option {key!r}. "
                f"Received: {key}={options[key]!r}"
            )
    if config.backbone:
        # A keras.applications network replaces the registry CNN; it is cut at
        # feature_layer (default: its last feature map), frozen when pretrained
        # (its own trainable flags then hold: see dltoolkit.models.backbones).
        if config.encoder_weights:
            raise ConfigError(
                "Set one CNN source: backbone or encoder_weights. Received: "
                f"backbone={config.backbone!r}, "
                f"encoder_weights={config.encoder_weights!r}"
            )
        if pretrained(config) and config.train_encoder is not None:
            raise ConfigError(
                "A pretrained backbone is frozen; to train it use "
                "fine_tune_at_epoch (1: from the start) instead of train_encoder."
            )
        shape = (config.image_size, config.image_size, 3)
        encoder = backbone_features(
            config, shape, feature_layer=options.pop("feature_layer", None)
        )
        trainable = None if pretrained(config) else config.train_encoder is not False
    elif concept_cnn is not None:
        encoder = concept_cnn
        trainable = bool(config.train_encoder)
        options.pop("feature_layer", None)  # the CNN was cut there already
    elif config.encoder_weights:
        encoder = pretrained_cnn(config.encoder_weights, config.image_size)
        trainable = bool(config.train_encoder)
    else:
        encoder = config.encoder
        trainable = config.train_encoder is not False
        if config.encoder_activation:
            options["encoder_options"] = {"activation": config.encoder_activation}
    try:
        return get_builder("captioner")(
            (config.image_size, config.image_size, 3),
            vocab_size,
            caption_length=config.max_caption_length + 1,
            encoder=encoder,
            encoder_trainable=trainable,
            decoder=config.decoder,
            **options,
        )
    except ValueError as err:
        raise ConfigError(str(err)) from None


def make_caption(model, config, vocabulary: list[str], *, beam_width: int):
    """``images (B, S, S, 3) float32 -> {"caption": (B,) string, "ids"}``.

    Greedy search (``beam_width`` 1) or beam search (GNMT length penalty
    ``config.length_penalty``) over the model's step function; padding,
    ``[UNK]`` and ``[start]`` are never generated. Not yet a ``tf.function``.
    """
    encode, step = captioner_step_fn(model)
    words = tf.constant(vocabulary)

    def caption(images):
        ids = best_sequence(
            step,
            tf.fill([tf.shape(images)[0], 1], START_ID),
            beam_width=beam_width,
            max_length=config.max_caption_length + 2,  # [start] words [end]
            end_id=END_ID,
            length_penalty=config.length_penalty,
            banned_ids=_BANNED,
            state=encode(images),
            no_repeat_ngram=config.no_repeat_ngram,
        )[:, 1:]  # (B, L - 1), no [start]
        text = tf.strings.reduce_join(
            tf.ragged.boolean_mask(tf.gather(words, ids), ids >= FIRST_WORD_ID),
            axis=1,
            separator=" ",
        )
        return {"caption": text, "ids": ids}

    return caption


def make_serve(caption, image_size: int):
    """``images (B,) encoded bytes -> {"caption", "status"}`` around ``caption``.

    Bytes that are not PNG, JPEG, GIF or BMP give the caption ``""`` and the
    status ``"not an image"`` (the others ``"ok"``); grayscale, gray+alpha,
    RGBA and palette images become RGB; any size is resized to the model's.
    """

    def serve(images):
        pixels, ok = decode_image_batch_masked(images, image_size, 3)
        out = caption(pixels)
        return {
            "caption": tf.where(ok, out["caption"], ""),
            "status": tf.where(ok, STATUS_OK, STATUS_NOT_IMAGE),
        }

    return serve
