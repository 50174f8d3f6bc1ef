"""Concept pretraining: the captioner's CNN learned from the training images'
own captions before the captioner trains.

On a few hundred photographs a captioner trained end to end from scratch
learns the language of its captions long before its CNN tells a dog from a
person: its image input carries no signal the decoder can use, the decoder
learns to ignore it, and every image gets the same fluent caption. A
multi-label classifier gives the CNN a direct signal instead: from the image,
predict which of the most frequent content words its captions use (the
target of a word is the share of the image's references using it), with the
random flips, shifts and rotations of the captioning pipeline and early
stopping on the validation images. The captioner then reads that CNN's
feature map (frozen unless ``train_encoder``). The words come from the
training captions only, so this is still training from scratch: no other
data and no pretrained weights ("visual concepts" as attributes, Yao et al.,
"Boosting Image Captioning with Attributes", ICCV 2017; Fang et al., "From
Captions to Visual Concepts and Back", CVPR 2015).
"""

from __future__ import annotations

import collections
from pathlib import Path

import keras
import numpy as np

from dltoolkit.data.images import augment_layer
from dltoolkit.errors import ConfigError
from dltoolkit.models import get_builder
from dltoolkit.models.captioner import feature_extractor

CNN_FILE = "concept_cnn.keras"
# Words that say nothing about an image: articles, prepositions, pronouns,
# auxiliaries and numerals are left out of the concepts.
FUNCTION_WORDS = frozenset(
    "a an the in of on and is are with to at its his her their while for from "
    "by as into it one two three four who that this there other each some".split()
)


def concept_words(references, count: int) -> list[str]:
    """The ``count`` content words used by the most training images."""
    images = collections.Counter(
        w
        for refs in references
        for w in {w for caption in refs for w in caption.split()}
        if w not in FUNCTION_WORDS
    )
    return [w for w, _ in sorted(images.items(), key=lambda kv: (-kv[1], kv[0]))][
        :count
    ]


def concept_targets(references, words: list[str]) -> np.ndarray:
    """``float32 [n, len(words)]``: the share of each image's references that
    use each word."""
    index = {w: i for i, w in enumerate(words)}
    targets = np.zeros((len(references), len(words)), np.float32)
    for i, refs in enumerate(references):
        for caption in refs:
            for w in set(caption.split()):
                if w in index:
                    targets[i, index[w]] += 1.0 / len(refs)
    return targets


def check_concepts(config) -> None:
    """Concept pretraining trains a registry CNN; it has no other source."""
    if config.concept_epochs < 0 or config.concepts < 1:
        raise ConfigError(
            "concept_epochs must be >= 0 and concepts >= 1. Received: "
            f"concept_epochs={config.concept_epochs}, concepts={config.concepts}"
        )
    if config.concept_epochs and (config.backbone or config.encoder_weights):
        raise ConfigError(
            "concept_epochs pretrains the registry CNN (encoder); it does not "
            "apply to backbone or encoder_weights. Received: "
            f"backbone={config.backbone!r}, encoder_weights={config.encoder_weights!r}"
        )


def pretrain_concepts(config, data, images, path: Path, verbose: int = 2):
    """Trains the concept classifier on ``images`` (the model's float input of
    ``data.train`` and ``data.val``); saves its CNN (feature map out) to
    ``path`` and returns the best validation loss and the words."""
    train_images, val_images = images
    words = concept_words(data.train.references, config.concepts)
    y_train = concept_targets(data.train.references, words)
    y_val = concept_targets(data.val.references, words)
    size = config.image_size
    options = (
        {"activation": config.encoder_activation} if config.encoder_activation else {}
    )
    cnn = feature_extractor(
        get_builder(config.encoder)((size, size, 3), 2, **options),
        config.feature_layer,
    )
    image = keras.Input((size, size, 3), name="image")
    x = image
    if config.augment:
        x = augment_layer(config.augment, config.seed, flip=True)(x)
    x = keras.layers.GlobalAveragePooling2D()(cnn(x))
    x = keras.layers.Dropout(0.3)(x)
    words_out = keras.layers.Dense(len(words), activation="sigmoid", name="concepts")(x)
    model = keras.Model(image, words_out, name="concept_classifier")
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    stop = keras.callbacks.EarlyStopping(
        patience=4, restore_best_weights=True, monitor="val_loss"
    )
    history = model.fit(
        train_images,
        y_train,
        batch_size=32,
        epochs=config.concept_epochs,
        validation_data=(val_images, y_val),
        callbacks=[stop],
        verbose=verbose,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    cnn.save(path)
    return {"val_loss": float(min(history.history["val_loss"])), "words": words}
