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

    Returns:
        int32 ``(batch, max_length)``: the prompt, the tokens, then ``pad_id``.
    """
    step = _banning(next_logits, tuple(banned_ids)) if banned_ids else next_logits
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
