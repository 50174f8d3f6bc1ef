"""The one best output: greedy search, or the top beam of beam search."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from dltoolkit.decoding.beam import beam_search
from dltoolkit.decoding.greedy import greedy_search

BANNED_LOGIT = -1e9


def best_sequence(
    next_logits: Callable,
    start_ids,
    *,
    beam_width: int,
    max_length: int,
    end_id: int | None,
    length_penalty: float = 0.0,
    banned_ids: Sequence[int] = (),
    state=None,
    pad_id: int = 0,
    no_repeat_ngram: int = 0,
):
    """Decodes one output per example: greedy search for ``beam_width`` 1,
    else the best beam of :func:`beam_search`.

    Args:
        next_logits: the step function (see :func:`greedy_search`).
        start_ids: int ``(batch, prompt_length)`` prompt.
        beam_width: 1 for greedy search, more for beam search.
        max_length: length of the output, prompt included.
        end_id: the end token, or None to always fill ``max_length``.
        length_penalty: the GNMT ``alpha`` of beam search (unused by greedy).
        banned_ids: tokens never generated (e.g. padding, ``[UNK]``, the start
            token): their logits get ``-1e9`` at every step.
        state: initial state of ``next_logits``, or None.
        pad_id: the token written after ``end_id``.
        no_repeat_ngram: when ``n >= 2``, no n-gram of this size occurs twice
            in an output (the prompt included): a token that would complete
            an n-gram already written gets ``-1e9``, as the ``no_repeat_ngram_size``
            of common generation APIs. 0 or 1: off.

    Returns:
        int32 ``(batch, max_length)``: the prompt, the tokens, then ``pad_id``.
    """
    step = _banning(next_logits, tuple(banned_ids)) if banned_ids else next_logits
    if no_repeat_ngram < 0:
        raise ValueError(
            f"no_repeat_ngram must be >= 0. Received: no_repeat_ngram={no_repeat_ngram}"
        )
    if no_repeat_ngram >= 2:
        step = _no_repeat(step, no_repeat_ngram)
    kwargs = dict(max_length=max_length, end_id=end_id, state=state, pad_id=pad_id)
    if beam_width == 1:
        return greedy_search(step, start_ids, **kwargs)
    ids, _ = beam_search(
        step, start_ids, beam_width=beam_width, length_penalty=length_penalty, **kwargs
    )
    return ids[:, 0]


def _banning(next_logits: Callable, banned_ids: tuple[int, ...]) -> Callable:
    """``next_logits`` with float32 logits, ``BANNED_LOGIT`` at ``banned_ids``."""

    def step(ids, index, state):
        logits, state = next_logits(ids, index, state)
        logits = tf.cast(logits, tf.float32)
        vocab = logits.shape[-1] or tf.shape(logits)[-1]
        penalty = tf.reduce_min(
            tf.one_hot(banned_ids, vocab, on_value=BANNED_LOGIT, off_value=0.0), 0
        )  # (V,)
        return logits + penalty, state

    return step


def _no_repeat(next_logits: Callable, n: int) -> Callable:
    """``next_logits`` with ``BANNED_LOGIT`` on every token that would repeat
    an n-gram of the row's ids so far.

    For the row's last ``n - 1`` tokens, every earlier window of those same
    ``n - 1`` tokens bans the token that followed it. Windows are compared
    all at once (``(B, P)`` matches over the buffer's ``P`` positions); the
    banned tokens are scattered into a ``(B, V)`` mask, never a one-hot
    ``(B, P, V)`` tensor.
    """

    def step(ids, index, state):
        logits, state = next_logits(ids, index, state)
        logits = tf.cast(logits, tf.float32)
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        windows = length - n + 1  # P: windows of n tokens in the buffer
        last = tf.gather(ids, tf.maximum(index - n + 1 + tf.range(n - 1), 0), axis=1)
        match = tf.range(windows)[tf.newaxis, :] <= index - n  # complete, earlier
        for k in range(n - 1):
            match &= ids[:, k : k + windows] == last[:, k : k + 1]
        following = ids[:, n - 1 : n - 1 + windows]  # (B, P)
        rows = tf.broadcast_to(tf.range(batch)[:, tf.newaxis], tf.shape(following))
        banned = tf.tensor_scatter_nd_max(
            tf.zeros(tf.shape(logits), tf.float32),
            tf.stack([rows, following], axis=-1),
            tf.cast(match, tf.float32),
        )
        return tf.where(banned > 0, BANNED_LOGIT, logits), state

    return step
