"""What the apps that decode text share: translation and captioning.

Such an app turns its trained model into traced decode functions (greedy and
beam search in the graph, :func:`dltoolkit.decoding.best_sequence`) and uses
the same functions three ways: the ``val_bleu`` callback decodes validation
inputs greedily (:func:`val_bleu_callback`), the evaluation decodes the test
split (:func:`decode_all`), and the export serves beam search as
``serving_default`` and greedy search as ``greedy``
(:func:`export_beam_and_greedy`). :class:`TracedFunctions` traces each once.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.metrics.callbacks import BleuCallback
from dltoolkit.training.export import export_saved_model

GREEDY_SIGNATURE = "greedy"


class TracedFunctions:
    """Per-model memo of traced functions: each ``(model, key)`` is traced once.

    Models are held weakly, so a trial's model and its traces go together.
    """

    def __init__(self):
        self._traced = weakref.WeakKeyDictionary()

    def get(
        self,
        model: keras.Model,
        key,
        make: Callable[[], Callable],
        input_signature: list[tf.TensorSpec],
    ):
        """The ``tf.function`` of ``make()`` for ``model`` and ``key``.

        Args:
            model: the model the function reads.
            key: everything besides the model that the function depends on
                (beam width, length penalty, lengths, ...).
            make: builds the plain function, called only on a miss.
            input_signature: the ``tf.function`` input signature.
        """
        traced = self._traced.setdefault(model, {})
        if key not in traced:
            traced[key] = tf.function(make(), input_signature=input_signature)
        return traced[key]


def decode_all(
    fn: Callable, inputs: Sequence, output_key: str, batch_size: int = 256
) -> list[str]:
    """Runs a decode function over ``inputs`` in batches.

    Args:
        fn: ``batch -> dict`` whose ``output_key`` is ``(batch,)`` strings.
        inputs: strings, or arrays of one shape (stacked into a batch).
        output_key: the output to return.
        batch_size: inputs per call.

    Returns:
        The ``output_key`` strings, decoded as UTF-8, in input order.
    """
    out = []
    for i in range(0, len(inputs), batch_size):
        batch = inputs[i : i + batch_size]
        if isinstance(batch[0], (str, bytes)):
            tensor = tf.constant(list(batch), tf.string)
        else:
            tensor = tf.convert_to_tensor(np.asarray(batch))
        out += [t.decode("utf-8") for t in fn(tensor)[output_key].numpy()]
    return out


def reference_streams(references: list[list[str]]) -> list[list[str | None]]:
    """Per-input reference lists -> sacreBLEU streams (None where fewer)."""
    k = max((len(r) for r in references), default=1)
    return [[r[j] if j < len(r) else None for r in references] for j in range(k)]


def val_bleu_callback(
    greedy: Callable,
    output_key: str,
    sources: Sequence,
    references: Sequence,
    config,
    *,
    batch_size: int = 256,
) -> BleuCallback:
    """The ``val_bleu`` callback of a decoding app.

    Greedy-decodes the first ``config.val_bleu_size`` sources every
    ``config.val_bleu_every`` epochs and logs their corpus BLEU.

    Args:
        greedy: the traced greedy decode function.
        output_key: its output holding the decoded text.
        sources: validation inputs (strings or arrays).
        references: per source, one reference string or a list of them.
        config: the app config (``val_bleu_size``, ``val_bleu_every``).
        batch_size: sources per call of ``greedy``.
    """
    n = config.val_bleu_size
    refs = [[r] if isinstance(r, str) else list(r) for r in references[:n]]
    return BleuCallback(
        lambda batch: decode_all(greedy, batch, output_key, batch_size),
        list(sources[:n]),
        reference_streams(refs),
        every=config.val_bleu_every,
        batch_size=batch_size,
    )


def export_beam_and_greedy(
    path: os.PathLike,
    model: keras.Model,
    decoder: Callable[[int], Callable],
    *,
    beam_width: int,
    input_spec: tf.TensorSpec,
) -> Path:
    """Writes the export of a decoding app.

    ``serving_default`` decodes with beam search of ``beam_width``, the
    ``greedy`` signature with greedy search; both take ``input_spec``.

    Args:
        path: the export directory.
        model: the model the functions read.
        decoder: ``beam_width -> traced decode function`` (1: greedy).
        beam_width: the beam width of ``serving_default``.
        input_spec: the one input of both signatures.
    """
    return export_saved_model(
        path,
        model,
        decoder(beam_width),
        [input_spec],
        extra_endpoints={GREEDY_SIGNATURE: (decoder(1), [input_spec])},
    )
