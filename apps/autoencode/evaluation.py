"""What the autoencode report measures: PSNR, anomaly AUCs, each variant's
effect (sparsity reached, contraction measured), VAE samples and latent map."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from sklearn.metrics import roc_auc_score

from dltoolkit.apps.autoencode import plots
from dltoolkit.models.autoencoders import (
    encoder_of,
    jacobian_frobenius_norms,
    psnr,
)
from dltoolkit.models.vae import VariationalAutoencoder
from dltoolkit.training.app import Evaluation
from dltoolkit.training.report import markdown_table

SHOWN = 12  # images per row in the figures
JACOBIAN_IMAGES = 100  # test images the Jacobian norms are averaged over


def mask(x: np.ndarray, q: float, seed: int) -> np.ndarray:
    """The course's masking noise: each value set to 0 with probability q."""
    keep = np.random.default_rng(seed).random(x.shape) >= q
    return (x * keep).astype("float32")


def _predict(model, x, chunk: int = 2048):
    """The model's outputs (inference mode), called eagerly in chunks."""
    outs = [
        keras.ops.convert_to_numpy(model(x[i : i + chunk], training=False))
        for i in range(0, len(x), chunk)
    ]
    return np.concatenate(outs).astype("float32")


def _errors(model, x) -> np.ndarray:
    """Per-image mean squared reconstruction error."""
    return np.mean((_predict(model, x) - x) ** 2, axis=tuple(range(1, x.ndim)))


def _encoder(model):
    if isinstance(model, VariationalAutoencoder):
        enc = model.encoder
        return keras.Model(enc.inputs, enc.outputs[0], name="vae_mu")
    return encoder_of(model)


def _variant_row(name, model, x, noisy, config):
    encoder = _encoder(model)
    code = _predict(encoder, x)
    sigmoid_code = not isinstance(model, VariationalAutoencoder) and (
        code.min() >= 0 and code.max() <= 1
    )
    norms = jacobian_frobenius_norms(encoder, x[:JACOBIAN_IMAGES])
    return {
        "variant": name,
        "parameters": model.count_params(),
        "test_mse": float(np.mean((_predict(model, x) - x) ** 2)),
        "psnr_denoised": psnr(x, np.clip(_predict(model, noisy), 0, 1)),
        "mean_activation": float(code.mean()) if sigmoid_code else "n/a",
        "jacobian_norm": float(norms.mean()),
    }


