"""Autoencoders in use: denoising, VAE samples and latent map, anomaly scores.

python -m apps.autoencode train --profile quick
python -m apps.autoencode predict --run-dir DIR noisy.png
python -m tuning autoencode --tuner random --max-trials 8

The main model (``variant``, a denoising autoencoder by default) trains in the
run dir and is exported; with ``compare=true`` the other variants (plain,
tied, denoising, sparse, contractive, VAE) and an anomaly model trained
without ``anomaly_class`` train beside it in ``companions/<name>/``, each
resumable, so the report can show what each regularizer does.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.apps.autoencode import evaluation
from dltoolkit.data.image_arrays import load_image_arrays
from dltoolkit.data.images import decode_image_batch
from dltoolkit.data.inputs import read_image_files
from dltoolkit.errors import ConfigError
from dltoolkit.models import autoencoders as ae
from dltoolkit.models.vae import build_vae
from dltoolkit.training import runner
from dltoolkit.training.app import App, Evaluation, Pipelines
from dltoolkit.training.config import TrainConfig
from dltoolkit.training.export import EXPORT_DIR, export_saved_model, load_export

VARIANTS = (
    "plain",
    "undercomplete",
    "overcomplete",
    "tied",
    "denoising",
    "sparse",
    "contractive",
    "conv",
    "vae",
)
# The variants the report compares (all with the same code size).
COMPARED = ("plain", "tied", "denoising", "sparse", "contractive", "vae")
COMPANIONS_DIR = "companions"
ANOMALY = "anomaly"


@dataclasses.dataclass
class AutoencodeConfig(TrainConfig):
    """Config of the autoencode app.

    Attributes:
        data: ``digits`` (bundled), a TFDS name, an image folder (one
            sub-folder per class; images of mixed sizes are resized to
            image_size) or a ``.npy`` / ``.npz`` (``x``, ``y``) array file.
        data_dir: the TFDS data dir.
        image_size: images are resized to image_size x image_size.
        channels: 1 or 3; None keeps the data's own.
        variant: the exported model: one of :data:`VARIANTS`.
        code_size: units of the code h (dense variants).
        hidden_units: encoder layers before the code (the contractive variant
            always uses a one-layer encoder).
        noise: masking probability q the denoising (and conv) variant
            trains with.
        test_noise: masking probability of the corruption the validation
            ``val_denoise_mse`` and the test PSNR are measured on (fixed, so
            trials with other ``noise`` compare).
        sparsity, sparsity_weight: rho and beta of the sparse variant.
        contraction: lambda of the contractive variant.
        filters: conv variant stages.
        latent_dim, vae_hidden_units: the VAE's z size and hidden layers.
        compare: also train the other variants and the anomaly model.
        anomaly_class: the class the anomaly model never sees (None: no
            class-based anomaly score).
    """

    data: str = "digits"
    data_dir: str | None = None
    image_size: int = 8
    channels: int | None = None
    variant: str = "denoising"
    code_size: int = 32
    hidden_units: tuple[int, ...] = ()
    noise: float = 0.3
    test_noise: float = 0.3
    sparsity: float = 0.05
    sparsity_weight: float = 0.1
    contraction: float = 0.01
    filters: tuple[int, ...] = (16, 8)
    latent_dim: int = 2
    vae_hidden_units: tuple[int, ...] = (128,)
    compare: bool = True
    anomaly_class: int | None = 0


# quick trains all seven models (with compare=true) just long enough for each
# variant's effect to show (denoising gain, sparsity reached, contraction,
# anomaly separation) within minutes on a CPU. full trains them to
# convergence: up to 400 epochs with early stopping, a smaller batch and rate,
# and the performance schedule to lower the rate when validation loss stalls.
PROFILES = {
    "smoke": dict(epochs=1, batch_size=64, learning_rate=0.01),
    "quick": dict(
        epochs=60,
        batch_size=64,
        learning_rate=0.005,
        early_stopping_patience=10,
    ),
    "full": dict(
        epochs=400,
        batch_size=32,
        learning_rate=0.003,
        early_stopping_patience=40,
        schedule="performance",
        perf_patience=10,
    ),
}


class DenoiseScore(keras.callbacks.Callback):
    """Logs ``val_denoise_mse``: the model on masked validation images against
    the clean ones (a fixed mask, so epochs compare)."""

    def __init__(self, clean: np.ndarray, q: float, seed: int):
        super().__init__()
        self.clean = clean
        self.noisy = evaluation.mask(clean, q, seed)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            out = keras.ops.convert_to_numpy(self.model(self.noisy, training=False))
            logs["val_denoise_mse"] = float(np.mean((out - self.clean) ** 2))


class AutoencodeApp(App):
    name = "autoencode"
    config_cls = AutoencodeConfig
    data_fields = ("data", "data_dir", "image_size", "channels")
    profiles = PROFILES
    headline = "psnr_denoised"
    objective = "val_denoise_mse"

    # === Data ===

    def load_data(self, config):
        if config.variant not in VARIANTS:
            raise ConfigError(
                f"Unknown variant {config.variant!r}. Valid: {', '.join(VARIANTS)}."
            )
        for key in ("noise", "test_noise"):
            if not 0.0 <= getattr(config, key) < 1.0:
                raise ConfigError(
                    f"{key} must be in [0, 1). Received: {key}={getattr(config, key)}"
                )
        if config.image_size < 4:
            raise ConfigError(f"image_size must be >= 4. Received: {config.image_size}")
        return load_image_arrays(
            config.data,
            image_size=config.image_size,
            channels=config.channels,
            data_dir=config.data_dir,
            seed=config.seed,
        )

    def describe_data(self, data) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in data.sizes.items())
        shape = "x".join(str(d) for d in data.x_train.shape[1:])
        return f"{data.source}; {sizes} images of {shape} (values in [0, 1])."

    def _pipe(self, x, config, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x, x))
        if shuffle:
            ds = ds.shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
        return ds.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)

    def pipelines(self, config, data) -> Pipelines:
        return Pipelines(
            train=self._pipe(data.x_train, config, True),
            val=self._pipe(data.x_val, config, False),
            steps_per_epoch=math.ceil(len(data.x_train) / config.batch_size),
        )

    # === Models ===

    def build_variant(self, variant: str, config, shape):
        """The uncompiled model of ``variant`` for images of ``shape``."""
        keras.utils.set_random_seed(config.seed)
        size = math.prod(shape)
        dense = dict(code_size=config.code_size, hidden_units=config.hidden_units)
        if variant == "vae":
            return build_vae(
                shape,
                latent_dim=config.latent_dim,
                hidden_units=config.vae_hidden_units,
                seed=config.seed,
            )
        if variant == "conv":
            return ae.build_conv_autoencoder(
                shape, filters=config.filters, noise=config.noise, seed=config.seed
            )
        if variant == "plain":
            return ae.build_autoencoder(shape, **dense)
        if variant == "undercomplete":
            return ae.build_undercomplete_autoencoder(shape, **dense)
        if variant == "overcomplete":
            code = config.code_size if config.code_size > size else 2 * size
            return ae.build_overcomplete_autoencoder(
                shape, code_size=code, hidden_units=config.hidden_units
            )
        if variant == "tied":
            return ae.build_tied_autoencoder(shape, **dense)
        if variant == "denoising":
            return ae.build_denoising_autoencoder(
                shape, noise=config.noise, seed=config.seed, **dense
            )
        if variant == "sparse":
            return ae.build_sparse_autoencoder(
                shape,
                sparsity=config.sparsity,
                sparsity_weight=config.sparsity_weight,
                **dense,
            )
        if variant == "contractive":
            return ae.build_contractive_autoencoder(
                shape, contraction=config.contraction, code_size=config.code_size
            )
        raise ConfigError(f"Unknown variant {variant!r}. Valid: {', '.join(VARIANTS)}.")

    def build_model(self, config, data):
        return self.build_variant(config.variant, config, data.x_train.shape[1:])

    def loss_and_metrics(self, config):
        return self._loss_for(config.variant)

    @staticmethod
    def _loss_for(variant):
        # The VAE's train_step computes its own loss (reconstruction + KL).
        return (None, []) if variant == "vae" else ("mse", ["mse"])

    def callbacks(self, config, data, model, run_dir) -> list:
        return [DenoiseScore(data.x_val, config.test_noise, config.seed + 2)]

    def companions(self, config, data) -> list[str]:
        """The extra models trained beside the main one."""
        if not config.compare:
            return []
        names = [v for v in COMPARED if v != config.variant]
        if self._anomaly_class(config, data) is not None:
            names.append(ANOMALY)
        return names

    def _anomaly_class(self, config, data):
        k = config.anomaly_class
        if k is None or not data.labelled:
            return None
        if not 0 <= k < len(data.class_names):
            raise ConfigError(
                f"anomaly_class must be a class index in [0, {len(data.class_names)})"
                f" or none. Received: anomaly_class={k}"
            )
        return k

    def prepare(self, config, data, run_dir: Path) -> None:
        """Trains the companion models (the other variants and the anomaly
        model) in ``run_dir/companions/NAME`` (resumable, reused when done).
        """
        shape = data.x_train.shape[1:]
        todo = [
            name
            for name in self.companions(config, data)
            if not runner.finished(Path(run_dir) / COMPANIONS_DIR / name, config)
        ]
        # Every model builds first, so a bad setting fails before any training.
        for name in [config.variant, *todo] if todo else []:
            self.build_variant(
                config.variant if name == ANOMALY else name, config, shape
            )
        for name in todo:
            variant, x_train, x_val = name, data.x_train, data.x_val
            if name == ANOMALY:  # the main variant, never shown the class
                k = self._anomaly_class(config, data)
                variant = config.variant
                x_train = data.x_train[data.y_train != k]
                x_val = data.x_val[data.y_val != k]
            loss, metrics = self._loss_for(variant)
            runner.fit(
                lambda v=variant: self.build_variant(v, config, shape),
                self._pipe(x_train, config, True),
                self._pipe(x_val, config, False),
                config=config,
                run_dir=Path(run_dir) / COMPANIONS_DIR / name,
                steps_per_epoch=math.ceil(len(x_train) / config.batch_size),
                loss=loss,
                metrics=metrics,
                model_callbacks=lambda model, xv=x_val: [
                    DenoiseScore(xv, config.test_noise, config.seed + 2)
                ],
            )

    # === Evaluation ===

    def evaluate(self, model, data, config, run_dir: Path) -> Evaluation:
        companions = {}
        for name in self.companions(config, data):
            path = Path(run_dir) / COMPANIONS_DIR / name
            if (path / runner.MODEL_FILE).is_file():
                companions[name] = runner.load_trained_model(path)
        return evaluation.evaluate(
            model,
            companions,
            data,
            config,
            Path(run_dir),
            anomaly_class=self._anomaly_class(config, data),
        )

    # === Export and predict ===

    def export(self, model, data, config, path: Path) -> Path:
        size, channels = config.image_size, data.channels

        def serve(images):
            x = decode_image_batch(images, size, channels)  # (batch, s, s, c)
            out = tf.clip_by_value(tf.cast(model(x, training=False), tf.float32), 0, 1)
            denoised = tf.cast(tf.round(out * 255.0), tf.uint8)
            return {
                "denoised": denoised,
                "png": tf.map_fn(
                    tf.io.encode_png,
                    denoised,
                    fn_output_signature=tf.TensorSpec([], tf.string),
                ),
                "anomaly_score": tf.reduce_mean(tf.square(out - x), axis=[1, 2, 3]),
            }

        return export_saved_model(
            path, model, serve, [tf.TensorSpec([None], tf.string, name="images")]
        )

    def predict(self, run_dir: Path, inputs: list[str]) -> list[str]:
        serve = load_export(Path(run_dir) / EXPORT_DIR)
        out = serve(images=tf.constant(read_image_files(inputs)))
        out_dir = Path(run_dir) / "predictions"
        out_dir.mkdir(exist_ok=True)
        lines = []
        for i, name in enumerate(inputs):
            target = out_dir / f"{Path(name).stem}.denoised.png"
            target.write_bytes(out["png"][i].numpy())
            score = float(out["anomaly_score"][i])
            lines.append(f"{name}\t{score:.6f}\t{target}")
        return lines


APP = AutoencodeApp()
