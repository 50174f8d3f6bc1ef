"""Emission models: per-frame log-likelihoods and their Baum-Welch M-steps.

An HMM sees its emission model only through ``log_likelihood(X) -> (T, N)``;
any object with that method (a neural acoustic model's scaled log-posteriors,
for example) plugs into decoding. Baum-Welch also calls
``m_step(X, gamma) -> new model``, the maximum-likelihood update from the
frames ``X`` of all sequences and their state posteriors ``gamma`` ``(T, N)``,
and sampling calls ``sample(states, rng)``.

References:
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected
    applications in speech recognition. Proc. IEEE 77(2), 257-286: eq. (40c)
    (discrete), eqs. (52)-(54) (Gaussian mixtures).
    DSE 3151, "Baum-Welch Algorithm: Update phase" (``b_ij*``) and
    "Automatic Speech Recognition" (GMM-HMM acoustic models).
"""

from __future__ import annotations

import abc

import numpy as np

from dltoolkit.hmm import _checks

_LOG_2PI = np.log(2 * np.pi)


class EmissionModel(abc.ABC):
    """Base of the emission models: ``N`` states, log-likelihoods, M-step."""

    n_states: int

    @abc.abstractmethod
    def log_likelihood(self, X) -> np.ndarray:
        """``log p(x_t | z_t = j)`` for every frame: ``(T, N)`` float64."""

    @abc.abstractmethod
    def m_step(self, X, gamma) -> EmissionModel:
        """The model maximizing the expected log-likelihood under ``gamma``."""

    @abc.abstractmethod
    def sample(self, states, rng) -> np.ndarray:
        """One observation per state in ``states``, drawn with ``rng``."""


def _check_gamma(gamma, n_frames: int, n_states: int) -> np.ndarray:
    gamma = np.asarray(gamma, dtype=np.float64)
    if gamma.shape != (n_frames, n_states):
        raise ValueError(
            f"gamma must have shape (T, n_states) = ({n_frames}, {n_states}). "
            f"Received: {gamma.shape}"
        )
    return gamma


def _check_learn(learn, allowed: tuple[str, ...]) -> tuple[str, ...]:
    learn = (learn,) if isinstance(learn, str) else tuple(learn)
    unknown = [p for p in learn if p not in allowed]
    if unknown:
        raise ValueError(
            f"learn must name parameters in {allowed}. Received: {unknown}"
        )
    return learn


# === Categorical ===


