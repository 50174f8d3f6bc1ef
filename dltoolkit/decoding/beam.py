"""Beam search: keep the ``beam_width`` most promising sequences at every step."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import tensorflow as tf

from dltoolkit.decoding._loop import (
    check_int,
    init_buffer,
    is_end,
    relaxed_shapes,
    step_caller,
    to_tensors,
    write,
)

NEG_INF = float("-inf")


def length_penalty_factor(lengths, alpha):
    """GNMT length penalty ``((5 + length) / 6) ** alpha`` (1 when alpha is 0)."""
    lengths = tf.cast(lengths, tf.float32)
    return tf.pow((5.0 + lengths) / 6.0, alpha)


def beam_search(
    next_logits: Callable,
    start_ids,
    *,
    beam_width: int,
    max_length: int,
    end_id: int | None,
    length_penalty: float = 0.0,
    state=None,
    pad_id: int = 0,
):
    """Decodes with beam search, in-graph and batched.

    Each step extends every live beam by every token and keeps the
    ``beam_width`` best candidates by score, finished beams competing as they
    are. A beam's raw score is the sum of its tokens' log-probabilities
    (``log_softmax`` of the logits), the end token included. Beams are ranked
    by the GNMT length-normalized score

        ``score = raw / ((5 + length) / 6) ** length_penalty``,

    where ``length`` counts the generated tokens up to and including
    ``end_id`` (the prompt excluded). ``length_penalty=0`` ranks by the raw
    log-probability, which favors short outputs; larger values favor longer
    ones. The first step expands the prompt alone, so no two beams are equal;
    when fewer than ``beam_width`` sequences exist, the extra beams score
    ``-inf``.

    The step function is called on the flattened ``(batch * beam_width, ...)``
    beams (beam ``k`` of example ``b`` is row ``b * beam_width + k``); every
    leaf of ``state`` is repeated ``beam_width`` times along its first axis and
    gathered by the parent beam after each step.

    Args:
        next_logits: the step function ``(ids, index, state) -> (logits, state)``
            (see :func:`greedy_search`).
        start_ids: int ``(batch, prompt_length)`` prompt, ``prompt_length >= 1``.
        beam_width: number of beams kept, >= 1 (1 is greedy search).
        max_length: length of the output, prompt included.
        end_id: the end token, or None to always fill ``max_length``.
        length_penalty: the GNMT ``alpha`` above.
        state: initial state (any nested structure of tensors whose leading
            dimension is ``batch``), or None.
        pad_id: the token written after a beam's ``end_id``.

    Returns:
        ``(ids, scores)``: int32 ``(batch, beam_width, max_length)`` sequences
        and their float32 ``(batch, beam_width)`` length-normalized scores,
        best first.

    References:
        DSE 3151, "Beam Search": keep the k most promising sentences and
        extend each by one word per step. Wu et al., "Google's Neural Machine
        Translation System", 2016, Eq. 14 (length penalty).
    """
    check_int("beam_width", beam_width, minimum=1)
    check_int("end_id", end_id, optional=True)
    if not isinstance(length_penalty, numbers.Real):
        raise ValueError(
            f"length_penalty must be a number. Received: {length_penalty!r}"
        )
    k = beam_width
    alpha = float(length_penalty)
    ids, prompt_length = init_buffer(start_ids, max_length, pad_id)  # (B, L)
    batch = tf.shape(ids)[0]
    has_state = state is not None
    state = tf.nest.map_structure(
        lambda t: tf.repeat(t, k, axis=0), to_tensors(state)
    )  # leaves (B*K, ...)
    call = step_caller(next_logits, has_state)

    ids = tf.repeat(ids, k, axis=0)  # (B*K, L)
    scores = tf.tile(tf.constant([[0.0] + [NEG_INF] * (k - 1)]), [batch, 1])
    lengths = tf.zeros([batch, k], tf.int32)  # (B, K) generated tokens
    finished = tf.zeros([batch, k], tf.bool)  # (B, K)

    def cond(index, ids, scores, lengths, finished, state):
        return tf.logical_and(index < max_length, ~tf.reduce_all(finished))

    def body(index, ids, scores, lengths, finished, state):
        logits, state = call(ids, index, state)  # (B*K, V)
        vocab = tf.shape(logits)[-1]
        log_probs = tf.reshape(tf.nn.log_softmax(logits), [batch, k, vocab])
        # Candidates: every live beam extended by every token, then every
        # finished beam unchanged.
        grown = scores[..., tf.newaxis] + log_probs  # (B, K, V)
        grown = tf.where(finished[..., tf.newaxis], NEG_INF, grown)
        grown_norm = grown / length_penalty_factor(lengths + 1, alpha)[..., None]
        kept = tf.where(finished, scores, NEG_INF)  # (B, K)
        kept_norm = kept / length_penalty_factor(lengths, alpha)
        raw = tf.concat([tf.reshape(grown, [batch, -1]), kept], axis=1)
        ranked = tf.concat([tf.reshape(grown_norm, [batch, -1]), kept_norm], 1)
        _, top = tf.math.top_k(ranked, k)  # (B, K) over K*V + K candidates

        from_kept = top >= k * vocab
        parent = tf.where(from_kept, top - k * vocab, top // vocab)  # (B, K)
        tokens = tf.where(from_kept, pad_id, top % vocab)  # (B, K)
        scores = tf.gather(raw, top, batch_dims=1)
        lengths = tf.gather(lengths, parent, batch_dims=1) + tf.cast(
            ~from_kept, tf.int32
        )
        finished = from_kept | is_end(tokens, end_id)

        rows = tf.reshape(parent + k * tf.range(batch)[:, tf.newaxis], [-1])
        ids = write(tf.gather(ids, rows), index, tf.reshape(tokens, [-1]))
        state = tf.nest.map_structure(lambda t: tf.gather(t, rows), state)
        return index + 1, ids, scores, lengths, finished, state

    loop_vars = (prompt_length, ids, scores, lengths, finished, state)
    invariants = relaxed_shapes(loop_vars)
    _, ids, scores, lengths, _, _ = tf.while_loop(
        cond, body, loop_vars, shape_invariants=invariants
    )

    normalized = scores / length_penalty_factor(lengths, alpha)  # (B, K)
    normalized, order = tf.math.top_k(normalized, k)
    ids = tf.reshape(ids, [batch, k, max_length])
    return tf.gather(ids, order, batch_dims=1), normalized
