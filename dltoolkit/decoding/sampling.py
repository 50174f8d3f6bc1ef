"""Sampling: draw each token from the (tempered, top-k) softmax."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import tensorflow as tf

from dltoolkit.decoding._loop import check_int, decode_one_path


def sample(
    next_logits: Callable,
    start_ids,
    *,
    max_length: int,
    end_id: int | None = None,
    temperature=1.0,
    top_k: int | None = None,
    seed=None,
    state=None,
    pad_id: int = 0,
):
    """Decodes by sampling each token from ``softmax(logits / temperature)``.

    Uses TensorFlow's stateless random ops: the same ``seed`` gives the same
    tokens, eagerly, in ``tf.function`` and in an exported SavedModel. Rows of
    the batch are sampled independently.

    Args:
        next_logits: the step function ``(ids, index, state) -> (logits, state)``
            (see :func:`greedy_search`).
        start_ids: int ``(batch, prompt_length)`` prompt, ``prompt_length >= 1``.
        max_length: length of the output, prompt included.
        end_id: the end token, or None to always fill ``max_length``.
        temperature: divides the logits; below 1 sharpens, above 1 flattens.
            A Python ``0`` takes the argmax (greedy); a tensor is allowed (for
            a serving signature) and must be positive.
        top_k: sample among the ``top_k`` most likely tokens only; None for all.
        seed: an int, an int scalar tensor or an int ``(2,)`` tensor; step
            ``index`` uses ``stateless_fold_in(seed, index)``. None draws a new
            seed at every call.
        state: initial state (any nested structure of tensors), or None.
        pad_id: the token written after a sequence's ``end_id``.

    Returns:
        int32 ``(batch, max_length)``: the prompt, the sampled tokens up to and
        including ``end_id``, then ``pad_id``.

    References:
        Holtzman et al., "The Curious Case of Neural Text Degeneration", 2020
        (temperature and top-k sampling); Fan et al., "Hierarchical Neural
        Story Generation", 2018 (top-k).
    """
    check_int("top_k", top_k, minimum=1, optional=True)
    greedy = False
    if isinstance(temperature, numbers.Real):
        if temperature < 0:
            raise ValueError(
                f"temperature must be >= 0. Received: temperature={temperature}"
            )
        greedy = temperature == 0
    seed = _seed_pair(seed)

    def choose(logits, index):  # (B, V) -> (B,)
        if greedy:
            return tf.argmax(logits, axis=-1, output_type=tf.int32)
        logits = logits / tf.cast(temperature, logits.dtype)
        if top_k is not None:
            k = tf.minimum(top_k, tf.shape(logits)[-1])
            kth = tf.math.top_k(logits, k).values[:, -1:]  # (B, 1)
            logits = tf.where(logits < kth, float("-inf"), logits)
        step_seed = tf.random.experimental.stateless_fold_in(seed, index)
        drawn = tf.random.stateless_categorical(
            logits, 1, seed=step_seed, dtype=tf.int32
        )
        return drawn[:, 0]

    return decode_one_path(
        next_logits,
        start_ids,
        choose,
        max_length=max_length,
        end_id=end_id,
        state=state,
        pad_id=pad_id,
    )


def _seed_pair(seed):
    """An int64 ``(2,)`` seed from an int, a scalar or a pair; random for None."""
    if seed is None:
        return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape.rank == 0:
        return tf.stack([tf.constant(0, tf.int64), seed])
    if seed.shape.rank != 1 or seed.shape[0] not in (None, 2):
        raise ValueError(
            f"seed must be an int or a pair of ints. Received: shape {seed.shape}"
        )
    return seed