class CategoricalEmissions(EmissionModel):
    """Discrete symbols: ``emissionprob[j, k] = P(x_t = k | z_t = j)``.

    Args:
        emissionprob: ``(N, M)`` row-stochastic matrix over ``M`` symbols.
    """

    def __init__(self, emissionprob):
        self.emissionprob = _checks.check_probabilities(
            emissionprob, "emissionprob", ndim=2, square=False
        )
        self.n_states, self.n_symbols = self.emissionprob.shape

    def _symbols(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1 or (X.size and not np.all(np.mod(X, 1) == 0)):
            raise ValueError(
                f"X must be a (T,) sequence of symbols. Received: {X.shape}"
            )
        X = X.astype(np.int64)
        if X.size and (X.min() < 0 or X.max() >= self.n_symbols):
            raise ValueError(
                f"X symbols must lie in [0, {self.n_symbols - 1}]. "
                f"Received: min={X.min()}, max={X.max()}"
            )
        return X

    def log_likelihood(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.emissionprob[:, self._symbols(X)].T)

    def m_step(self, X, gamma) -> CategoricalEmissions:
        """``b_j(k) = sum_t gamma_t(j) [x_t = k] / sum_t gamma_t(j)`` (``b_ij*``)."""
        X = self._symbols(X)
        gamma = _check_gamma(gamma, len(X), self.n_states)
        counts = np.zeros((self.n_states, self.n_symbols))
        np.add.at(counts.T, X, gamma)
        totals = counts.sum(axis=1, keepdims=True)
        new = np.where(
            totals > 0, counts / np.where(totals > 0, totals, 1), self.emissionprob
        )
        return CategoricalEmissions(new)

    def sample(self, states, rng) -> np.ndarray:
        cum = np.cumsum(self.emissionprob, axis=1)[np.asarray(states)]
        u = rng.random(len(cum))[:, None]
        return np.minimum((cum <= u).sum(axis=1), self.n_symbols - 1)


# === Diagonal Gaussian ===


def _diag_log_density(X, means, covars) -> np.ndarray:
    """``log N(x | mu_c, diag(var_c))`` for X (T, D) and C components: (T, C).

    Expands ``-(x - mu)^2 / (2 var)`` so that all frames take one matrix product.
    """
    precision = 1.0 / covars  # (C, D)
    const = -0.5 * (
        X.shape[1] * _LOG_2PI + np.log(covars).sum(1) + (means**2 * precision).sum(1)
    )
    weights = np.concatenate([-0.5 * precision, means * precision], axis=1)  # (C, 2D)
    out = np.concatenate([X**2, X], axis=1) @ weights.T
    out += const
    return out


def _check_features(X, n_features: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(
            f"X must have shape (T, n_features={n_features}). Received: {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    return X


class GaussianEmissions(EmissionModel):
    """One diagonal-covariance Gaussian per state.

    Args:
        means: ``(N, D)`` state means.
        covars: ``(N, D)`` positive variances.
        min_covar: floor on variances after an M-step.
        learn: parameters the M-step updates: ``"means"``, ``"covars"``.
    """

    _PARAMS = ("means", "covars")

    def __init__(self, means, covars, *, min_covar=1e-3, learn=_PARAMS):
        self.means = np.asarray(means, dtype=np.float64)
        self.covars = np.asarray(covars, dtype=np.float64)
        if self.means.ndim != 2 or self.covars.shape != self.means.shape:
            raise ValueError(
                "means and covars must both have shape (n_states, n_features). "
                f"Received: means={self.means.shape}, covars={self.covars.shape}"
            )
        if not np.all(self.covars > 0):
            raise ValueError("covars must be positive")
        self.min_covar = float(min_covar)
        self.learn = _check_learn(learn, self._PARAMS)
        self.n_states, self.n_features = self.means.shape

    def log_likelihood(self, X) -> np.ndarray:
        X = _check_features(X, self.n_features)
        return _diag_log_density(X, self.means, self.covars)

    def m_step(self, X, gamma) -> GaussianEmissions:
        """``mu_j = sum_t gamma_t(j) x_t / sum_t gamma_t(j)``; variances alike."""
        X = _check_features(X, self.n_features)
        gamma = _check_gamma(gamma, len(X), self.n_states)
        post = gamma.sum(axis=0)[:, None]  # (N, 1)
        seen = post > 0
        safe = np.where(seen, post, 1.0)
        means = self.means
        if "means" in self.learn:
            means = np.where(seen, gamma.T @ X / safe, self.means)
        covars = self.covars
        if "covars" in self.learn:
            second = gamma.T @ X**2 / safe  # E[x^2]
            moment = second - 2 * means * (gamma.T @ X / safe) + means**2
            covars = np.where(seen, np.maximum(moment, self.min_covar), self.covars)
        return GaussianEmissions(
            means, covars, min_covar=self.min_covar, learn=self.learn
        )

    def sample(self, states, rng) -> np.ndarray:
        states = np.asarray(states)
        noise = rng.standard_normal((len(states), self.n_features))
        return self.means[states] + np.sqrt(self.covars[states]) * noise


# === Gaussian mixture ===


class GMMEmissions(EmissionModel):
    """A mixture of ``K`` diagonal Gaussians per state.

    Args:
        weights: ``(N, K)`` mixture weights (rows sum to 1).
        means: ``(N, K, D)`` component means.
        covars: ``(N, K, D)`` positive component variances.
        min_covar: floor on variances after an M-step.
        learn: parameters the M-step updates: ``"weights"``, ``"means"``,
            ``"covars"``.
    """

    _PARAMS = ("weights", "means", "covars")

    def __init__(self, weights, means, covars, *, min_covar=1e-3, learn=_PARAMS):
        self.weights = _checks.check_probabilities(
            weights, "weights", ndim=2, square=False
        )
        self.means = np.asarray(means, dtype=np.float64)
        self.covars = np.asarray(covars, dtype=np.float64)
        n, k = self.weights.shape
        if self.means.ndim != 3 or self.means.shape[:2] != (n, k):
            raise ValueError(
                f"means must have shape (n_states={n}, n_mix={k}, n_features). "
                f"Received: {self.means.shape}"
            )
        if self.covars.shape != self.means.shape or not np.all(self.covars > 0):
            raise ValueError(
                f"covars must be positive with the shape of means {self.means.shape}. "
                f"Received: {self.covars.shape}"
            )
        self.min_covar = float(min_covar)
        self.learn = _check_learn(learn, self._PARAMS)
        self.n_states, self.n_mix, self.n_features = self.means.shape

    def _component_log_densities(self, X) -> np.ndarray:
        """``log w_jk + log N(x_t | mu_jk, var_jk)``: (T, N, K)."""
        n, k, d = self.means.shape
        dens = _diag_log_density(
            X, self.means.reshape(n * k, d), self.covars.reshape(n * k, d)
        )
        with np.errstate(divide="ignore"):
            return dens.reshape(len(X), n, k) + np.log(self.weights)[None]

    def log_likelihood(self, X) -> np.ndarray:
        comp = self._component_log_densities(_check_features(X, self.n_features))
        m = comp.max(axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        return np.log(np.exp(comp - m).sum(axis=-1)) + m[..., 0]

    def m_step(self, X, gamma) -> GMMEmissions:
        """Rabiner (1989) eqs. (52)-(54) with ``gamma_t(j, k)`` the mixture split."""
        X = _check_features(X, self.n_features)
        gamma = _check_gamma(gamma, len(X), self.n_states)
        comp = self._component_log_densities(X)
        comp -= np.where(np.isfinite(m := comp.max(-1, keepdims=True)), m, 0.0)
        split = np.exp(comp)
        split /= np.maximum(split.sum(axis=-1, keepdims=True), np.finfo(float).tiny)
        resp = gamma[:, :, None] * split  # (T, N, K)
        mass = resp.sum(axis=0)  # (N, K)
        seen = mass > 0
        safe = np.where(seen, mass, 1.0)[..., None]
        weights, means, covars = self.weights, self.means, self.covars
        if "weights" in self.learn:
            totals = mass.sum(axis=1, keepdims=True)
            weights = np.where(
                totals > 0, mass / np.where(totals > 0, totals, 1), weights
            )
        first = np.einsum("tnk,td->nkd", resp, X) / safe
        if "means" in self.learn:
            means = np.where(seen[..., None], first, self.means)
        if "covars" in self.learn:
            second = np.einsum("tnk,td->nkd", resp, X**2) / safe
            moment = second - 2 * means * first + means**2
            covars = np.where(
                seen[..., None], np.maximum(moment, self.min_covar), covars
            )
        return GMMEmissions(
            weights, means, covars, min_covar=self.min_covar, learn=self.learn
        )

    def sample(self, states, rng) -> np.ndarray:
        states = np.asarray(states)
        cum = np.cumsum(self.weights, axis=1)[states]
        comp = np.minimum(
            (cum <= rng.random(len(states))[:, None]).sum(1), self.n_mix - 1
        )
        noise = rng.standard_normal((len(states), self.n_features))
        return self.means[states, comp] + np.sqrt(self.covars[states, comp]) * noise
