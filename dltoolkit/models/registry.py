"""The builder registry: every architecture by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras

Builder = Callable[..., keras.Model]


@dataclasses.dataclass(frozen=True)
class BuilderInfo:
    """What the registry knows about one builder.

    Attributes:
        name: registry name, e.g. ``"vgg16"``.
        fn: ``(input_shape, num_classes, **options) -> keras.Model``.
        canonical_input: the input shape of the published model.
        canonical_classes: the number of classes of the published model.
        published_params: the parameter count the paper or Keras reports at
            the canonical size, or None.
        min_input: the smallest (height, width) the builder accepts, or None.
        family: ``"mlp"`` or ``"cnn"`` (later: ``"rnn"``, ...).
        published_counts: what ``published_params`` counts: ``"all"`` weights,
            as Keras's ``count_params()`` (batch-norm moving statistics
            included), or only the ``"trainable"`` ones, as PyTorch's
            ``parameters()`` (torchvision's figures).
    """

    name: str
    fn: Builder
    canonical_input: tuple[int, ...] | None = None
    canonical_classes: int | None = None
    published_params: int | None = None
    min_input: tuple[int, int] | None = None
    family: str = "cnn"
    published_counts: str = "all"


_REGISTRY: dict[str, BuilderInfo] = {}


def register(
    name: str,
    *,
    canonical_input: tuple[int, ...] | None = None,
    canonical_classes: int | None = None,
    published_params: int | None = None,
    min_input: tuple[int, int] | None = None,
    family: str = "cnn",
    published_counts: str = "all",
) -> Callable[[Builder], Builder]:
    """Registers a builder under ``name``; use as a decorator."""
    if published_counts not in ("all", "trainable"):
        raise ValueError(
            "published_counts must be 'all' or 'trainable'. "
            f"Received: published_counts={published_counts!r}"
        )

    def decorate(fn: Builder) -> Builder:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"Builder name {name!r} is already registered.")
        _REGISTRY[name] = BuilderInfo(
            name=name,
            fn=fn,
            canonical_input=canonical_input,
            canonical_classes=canonical_classes,
            published_params=published_params,
            min_input=min_input,
            family=family,
            published_counts=published_counts,
        )
        return fn

    return decorate


def builder_info(name: str) -> BuilderInfo:
    """Returns the registry entry for ``name``; unknown names list the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(
            f"Unknown builder {name!r}. Known builders: {known}."
        ) from None


def get_builder(name: str) -> Builder:
    """Returns the builder function registered as ``name``."""
    return builder_info(name).fn


def list_builders(family: str | None = None) -> list[str]:
    """Returns the registered names, sorted; optionally of one family only."""
    return sorted(n for n, i in _REGISTRY.items() if family in (None, i.family))


def check_input_size(name: str, input_shape, min_size: tuple[int, int]) -> None:
    """Raises ValueError if an image input is smaller than ``min_size``."""
    if len(input_shape) != 3:
        raise ValueError(
            f"{name} expects an image input_shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    h, w = input_shape[0], input_shape[1]
    if (h is not None and h < min_size[0]) or (w is not None and w < min_size[1]):
        raise ValueError(
            f"{name} needs inputs of at least {min_size[0]}x{min_size[1]} pixels. "
            f"Received: input_shape={tuple(input_shape)}"
        )
