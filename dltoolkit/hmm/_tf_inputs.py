"""Input conversion and checks for the TensorFlow HMM algorithms.

Eagerly, bad input raises ``ValueError`` naming the argument (the NumPy checks
of :mod:`dltoolkit.hmm._checks`). While tracing, static shape errors raise
``ValueError`` and value checks become assertions that raise
``tf.errors.InvalidArgumentError`` at run time.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dltoolkit.hmm import _checks


def prepare(log_startprob, log_transmat, log_emissions, lengths, validate: bool):
    """Converts and checks inputs.

    Returns:
        ``(log_startprob, log_transmat, log_emissions, lengths, batched)`` with
        emissions ``(B, T, N)`` in their own float dtype (integers become
        float32), the model cast to it, and int32 lengths ``(B,)``.
    """
    em = tf.convert_to_tensor(log_emissions)
    if not em.dtype.is_floating:
        em = tf.cast(em, tf.float32)
    ls = tf.cast(tf.convert_to_tensor(log_startprob), em.dtype)
    lt = tf.cast(tf.convert_to_tensor(log_transmat), em.dtype)
    if ls.shape.rank != 1:
        raise ValueError(
            f"log_startprob must have shape (n_states,). Received: {ls.shape}"
        )
    known = [ls.shape[0], *lt.shape] if lt.shape.rank == 2 else [-1, -2]
    known = {d for d in known if d is not None}  # unknown dims: checked at run time
    if len(known) > 1:
        raise ValueError(
            "log_transmat must have shape (n_states, n_states) with n_states="
            f"{ls.shape[0]} from log_startprob. Received: {lt.shape}"
        )
    n = known.pop() if known else None
    if em.shape.rank is None:
        raise ValueError("log_emissions must have a known rank (2 or 3)")
    batched = _checks.check_emission_shape(em.shape.as_list(), n)
    if not batched:
        if lengths is not None:
            raise ValueError(
                "lengths is only accepted with batched log_emissions of shape "
                f"(batch, T, n_states). Received: log_emissions={em.shape}"
            )
        em = em[None]
    if lengths is None:
        lengths = tf.fill(tf.shape(em)[:1], tf.shape(em)[1])
    else:
        lengths = tf.convert_to_tensor(lengths)
        if lengths.dtype.is_floating:
            if validate and tf.executing_eagerly():
                _checks.check_lengths(lengths.numpy(), *em.shape[:2])
        lengths = tf.cast(lengths, tf.int32)
        if lengths.shape.rank != 1:
            raise ValueError(
                f"lengths must have shape (batch,). Received: {lengths.shape}"
            )
    if validate:
        if tf.executing_eagerly():
            _validate_eagerly(ls, lt, em, lengths)
        else:
            em = _validate_in_graph(ls, lt, em, lengths)
    return ls, lt, em, lengths, batched


def _validate_eagerly(ls, lt, em, lengths):
    dtype = em.dtype.as_numpy_dtype
    log_start = _checks.check_log_probabilities(
        ls.numpy(), "log_startprob", ndim=1, dtype=dtype
    )
    n = log_start.shape[0]
    _checks.check_log_probabilities(
        lt.numpy(), "log_transmat", ndim=2, size=n, dtype=dtype
    )
    em_np = em.numpy()
    _checks.check_emission_shape(em_np.shape, n)
    lengths_np = _checks.check_lengths(lengths.numpy(), *em_np.shape[:2])
    mask = np.arange(em_np.shape[1])[None] < lengths_np[:, None]
    _checks.check_emission_values(em_np, mask)


def _validate_in_graph(ls, lt, em, lengths):
    tol = tf.constant(_checks.tolerance(em.dtype.as_numpy_dtype), em.dtype)
    n = tf.shape(ls)[0]
    t = tf.shape(em)[1]
    mask = tf.range(t)[None] < lengths[:, None]
    valid = tf.where(mask[..., None], em, tf.zeros((), em.dtype))
    bad_values = tf.reduce_any(tf.math.is_nan(valid) | (valid == np.inf))
    checks = [
        tf.debugging.assert_equal(
            tf.shape(lt),
            tf.stack([n, n]),
            message="log_transmat must have shape (n_states, n_states)",
        ),
        tf.debugging.assert_equal(
            tf.shape(em)[-1],
            n,
            message="log_emissions must have n_states in its last axis",
        ),
        tf.debugging.assert_less_equal(
            tf.abs(tf.reduce_logsumexp(ls)),
            tol,
            message="log_startprob must be normalized: logsumexp must be 0",
        ),
        tf.debugging.assert_less_equal(
            tf.reduce_max(tf.abs(tf.reduce_logsumexp(lt, axis=-1))),
            tol,
            message="log_transmat rows must be normalized: logsumexp must be 0",
        ),
        tf.debugging.assert_equal(
            tf.shape(lengths)[0],
            tf.shape(em)[0],
            message="lengths must have shape (batch,)",
        ),
        tf.debugging.assert_greater_equal(
            t, 1, message="log_emissions must have at least one frame"
        ),
        tf.debugging.assert_greater_equal(
            lengths, 1, message="lengths must lie in [1, T]"
        ),
        tf.debugging.assert_less_equal(
            lengths, t, message="lengths must lie in [1, T]"
        ),
        tf.debugging.assert_equal(
            bad_values,
            False,
            message="log_emissions must be finite or -inf inside each sequence",
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(em)
