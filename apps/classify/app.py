"""Image classification with any registered CNN or MLP.

python -m apps.classify train --profile quick            # LeNet-5 on digits
python -m apps.classify train --set model=vgg16 --set data=cifar10
python -m apps.classify train --set backbone=keras:MobileNetV2 \
    --set backbone_weights=imagenet                      # pretrained, frozen
python -m apps.classify predict --run-dir DIR a.png b.jpg
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.data.images import decode_image_batch, load_images, make_pipeline
from dltoolkit.data.inputs import read_image_files
from dltoolkit.errors import ConfigError
from dltoolkit.models import get_builder
from dltoolkit.models.backbones import (
    BackboneConfig,
    backbone_features,
    check_backbone_config,
    fine_tune_callbacks,
)
from dltoolkit.training.app import App, Evaluation, Pipelines
from dltoolkit.training.config import TrainConfig
from dltoolkit.training.export import EXPORT_DIR, export_saved_model, load_export
from dltoolkit.training.plots import plot_confusion_matrix, plot_image_grid
from dltoolkit.training.report import markdown_table

# Builder options the config passes through when set (None: builder default).
BUILDER_OPTIONS = (
    "activation",
    "kernel_initializer",
    "regularizer",
    "regularization",
    "dropout",
    "batch_norm",
    "hidden_units",
)


@dataclasses.dataclass
class ClassifyConfig(TrainConfig, BackboneConfig):
    """Config of the classification app.

    With ``backbone`` set (:class:`~dltoolkit.models.backbones.BackboneConfig`)
    the model is that network, global average pooling, ``dropout`` and a new
    softmax layer; ``model`` and the other builder options are not used, and
    the images are read as RGB.

    Attributes:
        data: ``digits`` (bundled), ``mnist``, ``fashion_mnist``, ``cifar10``,
            ``tfds:NAME`` (from the TFDS data dir) or an image folder path.
        data_dir: the TFDS data dir (default: TFDS's own).
        model: a registered builder (``dltk models`` lists them).
        image_size: images are resized to image_size x image_size.
        channels: 1 or 3; None takes the data's own (3 for folders).
        activation, kernel_initializer, regularizer, regularization, dropout,
            batch_norm, hidden_units: builder options; None keeps the
            builder's default.
        augment: random shift/rotation strength for training images (0: off).
    """

    data: str = "digits"
    data_dir: str | None = None
    model: str = "lenet5"
    image_size: int = 32
    channels: int | None = None
    activation: str | None = None
    kernel_initializer: str | None = None
    regularizer: str | None = None
    regularization: float | None = None
    dropout: float | None = None
    batch_norm: bool | None = None
    hidden_units: tuple[int, ...] | None = None
    augment: float = 0.0


# quick: LeNet-5 with ReLU and He initialization (its default tanh saturates)
# and light augmentation against overfitting the small digits set, in under a
# minute on a CPU. full: more epochs, with the performance schedule lowering
# the rate when validation loss stalls.
PROFILES = {
    "smoke": dict(epochs=1, batch_size=64),
    "quick": dict(
        epochs=40,
        batch_size=32,
        activation="relu",
        kernel_initializer="he_normal",
        augment=0.1,
        early_stopping_patience=10,
    ),
    "full": dict(
        epochs=100,
        batch_size=32,
        activation="relu",
        kernel_initializer="he_normal",
        augment=0.1,
        early_stopping_patience=20,
        schedule="performance",
        perf_patience=5,
    ),
}


class ClassifyApp(App):
    name = "classify"
    config_cls = ClassifyConfig
    data_fields = ("data", "data_dir", "image_size", "channels", "augment")
    profiles = PROFILES
    headline = "accuracy"
    objective = "val_accuracy"

    # === Data ===

    def load_data(self, config):
        if config.channels not in (None, 1, 3):
            raise ConfigError(
                f"channels must be 1 or 3. Received: channels={config.channels}"
            )
        check_backbone_config(config)
        if config.backbone and config.channels == 1:
            raise ConfigError(
                f"backbone={config.backbone} reads RGB images; leave channels "
                "unset or set channels=3."
            )
        data = load_images(config.data, data_dir=config.data_dir, seed=config.seed)
        if config.channels:
            data.channels = config.channels
        if config.backbone:
            data.channels = 3  # grayscale images are repeated to RGB
        return data

    def describe_data(self, data) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in data.sizes.items())
        return (
            f"{data.source}; {len(data.class_names)} classes; {sizes} images; "
            f"model input {data.channels} channel(s)."
        )

    def pipelines(self, config, data) -> Pipelines:
        kwargs = dict(
            image_size=config.image_size,
            channels=data.channels,
            batch_size=config.batch_size,
            seed=config.seed,
        )
        return Pipelines(
            train=make_pipeline(
                data.train, shuffle=True, augment=config.augment, **kwargs
            ),
            val=make_pipeline(data.val, shuffle=False, **kwargs),
            steps_per_epoch=math.ceil(data.sizes["train"] / config.batch_size),
        )

    def test_pipeline(self, config, data):
        return make_pipeline(
            data.test,
            image_size=config.image_size,
            channels=data.channels,
            batch_size=config.batch_size,
            shuffle=False,
        )

    # === Model ===

    def build_model(self, config, data):
        if config.backbone:
            return backbone_classifier(config, len(data.class_names))
        builder = get_builder(config.model)
        accepted = inspect.signature(builder).parameters
        options = {}
        for key in BUILDER_OPTIONS:
            value = getattr(config, key)
            if value is None:
                continue
            if key not in accepted:
                takes = [k for k in BUILDER_OPTIONS if k in accepted]
                raise ConfigError(
                    f"Model {config.model!r} takes no option {key!r}; "
                    f"it takes: {', '.join(takes)}."
                )
            options[key] = value
        shape = (config.image_size, config.image_size, data.channels)
        return builder(shape, len(data.class_names), **options)

    def loss_and_metrics(self, config):
        return "sparse_categorical_crossentropy", ["accuracy"]

    def callbacks(self, config, data, model, run_dir):
        return fine_tune_callbacks(config)

    def chance_loss(self, config, data):
        return math.log(len(data.class_names))  # uniform over the classes

    # === Evaluation ===

    def evaluate(self, model, data, config, run_dir: Path) -> Evaluation:
        from sklearn.metrics import confusion_matrix

        images, labels = [], []
        for x, y in self.test_pipeline(config, data):
            images.append(x.numpy())
            labels.append(y.numpy())
        images = np.concatenate(images)
        labels = np.concatenate(labels)
        probs = model.predict(images, batch_size=config.batch_size, verbose=0)
        pred = probs.argmax(axis=1)
        accuracy = float((pred == labels).mean())
        names = data.class_names
        matrix = confusion_matrix(labels, pred, labels=range(len(names)))
        cm_path = plot_confusion_matrix(matrix, names, run_dir / "confusion_matrix.png")
        show = min(16, len(images))
        grid_path = plot_image_grid(
            images[:show],
            [f"{names[p]} ({names[t]})" for p, t in zip(pred[:show], labels[:show])],
            run_dir / "test_samples.png",
        )
        per_class = [
            [
                names[i],
                int(matrix[i].sum()),
                float(matrix[i, i] / max(1, matrix[i].sum())),
            ]
            for i in range(len(names))
        ]
        samples = [
            [i, names[labels[i]], names[pred[i]], float(probs[i, pred[i]])]
            for i in range(show)
        ]
        sections = [
            (
                "Per-class accuracy",
                markdown_table(["class", "test images", "accuracy"], per_class),
            ),
            (
                "Sample predictions (test split)",
                markdown_table(["#", "true", "predicted", "probability"], samples)
                + "\n\nImages: `test_samples.png` (title: predicted (true)).",
            ),
        ]
        return Evaluation(
            metrics={"accuracy": accuracy, "test_examples": int(len(labels))},
            sections=sections,
            plots=[cm_path, grid_path],
        )

    # === Export and predict ===

    def export(self, model, data, config, path: Path) -> Path:
        size, channels = config.image_size, data.channels
        class_names = tf.constant(data.class_names)

        def serve(images):
            x = decode_image_batch(images, size, channels)  # (batch, s, s, c)
            probabilities = tf.cast(model(x, training=False), tf.float32)
            class_id = tf.argmax(probabilities, axis=-1)
            return {
                "label": tf.gather(class_names, class_id),
                "class_id": class_id,
                "probabilities": probabilities,
            }

        return export_saved_model(
            path, model, serve, [tf.TensorSpec([None], tf.string, name="images")]
        )

    def predict(self, run_dir: Path, inputs: list[str]) -> list[str]:
        serve = load_export(Path(run_dir) / EXPORT_DIR)
        out = serve(images=tf.constant(read_image_files(inputs)))
        lines = []
        for i, name in enumerate(inputs):
            label = out["label"][i].numpy().decode()
            prob = float(out["probabilities"][i][out["class_id"][i]])
            lines.append(f"{name}\t{label}\t{prob:.4f}")
        return lines


def backbone_classifier(config, num_classes: int) -> keras.Model:
    """``backbone`` features -> global average pooling -> dropout -> softmax."""
    shape = (config.image_size, config.image_size, 3)
    features = backbone_features(config, shape)
    image = keras.Input(shape, name="image")
    x = features(image)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if config.dropout:
        x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(
        x
    )
    return keras.Model(image, outputs, name="backbone_classifier")


APP = ClassifyApp()
