"""Input checks shared by the NumPy and TensorFlow HMM algorithms.

Every check raises ``ValueError`` naming the argument and what was received.
"""

from __future__ import annotations

import numpy as np


def tolerance(dtype) -> float:
    """Normalization tolerance: 1e-6, widened for float32 round-off."""
    return max(1e-6, 32 * float(np.finfo(dtype).eps))


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", under="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def _describe(x: np.ndarray, limit: int = 6) -> str:
    flat = np.ravel(x)
    shown = ", ".join(f"{v:.6g}" for v in flat[:limit])
    return f"[{shown}{', ...' if flat.size > limit else ''}]"


def check_probabilities(
    p, name: str, *, ndim: int, size: int | None = None, square: bool = True
):
    """Checks a probability vector (ndim=1) or row-stochastic matrix (ndim=2).

    ``size`` is the expected number of states (rows); ``square=False`` allows a
    ``(n_states, n_outcomes)`` matrix such as emission probabilities.

    Returns:
        The probabilities as a float64 array.
    """
    p = np.asarray(p, dtype=np.float64)
    _check_rank_and_size(p, name, ndim=ndim, size=size, square=square)
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(
            f"{name} must hold finite non-negative probabilities. "
            f"Received: {name}={_describe(p)}"
        )
    sums = p.sum(axis=-1)
    bad = np.abs(sums - 1.0) > tolerance(np.float64)
    if np.any(bad):
        what = "sum" if ndim == 1 else f"rows {np.flatnonzero(bad).tolist()} sum"
        raise ValueError(
            f"{name} must sum to 1 (within 1e-6) along its last axis; its {what} "
            f"to {_describe(sums[bad] if ndim == 2 else sums)}"
        )
    return p


def check_log_probabilities(
    log_p, name: str, *, ndim: int, size: int | None = None, dtype=np.float64
):
    """Checks log-probabilities whose logsumexp along the last axis is 0.

    Returns:
        The log-probabilities as an array of ``dtype``.
    """
    log_p = np.asarray(log_p, dtype=dtype)
    _check_rank_and_size(log_p, name, ndim=ndim, size=size)
    if np.any(np.isnan(log_p)) or np.any(log_p == np.inf):
        raise ValueError(
            f"{name} must hold log-probabilities (finite or -inf). "
            f"Received: {name}={_describe(log_p)}"
        )
    lse = _logsumexp(log_p.astype(np.float64), axis=-1)
    bad = ~(np.abs(lse) <= tolerance(dtype))
    if np.any(bad):
        where = "" if ndim == 1 else f" (rows {np.flatnonzero(bad).tolist()})"
        raise ValueError(
            f"{name} must be normalized log-probabilities: logsumexp along the "
            f"last axis must be 0 (within {tolerance(dtype):.1e}); received "
            f"logsumexp {_describe(np.atleast_1d(lse)[np.atleast_1d(bad)])}{where}"
        )
    return log_p


def _check_rank_and_size(
    x: np.ndarray, name: str, *, ndim: int, size: int | None, square: bool = True
):
    shape_word = {1: "(n_states,)", 2: "(n_states, n_states)"}[ndim]
    if not square:
        shape_word = "(n_states, n_outcomes)"
    if x.ndim != ndim or (ndim == 2 and square and x.shape[0] != x.shape[1]):
        raise ValueError(f"{name} must have shape {shape_word}. Received: {x.shape}")
    if 0 in x.shape:
        raise ValueError(f"{name} must not be empty. Received: {x.shape}")
    if size is not None and x.shape[0] != size:
        raise ValueError(
            f"{name} must have shape {shape_word} with n_states={size}. "
            f"Received: {x.shape}"
        )


def check_emission_shape(shape, n_states: int | None) -> bool:
    """Checks a log_emissions shape; returns True when it is batched."""
    shape = tuple(shape)
    if len(shape) not in (2, 3):
        raise ValueError(
            "log_emissions must have shape (T, n_states) or (batch, T, n_states). "
            f"Received: {shape}"
        )
    if None not in (shape[-1], n_states) and shape[-1] != n_states:
        raise ValueError(
            f"log_emissions must have n_states={n_states} in its last axis, "
            f"matching log_startprob and log_transmat. Received: {shape}"
        )
    if shape[-2] == 0:
        raise ValueError(
            f"log_emissions must have at least one frame. Received: {shape}"
        )
    return len(shape) == 3


def check_lengths(lengths, batch: int, n_frames: int) -> np.ndarray:
    """Checks per-sequence lengths of a batch; returns them as int64."""
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.shape[0] != batch:
        raise ValueError(
            f"lengths must have shape (batch,) = ({batch},). Received: {arr.shape}"
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError(f"lengths must be integers. Received: {_describe(arr)}")
    arr = arr.astype(np.int64)
    if np.any(arr < 1) or np.any(arr > n_frames):
        raise ValueError(
            f"lengths must lie in [1, T={n_frames}]. Received: lengths={arr.tolist()}"
        )
    return arr


def check_emission_values(log_emissions: np.ndarray, mask: np.ndarray):
    """Rejects NaN or +inf in the frames inside each sequence's length."""
    if not mask.all():
        log_emissions = np.where(mask[..., None], log_emissions, 0.0)
    top = np.max(log_emissions) if log_emissions.size else 0.0  # NaN propagates
    if np.isnan(top) or top == np.inf:
        raise ValueError(
            "log_emissions must be finite or -inf inside each sequence; received "
            "NaN or +inf"
        )
