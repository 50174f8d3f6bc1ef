"""Applications, run as ``python -m apps.NAME``; see ARCHITECTURE.md."""

from __future__ import annotations

import importlib

from dltoolkit.errors import ConfigError

# Every app, in the order the demo runs them.
APPS = (
    "classify",
    "sentiment",
    "translation",
    "gan",
    "autoencode",
    "captioning",
    "asr",
)


def get_app(name: str):
    """The ``App`` instance of ``apps/<name>``."""
    if name not in APPS:
        raise ConfigError(f"Unknown app {name!r}. Valid apps: {', '.join(APPS)}.")
    return importlib.import_module(f"dltoolkit.apps.{name}.app").APP
