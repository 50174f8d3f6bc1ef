"""In-graph decoding: greedy search, beam search and sampling.

Every decoder runs as a ``tf.while_loop`` over one step function,

    ``next_logits(ids, index, state) -> (logits, state)``,

where ``ids`` is the int32 token buffer ``(batch', max_length)`` (positions
before the scalar int32 ``index`` are valid), ``state`` any nested structure of
tensors with leading dimension ``batch'`` (encoder outputs, masks, RNN states)
returned possibly updated, and ``logits`` is ``(batch', vocab)``. The decoders
work eagerly, inside ``tf.function`` and inside exported SavedModels.
:func:`best_sequence` picks greedy or beam search by beam width and keeps the
best beam, banning tokens that must never be generated.
"""

from dltoolkit.decoding.beam import beam_search, length_penalty_factor
from dltoolkit.decoding.best import best_sequence
from dltoolkit.decoding.greedy import greedy_search
from dltoolkit.decoding.sampling import sample

__all__ = [
    "beam_search",
    "best_sequence",
    "greedy_search",
    "length_penalty_factor",
    "sample",
]
