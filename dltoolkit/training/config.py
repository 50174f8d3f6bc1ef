"""App configs: dataclasses with named profiles and ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
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


# === Discoverable settings (``dltk APP config``) ===

GROUPS = ("data", "model", "training", "optimizer")


def attribute_docs(cls) -> dict[str, str]:
    """Field name -> its one-line meaning, from the ``Attributes:`` sections
    of the docstrings of ``cls`` and its bases (the most derived wins).

    A line may document several fields at once (``a, b, c: meaning``).
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        docs.update(_parse_attributes(klass.__dict__.get("__doc__") or ""))
    return docs


def _parse_attributes(doc: str) -> dict[str, str]:
    entries: list[str] = []  # one per line indented 4, continuations joined
    inside = False
    for line in inspect.cleandoc(doc).splitlines():
        if line.strip() == "Attributes:":
            inside = True
        elif inside and line.strip() and not line.startswith(" "):
            break  # the next section
        elif inside and re.match(r"^ {4}\S", line):
            entries.append(line.strip())
        elif inside and entries and line.strip():
            entries[-1] += " " + line.strip()
    out: dict[str, str] = {}
    for entry in entries:
        head = re.match(r"^(\w+(?:,\s*\w+)*):\s*(.*)$", entry)
        if head:
            for name in head.group(1).split(","):
                out[name.strip()] = head.group(2)
    return out


def describe_settings(config, data_fields=("data", "data_dir")) -> list[dict]:
    """Every setting of ``config``: key, type, value, group and meaning.

    Groups: the app's ``data_fields``; the optimizer's fields
    (:class:`OptimizerConfig`); the fit loop's (:class:`TrainConfig`); the
    app's other fields are the model's (architecture, decoding, evaluation).
    """
    docs = attribute_docs(type(config))
    optimizer = {f.name for f in dataclasses.fields(OptimizerConfig)}
    training = {f.name for f in dataclasses.fields(TrainConfig)} - optimizer
    rows = []
    for f in dataclasses.fields(config):
        if f.name in data_fields:
            group = "data"
        elif f.name in optimizer:
            group = "optimizer"
        elif f.name in training:
            group = "training"
        else:
            group = "model"
        rows.append(
            {
                "key": f.name,
                "type": f.type if isinstance(f.type, str) else _type_name(f.type),
                "value": getattr(config, f.name),
                "group": group,
                "meaning": _plain(docs.get(f.name, "")),
            }
        )
    return sorted(rows, key=lambda r: GROUPS.index(r["group"]))


def format_settings(rows: list[dict]) -> str:
    """The settings as aligned text, one block per group."""
    width = {k: max(len(_show(r[k])) for r in rows) for k in ("key", "type", "value")}
    lines = []
    for group in GROUPS:
        block = [r for r in rows if r["group"] == group]
        if not block:
            continue
        lines.append(f"{group}:")
        for r in block:
            lines.append(
                f"  {r['key']:<{width['key']}}  {r['type']:<{width['type']}}  "
                f"{_show(r['value']):<{width['value']}}  {r['meaning']}".rstrip()
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


def _type_name(annotation) -> str:
    return getattr(annotation, "__name__", str(annotation))


def _plain(text: str) -> str:
    """Docstring markup (``literal``, :func:`name`) as plain text."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")
