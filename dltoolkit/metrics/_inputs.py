"""Checks shared by the metrics: corpus shapes, string items, empty corpora."""

from __future__ import annotations

import warnings
from collections.abc import Sequence


def check_segments(items, name: str) -> list[str]:
    """Returns ``items`` as a list after checking that it holds strings only.

    Raises:
        TypeError: ``items`` is a string or not a sequence, or holds a
            non-string item (the message names its index and type).
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise TypeError(
            f"{name} must be a sequence of strings. Received: {type(items).__name__}."
        )
    items = list(items)
    if not all(isinstance(item, str) for item in items):
        index, item = next(
            (i, x) for i, x in enumerate(items) if not isinstance(x, str)
        )
        raise TypeError(
            f"{name}[{index}] must be a string. Received: {type(item).__name__} "
            f"({item!r:.40})."
        )
    return items


def check_reference_streams(
    references, num_segments: int, *, allow_none: bool = False
) -> list[list]:
    """Checks sacreBLEU-style reference streams against the hypotheses.

    Args:
        references: A sequence of streams; stream ``k`` holds the ``k``-th
            reference of every segment, parallel to the hypotheses.
        num_segments: The number of hypotheses.
        allow_none: Whether ``None`` may stand for a missing reference.

    Returns:
        The streams as lists.

    Raises:
        TypeError: The streams are not sequences of strings.
        ValueError: No stream, or a stream whose length differs from the
            number of hypotheses (the message names both lengths).
    """
    if isinstance(references, (str, bytes)) or not isinstance(references, Sequence):
        raise TypeError(
            "references must be a sequence of reference streams (lists of "
            f"strings). Received: {type(references).__name__}."
        )
    if len(references) == 0:
        raise ValueError("references must hold at least one reference stream.")
    streams = []
    for k, stream in enumerate(references):
        if isinstance(stream, str):
            raise TypeError(
                f"references[{k}] is a string, but references must be a list of "
                "reference streams, each a list of strings parallel to the "
                "hypotheses: for one reference per segment pass [refs], not refs."
            )
        if not isinstance(stream, Sequence):
            raise TypeError(
                f"references[{k}] must be a sequence of strings. Received: "
                f"{type(stream).__name__}."
            )
        if len(stream) != num_segments:
            raise ValueError(
                f"references[{k}] has {len(stream)} segments but there are "
                f"{num_segments} hypotheses; each reference stream must have "
                "one segment per hypothesis."
            )
        stream = list(stream)
        if allow_none:
            ok = all(isinstance(x, str) or x is None for x in stream)
        else:
            ok = all(isinstance(x, str) for x in stream)
        if not ok:
            i, item = next(
                (i, x)
                for i, x in enumerate(stream)
                if not isinstance(x, str) and not (allow_none and x is None)
            )
            accepted = "a string or None" if allow_none else "a string"
            raise TypeError(
                f"references[{k}][{i}] must be {accepted}. Received: "
                f"{type(item).__name__} ({item!r:.40})."
            )
        streams.append(stream)
    return streams


def check_order(name: str, value, minimum: int = 1) -> None:
    """Raises unless ``value`` is an int >= ``minimum`` (an n-gram order)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {value!r}.")


def check_lengths(references, hypotheses) -> None:
    """Raises ValueError naming both lengths when they differ."""
    if len(references) != len(hypotheses):
        raise ValueError(
            f"references and hypotheses must have the same length. Received: "
            f"{len(references)} references and {len(hypotheses)} hypotheses."
        )


def warn_empty_corpus(metric: str) -> None:
    """Warns that a metric was asked to score zero segments."""
    warnings.warn(
        f"{metric}: the corpus is empty (no hypotheses); the score is 0.",
        UserWarning,
        stacklevel=3,
    )


def sentence_as_corpus(hypothesis, references) -> tuple[list[str], list[list]]:
    """Checks one hypothesis and its references; returns them as a one-segment
    corpus ``([hypothesis], reference_streams)``."""
    if not isinstance(hypothesis, str):
        raise TypeError(
            f"hypothesis must be a string. Received: {type(hypothesis).__name__}."
        )
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise TypeError(
            "references must be a sequence of reference strings. Received: "
            f"{type(references).__name__}."
        )
    if not references:
        raise ValueError("references must hold at least one reference string.")
    return [hypothesis], [[ref] for ref in references]
