"""Toy step functions for the decoder tests: Markov tables and a stateful model."""

import numpy as np
import pytest
import tensorflow as tf


def markov_step(table):
    """Logits of the next token: ``table[previous]`` or ``table[index, previous]``.

    A per-position table ``(L, V, V)`` gives the sequences distinct scores
    (with one ``(V, V)`` table, reordered transitions tie).
    """
    table = tf.convert_to_tensor(table, tf.float32)  # (V, V) or (L, V, V)

    def next_logits(ids, index, state):
        previous = tf.gather(ids, index - 1, axis=1)  # (B,)
        rows = table[index] if table.shape.rank == 3 else table  # (V, V)
        return tf.gather(rows, previous), state

    return next_logits


def prefix_sum_step(table):
    """Logits from the state: ``table[(offset + sum of the prefix) % M]``.

    The prefix sum lives only in the state, so a wrongly reordered state gives
    the wrong logits. The state also keeps the ids of the previous call and
    checks that they agree with the current prefix.
    """
    table = tf.convert_to_tensor(table, tf.float32)  # (M, V)
    modulus = table.shape[0]

    def next_logits(ids, index, state):
        seen = tf.range(tf.shape(ids)[1]) < index - 1  # (L,)
        tf.debugging.assert_equal(
            tf.where(seen, state["ids"], 0),
            tf.where(seen, ids, 0),
            message="state not reordered with its beam",
        )
        total = state["total"] + tf.gather(ids, index - 1, axis=1)  # (B,)
        logits = tf.gather(table, total % modulus)  # (B, V)
        return logits, {"total": total, "ids": ids}

    return next_logits


def prefix_sum_log_probs(table, offset, prompt_length):
    """The numpy reference of :func:`prefix_sum_step`: prefix -> log-probs."""

    def log_probs(prefix):
        total = offset + sum(prefix[prompt_length - 1 :])
        return log_softmax(table[total % len(table)])

    return log_probs


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    return x - x.max() - np.log(np.exp(x - x.max()).sum())


# === Fixtures: the toys above, for the test modules ===


@pytest.fixture
def toys():
    """The toy step functions and references of this module."""
    return _Toys


class _Toys:
    markov_step = staticmethod(markov_step)
    prefix_sum_step = staticmethod(prefix_sum_step)
    prefix_sum_log_probs = staticmethod(prefix_sum_log_probs)
    log_softmax = staticmethod(log_softmax)
