"""Greedy decoding: the most likely token at every step."""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from dltoolkit.decoding._loop import decode_one_path


def greedy_search(
    next_logits: Callable,
    start_ids,
    *,
    max_length: int,
    end_id: int | None,
    state=None,
    pad_id: int = 0,
):
    """Decodes by taking the argmax of the logits at every step, in-graph.

    Runs as a ``tf.while_loop``, so it works eagerly, inside ``tf.function`` and
    inside an exported SavedModel.

    Args:
        next_logits: the step function ``(ids, index, state) -> (logits, state)``:
            ``ids`` is the int32 buffer ``(batch, max_length)`` (positions before
            ``index`` are valid, the rest hold ``pad_id``), ``index`` a scalar
            int32 tensor (the position to predict), ``state`` the nested tensors
            given as ``state`` (leading dimension ``batch``), returned possibly
            updated; ``logits`` is ``(batch, vocab)``.
        start_ids: int ``(batch, prompt_length)`` prompt, ``prompt_length >= 1``
            (e.g. the start token); copied to the front of the output.
        max_length: length of the output, prompt included.
        end_id: the end token, or None to always fill ``max_length``.
        state: initial state (any nested structure of tensors), or None.
        pad_id: the token written after a sequence's ``end_id``.

    Returns:
        int32 ``(batch, max_length)``: the prompt, the generated tokens up to
        and including ``end_id``, then ``pad_id``.

    References:
        DSE 3151, "Beam Search": "model greedily outputs the most likely
        word at each step".
    """

    def choose(logits, index):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)  # (B,)

    return decode_one_path(
        next_logits,
        start_ids,
        choose,
        max_length=max_length,
        end_id=end_id,
        state=state,
        pad_id=pad_id,
    )
