"""The Fréchet distance between Gaussians fitted to two sets of features.

With the features of an Inception network this is the FID of Heusel et al.;
any feature extractor works (the GAN app uses a digit classifier's
penultimate layer).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


def _features(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            f"{name} must be a 2-D array of at least 2 feature rows. "
            f"Received: shape {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds NaN or infinite values.")
    return x


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of ``[n, d]`` features."""
    x = _features("features", features)
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``.

    The trace of ``(S1 S2)^(1/2)`` is computed as the sum of the square roots
    of the eigenvalues of the symmetric ``S1^(1/2) S2 S1^(1/2)`` (which has
    the eigenvalues of ``S1 S2``), so singular covariances (fewer samples than
    features) need no regularization.

    Args:
        mu1, mu2: ``[d]`` means.
        sigma1, sigma2: ``[d, d]`` covariances.

    Returns:
        The squared Fréchet (2-Wasserstein) distance between N(mu1, S1) and
        N(mu2, S2), a float >= 0.

    References:
        Dowson & Landau, "The Fréchet distance between multivariate normal
        distributions", J. Multivariate Anal. 12(3), 1982. Heusel et al.,
        "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
        Equilibrium", NeurIPS 2017.
    """
    mu1, mu2 = (
        np.atleast_1d(mu1).astype("float64"),
        np.atleast_1d(mu2).astype("float64"),
    )
    s1, s2 = (
        np.atleast_2d(sigma1).astype("float64"),
        np.atleast_2d(sigma2).astype("float64"),
    )
    d = mu1.shape[0]
    if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            "frechet_distance needs two means of one size d and two d x d "
            f"covariances. Received: mu1 {mu1.shape}, sigma1 {s1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {s2.shape}"
        )
    for name, value in (("mu1", mu1), ("sigma1", s1), ("mu2", mu2), ("sigma2", s2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} holds NaN or infinite values.")
    root1 = _sqrt_psd(s1)
    inner = root1 @ s2 @ root1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def feature_frechet_distance(features1, features2) -> float:
    """The Fréchet distance between Gaussians fitted to two ``[n, d]`` sets."""
    a = _features("features1", features1)
    b = _features("features2", features2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            "Both feature sets need the same number of features. "
            f"Received: {a.shape[1]} and {b.shape[1]}"
        )
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))


class FrechetDistanceCallback(keras.callbacks.Callback):
    """Logs the Fréchet distance of generated samples to reference features.

    At the end of each epoch ``sample_features(model)`` returns the features
    of samples drawn from the model being trained; their distance to
    ``reference_features`` enters the logs as ``name`` (default
    ``val_frechet_distance``), for checkpoints, early stopping, the CSV
    history and keras-tuner objectives. Place it before those callbacks.

    Args:
        sample_features: ``model -> [n, d]`` features of generated samples.
        reference_features: ``[n_ref, d]`` features of held-out real data.
        name: the log key.
        every: score every ``every`` epochs (and on the last); other epochs
            repeat the last score so the key is always present.
    """

    def __init__(
        self,
        sample_features: Callable[[keras.Model], np.ndarray],
        reference_features,
        *,
        name: str = "val_frechet_distance",
        every: int = 1,
    ):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1. Received: every={every}")
        self.sample_features = sample_features
        self.reference = gaussian_statistics(reference_features)
        self.name = name
        self.every = every
        self.last_score: float | None = None

    def score(self) -> float:
        """The distance of fresh samples of the model to the reference now."""
        features = _features("sample features", self.sample_features(self.model))
        return frechet_distance(*gaussian_statistics(features), *self.reference)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        last = self.params.get("epochs") if self.params else None
        due = (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 == last)
        if due or self.last_score is None:
            self.last_score = self.score()
        logs[self.name] = self.last_score
