"""bench/translation.py --add-to: which earlier rows may be kept beside new
ones (the same setting, split, ours' row, budget and CPU), checked in this
process before any training."""

import argparse
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from dltoolkit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_translation", ROOT / "bench" / "translation.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    return module


SOURCES = ["Tom eats.", "Mary runs."]
REFS = ["Tom come.", "Mary corre."]
RUN = types.SimpleNamespace(thread_settings=lambda: {"threads": 2})
DATA = types.SimpleNamespace(sizes={"train": 10, "val": 2, "test": 2})
CONFIG = types.SimpleNamespace(seed=0)
ROW = {
    "seconds": 4.0,
    "test_seconds": 1.0,
    "bleu": 10.0,
    "chrf": 20.0,
    "bleu_lowercase": 11.0,
    "bleu_lowercase_nopunct": 12.0,
}


def _earlier(bench, **changes):
    machine = bench._harness.machine()
    earlier = {
        "profile": "smoke",
        "smoke": True,
        "overrides": [],
        "split": {"train": 10, "val": 2, "test": 2, "seed": 0},
        "samples": {"source": SOURCES, "reference": REFS},
        "rows": {"dltoolkit smoke": dict(ROW), "Keras seq2seq Transformer": ROW},
        "budget_seconds": 4.0,
        "machine": machine,
        "thread_settings": {"threads": 2},
    }
    earlier.update(changes)
    return earlier


def _args(**changes):
    args = dict(
        profile=None,
        smoke=True,
        smoke_profile="smoke",
        overrides=[],
        budget=None,
        allow_other_cpu=False,
    )
    args.update(changes)
    return argparse.Namespace(**args)


def _check(bench, earlier, args=None, peers=("kerashub",), samples=None):
    samples = samples or {"source": SOURCES, "reference": REFS}
    return bench._check_earlier(
        earlier, args or _args(), RUN, DATA, CONFIG, samples, list(peers)
    )


def test_the_same_setting_and_machine_is_accepted(bench):
    assert _check(bench, _earlier(bench)) is True
    # Retraining a kept peer needs no row of it, nor its budget.
    earlier = _earlier(bench, rows={"dltoolkit smoke": ROW, "KerasHub seq2seq": {}})
    assert _check(bench, earlier, _args(budget=9.0), peers=["kerashub"]) is True


@pytest.mark.parametrize(
    "changes, args, samples, message",
    [
        ({"profile": "real"}, {}, None, "ran profile real, not smoke"),
        ({"smoke": False}, {}, None, "have smoke=False, this run True"),
        ({"overrides": ["reverse=true"]}, {}, None, "ran with --set ['reverse=true']"),
        (
            {"split": {"train": 11, "val": 2, "test": 2, "seed": 0}},
            {},
            None,
            "measured on another split: {'train': 11",
        ),
        (
            {},
            {},
            {"source": SOURCES[::-1], "reference": REFS[::-1]},
            "another split: {'train': 10, 'val': 2, 'test': 2, 'seed': 0}, this "
            "data gives {'train': 10, 'val': 2, 'test': 2, 'seed': 0} (other pairs)",
        ),
        ({"rows": {"Keras seq2seq Transformer": ROW}}, {}, None, "no row 'dltoolkit"),
        (
            {"rows": {"dltoolkit smoke": {"bleu": 1.0}}},
            {},
            None,
            "row 'dltoolkit smoke' lacks seconds, test_seconds, chrf",
        ),
        ({}, {"budget": 9.0}, None, "kept peers trained for 4.0 s, not --budget 9.0"),
        ({"thread_settings": {"threads": 1}}, {}, None, "another machine"),
    ],
)
def test_another_setting_is_refused(bench, changes, args, samples, message):
    with pytest.raises(ConfigError, match="the --add-to results") as err:
        _check(bench, _earlier(bench, **changes), _args(**args), samples=samples)
    assert message in str(err.value)


def test_another_cpu_is_refused_unless_allowed_and_then_recorded(bench):
    other = _earlier(bench)
    other["machine"] = {**other["machine"], "cpu_model": "Other CPU"}
    with pytest.raises(ConfigError, match="--allow-other-cpu adds the rows"):
        _check(bench, other)
    assert _check(bench, other, _args(allow_other_cpu=True)) is False


def test_rows_kept_from_another_cpu_stay_marked(bench):
    """Chaining: a file whose own kept rows ran elsewhere is another CPU too."""
    earlier = _earlier(bench)
    earlier["kept_from_earlier"] = {
        "rows": ["dltoolkit smoke"],
        "machine": {**earlier["machine"], "cpu_model": "Other CPU"},
        "same_machine": False,
    }
    with pytest.raises(ConfigError, match="another machine"):
        _check(bench, earlier)
    assert _check(bench, earlier, _args(allow_other_cpu=True)) is False