def evaluate(model, companions, data, config, run_dir: Path, *, anomaly_class):
    x, y = data.x_test, data.y_test
    noisy = mask(x, config.test_noise, config.seed + 1)
    denoised = np.clip(_predict(model, noisy), 0, 1)
    metrics = {
        "psnr_noisy": psnr(x, noisy),
        "psnr_denoised": psnr(x, denoised),
        "reconstruction_mse": float(np.mean((_predict(model, x) - x) ** 2)),
        "test_noise_q": config.test_noise,
        "test_examples": int(len(x)),
    }
    metrics["psnr_gain_db"] = metrics["psnr_denoised"] - metrics["psnr_noisy"]
    plot_paths = [
        plots.plot_image_rows(
            {
                "clean": x[:SHOWN],
                f"masked q={config.test_noise:g}": noisy[:SHOWN],
                "denoised": denoised[:SHOWN],
            },
            run_dir / "denoising.png",
        )
    ]
    sections = [
        (
            "Denoising (test split)",
            f"Test images masked with q = {config.test_noise:g} (each pixel set to 0 "
            f"with probability q): PSNR {metrics['psnr_noisy']:.2f} dB; after the "
            f"`{config.variant}` model: {metrics['psnr_denoised']:.2f} dB "
            f"(gain {metrics['psnr_gain_db']:+.2f} dB). Images: `denoising.png`.",
        )
    ]

    # Anomaly scores: reconstruction error per image.
    digits_scores = _errors(model, x)
    rng = np.random.default_rng(config.seed + 3)
    noise_images = rng.random(x.shape).astype("float32")
    noise_scores = _errors(model, noise_images)
    labels = np.r_[np.zeros(len(x)), np.ones(len(x))]
    metrics["anomaly_auc_noise"] = float(
        roc_auc_score(labels, np.r_[digits_scores, noise_scores])
    )
    histograms = {"test images": digits_scores, "uniform noise": noise_scores}
    lines = [
        f"Score: the mean squared reconstruction error of an image. Test images "
        f"against as many uniform-noise images (main model): ROC AUC "
        f"{metrics['anomaly_auc_noise']:.4f}."
    ]
    detector = companions.get("anomaly")
    if detector is not None and anomaly_class is not None:
        held_out = y == anomaly_class
        if held_out.any() and (~held_out).any():
            scores = _errors(detector, x)
            metrics["anomaly_class"] = int(anomaly_class)
            metrics["anomaly_auc_class"] = float(roc_auc_score(held_out, scores))
            name = data.class_names[anomaly_class]
            lines.append(
                f"Class {name!r} held out of training (a `{config.variant}` model "
                f"trained on the other classes): its {int(held_out.sum())} test "
                f"images against the other {int((~held_out).sum())}: ROC AUC "
                f"{metrics['anomaly_auc_class']:.4f}."
            )
            histograms = {
                "other classes": scores[~held_out],
                f"held-out class {name}": scores[held_out],
                "uniform noise": noise_scores,
            }
    plot_paths.append(
        plots.plot_score_histograms(
            histograms, run_dir / "anomaly_scores.png", title="Anomaly scores"
        )
    )
    sections.append(("Anomaly scores", "\n\n".join(lines)))

    # Each variant's effect.
    models = {config.variant: model}
    models.update({k: v for k, v in companions.items() if k != "anomaly"})
    rows = [_variant_row(n, m, x, noisy, config) for n, m in models.items()]
    by_name = {r["variant"]: r for r in rows}
    effects = []
    if "sparse" in by_name and "plain" in by_name:
        metrics["sparse_mean_activation"] = by_name["sparse"]["mean_activation"]
        metrics["plain_mean_activation"] = by_name["plain"]["mean_activation"]
        metrics["sparsity_rho"] = config.sparsity
        effects.append(
            f"Sparsity reached: mean code activation "
            f"{metrics['sparse_mean_activation']:.4f} with the KL penalty toward "
            f"rho = {config.sparsity:g} (beta = {config.sparsity_weight:g}), "
            f"against {metrics['plain_mean_activation']:.4f} without."
        )
    if "contractive" in by_name and "plain" in by_name:
        metrics["contractive_jacobian_norm"] = by_name["contractive"]["jacobian_norm"]
        metrics["plain_jacobian_norm"] = by_name["plain"]["jacobian_norm"]
        effects.append(
            f"Contraction measured: mean encoder Jacobian Frobenius norm "
            f"{metrics['contractive_jacobian_norm']:.4f} with lambda = "
            f"{config.contraction:g}, against {metrics['plain_jacobian_norm']:.4f} "
            "for the plain autoencoder."
        )
    if "tied" in by_name and "plain" in by_name:
        effects.append(
            f"Tied weights (W* = W^T): {by_name['tied']['parameters']:,} parameters "
            f"against {by_name['plain']['parameters']:,}."
        )
    if "denoising" in by_name and "plain" in by_name:
        effects.append(
            f"Denoising training (q = {config.noise:g}): masked-test PSNR "
            f"{by_name['denoising']['psnr_denoised']:.2f} dB against "
            f"{by_name['plain']['psnr_denoised']:.2f} dB for the plain autoencoder."
        )
    table = markdown_table(
        [
            "variant",
            "parameters",
            "test MSE",
            "masked-test PSNR (dB)",
            "mean code activation",
            "mean ||J||_F",
        ],
        [list(r.values()) for r in rows],
    )
    sections.append(
        (
            "Autoencoder variants",
            "\n\n".join(
                [
                    table,
                    "Same code size for every dense variant; the Jacobian norm is "
                    f"averaged over {min(JACOBIAN_IMAGES, len(x))} test images "
                    "(autodiff); mean activation only for sigmoid codes.",
                    *[f"- {e}" for e in effects],
                ]
            ),
        )
    )

    # The VAE: samples from the prior and the latent map.
    vae = models.get("vae")
    if vae is not None:
        logs = vae.evaluate(x, batch_size=256, verbose=0, return_dict=True)
        metrics["vae_negative_elbo"] = float(logs["loss"])
        metrics["vae_kl"] = float(logs["kl"])
        z = np.random.default_rng(config.seed + 4).standard_normal((64, vae.latent_dim))
        samples = np.clip(_predict(vae.decoder, z.astype("float32")), 0, 1)
        plot_paths.append(
            plots.plot_grid(
                samples, run_dir / "vae_samples.png", title="VAE: z ~ N(0, I) decoded"
            )
        )
        mu = _predict(_encoder(vae), x)
        if vae.latent_dim >= 2:
            plot_paths.append(
                plots.plot_latent_map(
                    mu, y, data.class_names, run_dir / "vae_latent_map.png"
                )
            )
        sections.append(
            (
                "VAE",
                f"Latent size {vae.latent_dim}; test negative ELBO "
                f"{metrics['vae_negative_elbo']:.3f} nats per image (KL "
                f"{metrics['vae_kl']:.3f}). `vae_samples.png`: 64 decodes of "
                "z ~ N(0, I); `vae_latent_map.png`: the test images' posterior "
                "means, coloured by class.",
            )
        )

    return Evaluation(metrics=metrics, sections=sections, plots=plot_paths)
