"""DCGAN image generation, judged by a classifier of the real images.

python -m apps.gan train --profile quick            # 16x16 digits
python -m apps.gan train --set data=mnist --set image_size=32
python -m apps.gan predict --run-dir DIR 7 42:16    # seeds (SEED or SEED:COUNT)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import tensorflow as tf

from dltoolkit.apps.gan.evaluation import (
    CLASSIFIER_DIR,
    make_scorer,
    plot_gan_curves,
    sample_scores,
)
from dltoolkit.data.images import load_images, prepare_image
from dltoolkit.errors import ConfigError, DataError
from dltoolkit.metrics.frechet import FrechetDistanceCallback, feature_frechet_distance
from dltoolkit.models import get_builder
from dltoolkit.models.dcgan import dcgan_stages
from dltoolkit.models.gan import GAN, GENERATOR_LOSSES, interpolate, seeded_noise
from dltoolkit.training import runner
from dltoolkit.training.app import App, Evaluation, Pipelines
from dltoolkit.training.config import TrainConfig
from dltoolkit.training.export import EXPORT_DIR, export_saved_model, load_export
from dltoolkit.training.gan_samples import SampleGridCallback
from dltoolkit.training.plots import image_grid, save_png
from dltoolkit.training.report import markdown_table

MIN_IMAGE_SIZE = 16  # the judge is LeNet-5


@dataclasses.dataclass
class GanConfig(TrainConfig):
    """Config of the GAN app.

    Attributes:
        data: ``digits`` (bundled), ``mnist``, ``fashion_mnist``, ``tfds:NAME``
            (from the TFDS data dir) or an image folder (one sub-folder per
            class; images of any size are resized to image_size x image_size,
            aspect ratio not kept).
        data_dir: the TFDS data dir (default: TFDS's own).
        image_size: side of the generated images; a power-of-two multiple of
            at least 16 (16, 28, 32, 64...).
        channels: 1 or 3; None takes the data's own.
        latent_dim: size of the noise z.
        generator_width, discriminator_width: DCGAN widths (filters of the
            generator's last hidden layer and of the discriminator's first).
        k: discriminator steps per generator step; each step's batch of
            batch_size real images is split into k minibatches.
        label_smoothing: one-sided smoothing of the real targets.
        generator_loss: ``non_saturating`` or ``minimax``.
        classifier_epochs: epochs of the judge (LeNet-5 on the real images).
        eval_samples: generated samples scored at the end (and real training
            images in frechet_distance_real).
        val_samples: generated samples scored each epoch (val_frechet_distance).
        sample_every: write a sample grid every this many epochs.
        interpolation_seeds: the two seeds of the interpolation strip.
        beta_1: Adam's beta_1 for both networks (the DCGAN paper's 0.5; Keras's
            0.9 gives blurrier samples here); other optimizers have none.
    """

    data: str = "digits"
    data_dir: str | None = None
    image_size: int = 16
    channels: int | None = None
    latent_dim: int = 64
    generator_width: int = 64
    discriminator_width: int = 64
    k: int = 1
    label_smoothing: float = 0.1
    generator_loss: str = "non_saturating"
    classifier_epochs: int = 20
    eval_samples: int = 1000
    val_samples: int = 500
    sample_every: int = 1
    interpolation_seeds: tuple[int, ...] = (1, 2)
    beta_1: float = 0.5
    learning_rate: float = 2e-4
    batch_size: int = 64
    early_stopping_monitor: str = "val_frechet_distance"


PROFILES = {
    "smoke": dict(
        epochs=2,
        generator_width=8,
        discriminator_width=8,
        latent_dim=16,
        classifier_epochs=2,
        eval_samples=200,
        val_samples=100,
    ),
    # quick: 16x16 digits, batch 64, 150 epochs, and a discriminator half as
    # wide as the generator. A discriminator as wide as the generator
    # overpowers it (D(G(z)) collapses towards 0) and the generator drops the
    # rarer digits; the narrower one keeps them in the samples.
    "quick": dict(
        epochs=150, batch_size=64, discriminator_width=32, classifier_epochs=30
    ),
    # full: 32x32 images, a 100-dimensional latent, more epochs and a larger
    # evaluation sample: sample detail and a steadier score for run time.
    "full": dict(
        epochs=200,
        batch_size=32,
        image_size=32,
        latent_dim=100,
        classifier_epochs=40,
        eval_samples=2000,
    ),
}


class GanApp(App):
    name = "gan"
    config_cls = GanConfig
    data_fields = ("data", "data_dir", "image_size", "channels")
    profiles = PROFILES
    headline = "frechet_distance"
    objective = "val_frechet_distance"
    diagnose_fit = False

    def __init__(self):
        self._scorers = {}

    # === Data ===

    def load_data(self, config):
        _check_config(config)
        data = load_images(config.data, data_dir=config.data_dir, seed=config.seed)
        if len(data.class_names) < 2:
            raise DataError(
                f"{data.source} has {len(data.class_names)} class; the GAN app's "
                "judge is a classifier of the real images and needs at least 2."
            )
        if config.channels:
            data.channels = config.channels
        if min(data.sizes["val"], data.sizes["test"]) < 2:
            raise DataError(
                f"{data.source} leaves {data.sizes['val']} validation and "
                f"{data.sizes['test']} test images; the Fréchet distances fit "
                "Gaussians to them and need at least 2 of each."
            )
        if data.sizes["train"] < config.batch_size:
            raise DataError(
                f"{data.source} has {data.sizes['train']} training images, fewer "
                f"than one batch (batch_size={config.batch_size})."
            )
        return data

    def describe_data(self, data) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in data.sizes.items())
        return (
            f"{data.source}; {len(data.class_names)} classes; {sizes} images; "
            f"{data.channels} channel(s). Every image is resized to the model's "
            "size (aspect ratio not kept) and scaled to [-1, 1]."
        )

    def pipelines(self, config, data) -> Pipelines:
        def batches(split, shuffle, drop_remainder):
            ds = split.map(
                lambda x, y: (
                    prepare_image(x, config.image_size, data.channels) * 2.0 - 1.0,
                    y,
                ),
                num_parallel_calls=tf.data.AUTOTUNE,
            ).cache()
            if shuffle:
                ds = ds.shuffle(4096, seed=config.seed, reshuffle_each_iteration=True)
            ds = ds.batch(config.batch_size, drop_remainder=drop_remainder)
            return ds.prefetch(tf.data.AUTOTUNE)

        return Pipelines(
            train=batches(data.train, True, True),
            val=batches(data.val, False, False),
            steps_per_epoch=data.sizes["train"] // config.batch_size,
        )

    # === Model ===

    def build_model(self, config, data):
        keras.utils.set_random_seed(config.seed)
        shape = (config.image_size, config.image_size, data.channels)
        generator = get_builder("dcgan_generator")(
            shape, latent_dim=config.latent_dim, width=config.generator_width
        )
        discriminator = get_builder("dcgan_discriminator")(
            shape, width=config.discriminator_width
        )
        return GAN(
            generator,
            discriminator,
            k=config.k,
            label_smoothing=config.label_smoothing,
            generator_loss=config.generator_loss,
            seed=config.seed,
            optimizer_settings={"beta_1": config.beta_1},
            name="dcgan",
        )

    def loss_and_metrics(self, config):
        return None, []  # the GAN computes its own losses

    def scorer(self, config, data, run_dir: Path | None = None, verbose=0):
        """The judge for this data and size (trained once per run dir)."""
        key = (
            config.data,
            config.image_size,
            data.channels,
            config.seed,
            config.classifier_epochs,
            config.eval_samples,
            None if run_dir is None else str(run_dir),
        )
        if key not in self._scorers:
            directory = None if run_dir is None else Path(run_dir) / CLASSIFIER_DIR
            self._scorers[key] = make_scorer(config, data, directory, verbose=verbose)
        return self._scorers[key]

    def prepare(self, config, data, run_dir: Path) -> None:
        """Trains the judge (a LeNet-5 on the real training images) in
        ``run_dir/classifier``, or reloads it from there."""
        if not (Path(run_dir) / CLASSIFIER_DIR).is_dir():
            print(f"judge: LeNet-5 on the real training images ({CLASSIFIER_DIR}/)")
        self.scorer(config, data, run_dir, verbose=None)

    def callbacks(self, config, data, model, run_dir: Path):
        scorer = self.scorer(config, data, run_dir)
        noise = seeded_noise(config.seed + 7919, config.val_samples, config.latent_dim)

        def sample_features(gan):
            return scorer(gan.generate(noise.numpy()))[0]

        return [
            FrechetDistanceCallback(sample_features, scorer.real["val"]),
            SampleGridCallback(Path(run_dir) / "samples", every=config.sample_every),
        ]

    # === Evaluation ===

    def evaluate(self, model, data, config, run_dir: Path) -> Evaluation:
        run_dir = Path(run_dir)
        scorer = self.scorer(config, data, run_dir)
        n, classes = config.eval_samples, len(data.class_names)
        noise = seeded_noise(config.seed + 104729, n, config.latent_dim).numpy()
        generated = model.generate(noise)
        scores = sample_scores(scorer, generated, classes)
        untrained = self.build_model(config, data)
        untrained_scores = sample_scores(scorer, untrained.generate(noise), classes)
        metrics = {
            "frechet_distance": scores["frechet_distance"],
            "frechet_distance_real": feature_frechet_distance(
                scorer.real["train"], scorer.real["test"]
            ),
            "frechet_distance_untrained": untrained_scores["frechet_distance"],
            "min_class_share": scores["min_class_share"],
            "mean_confidence": scores["mean_confidence"],
            "mean_confidence_real": float(scorer.real["test_confidence"].mean()),
            "classifier_accuracy": scorer.accuracy,
            "generated_samples": n,
        }
        fixed = keras.ops.convert_to_numpy(model.fixed_noise)
        grid = save_png(image_grid(model.generate(fixed)), run_dir / "samples.png")
        seeds = config.interpolation_seeds
        ends = [seeded_noise(s, 1, config.latent_dim).numpy()[0] for s in seeds]
        path = interpolate(ends[0], ends[1], 10)
        strip = save_png(
            image_grid(model.generate(path), columns=10), run_dir / "interpolation.png"
        )
        plots = [
            plot_gan_curves(runner.read_history(run_dir), run_dir / "gan_curves.png")
        ]
        names = data.class_names
        shares = [
            [names[i], f"{scores['class_shares'][i]:.3f}"] for i in range(classes)
        ]
        sections = [
            (
                "Samples",
                f"![samples]({grid.name}) Final samples from the fixed noise "
                f"(one grid per epoch in `samples/`).\n\n![interpolation]"
                f"({strip.name}) Spherical interpolation from seed {seeds[0]} "
                f"to seed {seeds[1]}.",
            ),
            (
                "Classes of the generated samples (judge's top class)",
                markdown_table(["class", "share"], shares),
            ),
            (
                "How the judge scores",
                f"LeNet-5 trained on the real training split (test accuracy "
                f"{scorer.accuracy:.4f}); Fréchet distances are between Gaussians "
                f"fitted to its penultimate-layer features of {n} generated (or "
                "real training) images and of the held-out real test images. "
                "The adversarial losses need not fall as a GAN improves, so no "
                "learning-curve diagnosis is made: `val_frechet_distance` (in "
                "`gan_curves.png`) is the measure that picks the best epoch.",
            ),
        ]
        return Evaluation(metrics=metrics, sections=sections, plots=plots)

    # === Export and predict ===

    def export(self, model, data, config, path: Path) -> Path:
        generator, latent_dim = model.generator, config.latent_dim

        def serve(seed, count):
            z = seeded_noise(seed, count, latent_dim)  # (count, latent_dim)
            images = tf.cast(generator(z, training=False), tf.float32)
            images = tf.cast(
                tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)),
                tf.uint8,
            )
            png = tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string)
            return {"images": images, "png": png}

        return export_saved_model(
            path,
            generator,
            serve,
            [
                tf.TensorSpec([], tf.int64, name="seed"),
                tf.TensorSpec([], tf.int32, name="count"),
            ],
        )

    def predict(self, run_dir: Path, inputs: list[str]) -> list[str]:
        serve = load_export(Path(run_dir) / EXPORT_DIR)
        lines = []
        for text in inputs:
            seed, count = _parse_seed(text)
            out = serve(seed=tf.constant(seed, tf.int64), count=tf.constant(count))
            images = out["images"].numpy().astype("float32") / 255.0
            path = save_png(
                image_grid(images), Path(run_dir) / "predict" / f"seed_{seed}.png"
            )
            lines.append(f"{text}\t{count} images\t{path}")
        return lines


def _parse_seed(text: str) -> tuple[int, int]:
    seed, _, count = text.partition(":")
    try:
        seed, count = int(seed), int(count or 16)
    except ValueError:
        raise DataError(
            f"Inputs are integer seeds, SEED or SEED:COUNT. Received: {text!r}"
        ) from None
    if not 1 <= count <= 1024:
        raise DataError(f"COUNT must be in 1..1024. Received: {text!r}")
    return seed, count


def _check_config(config) -> None:
    size = config.image_size
    if size < MIN_IMAGE_SIZE:
        raise ConfigError(
            f"image_size must be at least {MIN_IMAGE_SIZE} (the judge is LeNet-5). "
            f"Received: image_size={size}"
        )
    try:
        dcgan_stages(size, size)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if config.channels not in (None, 1, 3):
        raise ConfigError(
            f"channels must be 1 or 3. Received: channels={config.channels}"
        )
    if config.generator_loss not in GENERATOR_LOSSES:
        raise ConfigError(
            f"generator_loss must be one of {', '.join(GENERATOR_LOSSES)}. "
            f"Received: generator_loss={config.generator_loss!r}"
        )
    if not 1 <= config.k <= config.batch_size:
        raise ConfigError(
            f"k must be between 1 and batch_size ({config.batch_size}). "
            f"Received: k={config.k}"
        )
    if not 0 <= config.label_smoothing < 1:
        raise ConfigError(
            "label_smoothing must be in [0, 1). "
            f"Received: label_smoothing={config.label_smoothing}"
        )
    if len(config.interpolation_seeds) != 2:
        raise ConfigError(
            "interpolation_seeds takes two seeds. "
            f"Received: interpolation_seeds={config.interpolation_seeds}"
        )
    for key in ("eval_samples", "val_samples"):
        if getattr(config, key) < 2:
            raise ConfigError(f"{key} must be >= 2. Received: {getattr(config, key)}")


APP = GanApp()
