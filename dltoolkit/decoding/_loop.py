"""Shared pieces of the decoders: argument checks, the token buffer, the loop."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import tensorflow as tf

# === Argument checks ===


def check_int(name: str, value, *, minimum: int | None = None, optional=False):
    """Raises ValueError unless ``value`` is an int (>= ``minimum``) or allowed None."""
    if value is None and optional:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer. Received: {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}. Received: {name}={value}")


# === Token buffer ===


def init_buffer(start_ids, max_length: int, pad_id: int):
    """Copies the prompt into a ``(B, max_length)`` buffer padded with ``pad_id``.

    Returns:
        ``(ids, prompt_length)``: the int32 buffer and the prompt length as a
        scalar int32 tensor (the first position to predict).
    """
    check_int("max_length", max_length, minimum=1)
    check_int("pad_id", pad_id)
    start_ids = tf.convert_to_tensor(start_ids)
    if start_ids.shape.rank != 2:
        raise ValueError(
            "start_ids must have shape (batch, prompt_length). "
            f"Received: start_ids.shape={start_ids.shape}"
        )
    prompt = start_ids.shape[1]
    if prompt is not None and not 1 <= prompt <= max_length:
        raise ValueError(
            "start_ids needs 1 <= prompt_length <= max_length. "
            f"Received: prompt_length={prompt}, max_length={max_length}"
        )
    start_ids = tf.cast(start_ids, tf.int32)
    prompt_length = tf.shape(start_ids)[1]
    if prompt is None:
        tf.debugging.assert_less_equal(
            prompt_length, max_length, "start_ids is longer than max_length"
        )
    ids = tf.pad(
        start_ids, [[0, 0], [0, max_length - prompt_length]], constant_values=pad_id
    )
    ids = tf.ensure_shape(ids, [None, max_length])  # (B, L)
    return ids, prompt_length


def write(ids, index, tokens):
    """Writes ``tokens`` (B,) at position ``index`` of ``ids`` (B, L)."""
    positions = tf.range(tf.shape(ids)[1])[tf.newaxis, :]  # (1, L)
    return tf.where(positions == index, tokens[:, tf.newaxis], ids)  # (B, L)


def is_end(tokens, end_id):
    """``tokens == end_id``; all False when ``end_id`` is None."""
    if end_id is None:
        return tf.zeros_like(tokens, dtype=tf.bool)
    return tf.equal(tokens, end_id)


# === Loop state ===


def to_tensors(state):
    """Converts every leaf of ``state`` to a tensor (None becomes ``()``)."""
    if state is None:
        return ()
    return tf.nest.map_structure(tf.convert_to_tensor, state)


def step_caller(next_logits: Callable, has_state: bool):
    """Calls ``next_logits`` with ``None`` for a missing state; logits as float32."""

    def call(ids, index, state):
        logits, new_state = next_logits(ids, index, state if has_state else None)
        if has_state:
            # The state keeps its dtypes across steps: under mixed precision a
            # step may return float16/bfloat16 for a float32 initial state.
            new_state = tf.nest.map_structure(
                lambda new, old: tf.cast(new, tf.convert_to_tensor(old).dtype),
                new_state,
                state,
            )
        else:
            new_state = ()
        return tf.cast(logits, tf.float32), new_state

    return call


def relaxed_shapes(structure):
    """Shape invariants that free the leading (batch) dimension of every leaf."""

    def relax(t):
        if t.shape.rank is None or t.shape.rank == 0:
            return t.shape
        return tf.TensorShape([None]).concatenate(t.shape[1:])

    return tf.nest.map_structure(relax, structure)


def decode_one_path(
    next_logits: Callable,
    start_ids,
    choose: Callable,
    *,
    max_length: int,
    end_id,
    state,
    pad_id: int,
):
    """Extends each prompt one token at a time with ``choose(logits, index)``.

    Positions after a sequence's first generated ``end_id`` hold ``pad_id``; the
    loop stops when every sequence has ended or the buffer is full.
    """
    check_int("end_id", end_id, optional=True)
    ids, prompt_length = init_buffer(start_ids, max_length, pad_id)
    has_state = state is not None
    state = to_tensors(state)
    call = step_caller(next_logits, has_state)
    finished = tf.zeros([tf.shape(ids)[0]], tf.bool)  # (B,)

    def cond(index, ids, finished, state):
        return tf.logical_and(index < max_length, ~tf.reduce_all(finished))

    def body(index, ids, finished, state):
        logits, state = call(ids, index, state)  # (B, V)
        tokens = tf.cast(choose(logits, index), tf.int32)  # (B,)
        tokens = tf.where(finished, pad_id, tokens)
        ids = write(ids, index, tokens)
        return index + 1, ids, finished | is_end(tokens, end_id), state

    loop_vars = (prompt_length, ids, finished, state)
    _, ids, _, _ = tf.while_loop(
        cond, body, loop_vars, shape_invariants=relaxed_shapes(loop_vars)
    )
    return ids
