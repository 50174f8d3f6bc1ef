"""Configs: profiles, typed overrides, save/load."""

import dataclasses

import pytest

from dltoolkit.errors import ConfigError
from dltoolkit.training.config import (
    TrainConfig,
    load_config,
    parse_overrides,
    resolve_config,
    save_config,
)


@dataclasses.dataclass
class _Config(TrainConfig):
    model: str = "lenet5"
    dropout: float | None = None
    hidden_units: tuple[int, ...] | None = None
    data_dir: str | None = None


PROFILES = {"smoke": {"epochs": 1}, "quick": {"epochs": 5, "batch_size": 16}}


def test_profile_then_overrides():
    config = resolve_config(_Config, PROFILES, "quick", ["epochs=7", "model=mlp"])
    assert (config.epochs, config.batch_size, config.model) == (7, 16, "mlp")


@pytest.mark.parametrize(
    "pair, key, value",
    [
        ("learning_rate=3e-4", "learning_rate", 3e-4),
        ("mixed_precision=true", "mixed_precision", True),
        ("jit_compile=0", "jit_compile", False),
        ("dropout=none", "dropout", None),
        ("dropout=0.25", "dropout", 0.25),
        ("hidden_units=64,32", "hidden_units", (64, 32)),
        ("piecewise_boundaries=5,10", "piecewise_boundaries", (5, 10)),
        ("clipnorm=1.5", "clipnorm", 1.5),
        ("data_dir=/tmp/x", "data_dir", "/tmp/x"),
        ("early-stopping-patience=3", "early_stopping_patience", 3),
    ],
)
def test_overrides_are_typed(pair, key, value):
    assert parse_overrides(_Config, [pair]) == {key: value}


@pytest.mark.parametrize(
    "pairs, message",
    [
        (["nope=1"], "Unknown config key 'nope'. Valid keys:"),
        (["epochs"], "key=value"),
        (["epochs=1.5"], "epochs takes an integer. Received: epochs=1.5"),
        (["jit_compile=maybe"], "jit_compile takes true or false"),
        (["hidden_units=a,b"], "hidden_units takes an integer"),
    ],
)
def test_bad_overrides(pairs, message):
    with pytest.raises(ConfigError, match=message):
        parse_overrides(_Config, pairs)


def test_unknown_profile_lists_profiles():
    with pytest.raises(ConfigError, match="Valid profiles: smoke, quick"):
        resolve_config(_Config, PROFILES, "full")


def test_save_load_round_trip(tmp_path):
    config = resolve_config(_Config, PROFILES, "smoke", ["hidden_units=8,4"])
    save_config(config, tmp_path / "config.json", profile="smoke")
    assert load_config(_Config, tmp_path / "config.json") == config
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_load_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="No config found"):
        load_config(_Config, tmp_path / "config.json")
