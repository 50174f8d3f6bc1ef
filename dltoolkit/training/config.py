"""App configs: dataclasses with named profiles and ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path

from dltoolkit.errors import ConfigError
from dltoolkit.optim.config import OptimizerConfig

PROFILES = ("smoke", "quick", "full")


@dataclasses.dataclass
class TrainConfig(OptimizerConfig):
    """Fields every app shares: the optimizer/schedule choice plus the fit loop.

    Attributes:
        epochs: maximum number of epochs.
        batch_size: global batch size.
        seed: seed of data splits, shuffling and initialization.
        early_stopping_patience: epochs without improvement of
            ``early_stopping_monitor`` before stopping; 0 turns it off.
        early_stopping_monitor: metric watched by early stopping and by the
            best-checkpoint callback.
        strategy: ``"default"`` (one device) or ``"mirrored"`` (all local GPUs).
        mixed_precision: train in mixed float16 (GPU) / bfloat16 (CPU).
        jit_compile: compile the train step with XLA.
    """

    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    early_stopping_patience: int = 0
    early_stopping_monitor: str = "val_loss"
    strategy: str = "default"
    mixed_precision: bool = False
    jit_compile: bool = False


def field_names(cls) -> list[str]:
    """The config keys of ``cls``."""
    return [f.name for f in dataclasses.fields(cls)]


def _coerce(name: str, text: str, annotation):
    """Parses ``text`` as the type ``annotation`` of the field ``name``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null", ""):
            if type(None) in args:
                return None
        non_none = [a for a in args if a is not type(None)]
        last_error = None
        for arg in non_none:
            try:
                return _coerce(name, text, arg)
            except ConfigError as err:
                last_error = err
        raise last_error or ConfigError(f"Bad value for {name}: {text!r}")
    if annotation is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} takes true or false. Received: {name}={text}")
    if annotation in (int, float):
        try:
            return annotation(text)
        except ValueError:
            kind = "an integer" if annotation is int else "a number"
            raise ConfigError(f"{name} takes {kind}. Received: {name}={text}") from None
    if annotation is str:
        return text
    if origin is tuple or annotation is tuple:
        parts = [p for p in text.replace(" ", "").split(",") if p]
        if args:
            return tuple(_coerce(name, p, args[0]) for p in parts)
        return tuple(_number_or_text(p) for p in parts)
    raise ConfigError(f"Cannot set {name} from the command line.")


def _number_or_text(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _annotations(cls) -> dict:
    return typing.get_type_hints(cls)


def parse_overrides(cls, pairs: list[str]) -> dict:
    """Turns ``["epochs=3", "model=mlp"]`` into typed values for ``cls``."""
    hints = _annotations(cls)
    names = field_names(cls)
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"Overrides take the form key=value. Received: {pair!r}")
        key, text = pair.split("=", 1)
        key = key.strip().replace("-", "_")
        if key not in names:
            raise ConfigError(
                f"Unknown config key {key!r}. Valid keys: {', '.join(names)}."
            )
        values[key] = _coerce(key, text.strip(), hints[key])
    return values


def resolve_config(cls, profiles: dict, profile: str, overrides: list[str] = ()):
    """Builds ``cls`` from a named profile plus ``key=value`` overrides.

    Args:
        cls: the app's config dataclass.
        profiles: profile name -> dict of field values.
        profile: one of ``profiles``.
        overrides: ``key=value`` strings, applied last.

    Returns:
        The resolved config instance.
    """
    if profile not in profiles:
        raise ConfigError(
            f"Unknown profile {profile!r}. Valid profiles: {', '.join(profiles)}."
        )
    values = dict(profiles[profile])
    values.update(parse_overrides(cls, list(overrides)))
    return cls(**values)


def config_to_dict(config) -> dict:
    """The config as JSON-ready values (tuples become lists)."""
    return dataclasses.asdict(config)


def save_config(config, path: os.PathLike, **extra) -> None:
    """Writes the resolved config as JSON (atomically)."""
    data = {"config": config_to_dict(config), **extra}
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def load_config(cls, path: os.PathLike):
    """Reads a config written by :func:`save_config`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"No config found at {path}: is this a run directory?")
    try:
        data = json.loads(path.read_text())["config"]
    except (ValueError, KeyError) as err:
        raise ConfigError(f"Malformed config file {path}: {err}") from None
    hints = _annotations(cls)
    known = {}
    for key, value in data.items():
        if key not in hints:
            continue
        if isinstance(value, list):
            value = tuple(value)
        known[key] = value
    return cls(**known)


def write_text_atomic(path: os.PathLike, text: str) -> None:
    """Writes ``text`` to a temporary file beside ``path``, then renames it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
