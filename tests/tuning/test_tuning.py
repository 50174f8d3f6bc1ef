"""Tuning runner: a two-trial search, its resume, spaces, bad input."""

import csv
import json

import keras_tuner as kt
import pytest

from apps.classify.app import APP
from dltoolkit.errors import ConfigError
from dltoolkit.optim import OPTIMIZERS, SCHEDULES
from tuning.__main__ import main
from tuning.runner import known_objectives, parse_objective, run_search
from tuning.spaces import optimizer_space, search_space


def _trial_dirs(directory):
    return sorted(p.name for p in (directory / "search").glob("trial_*"))


def test_two_trials_then_resume(tmp_path):
    kwargs = dict(tuner_name="random", directory=tmp_path, profile="smoke", verbose=0)
    summary = run_search(APP, max_trials=2, **kwargs)
    assert summary["completed_trials"] == 2
    assert _trial_dirs(tmp_path) == ["trial_0", "trial_1"]
    with open(tmp_path / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED"]
    assert {"model", "optimizer", "learning_rate", "schedule"} <= set(rows[0])
    best = json.loads((tmp_path / "best_hyperparameters.json").read_text())
    scores = [float(r["score"]) for r in rows]
    assert best["best_score"] == pytest.approx(max(scores))
    assert best["best_config"]["optimizer"] == best["best_hyperparameters"]["optimizer"]
    assert (tmp_path / "best" / "export" / "saved_model.pb").is_file()
    assert (tmp_path / "trials.png").is_file()
    mtimes = {
        p: p.stat().st_mtime_ns for p in (tmp_path / "search").rglob("trial.json")
    }

    # The same command again: nothing reruns.
    again = run_search(APP, max_trials=2, **kwargs)
    assert again["trials"] == 2
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes

    # One more trial allowed: exactly one new trial runs.
    more = run_search(APP, max_trials=3, **kwargs)
    assert more["completed_trials"] == 3
    assert _trial_dirs(tmp_path) == ["trial_0", "trial_1", "trial_2"]


@pytest.mark.parametrize("tuner", ["hyperband", "bayesian"])
def test_other_tuners(tuner, tmp_path):
    summary = run_search(
        APP,
        tuner_name=tuner,
        max_trials=2,
        directory=tmp_path,
        profile="smoke",
        overrides=["epochs=2"],
        objective="val_loss",
        verbose=0,
    )
    assert summary["tuner"] == tuner and summary["direction"] == "min"
    assert summary["completed_trials"] == 2
    with open(tmp_path / "trials.csv") as f:
        scores = [float(r["score"]) for r in csv.DictReader(f) if r["score"]]
    assert summary["best_score"] == pytest.approx(min(scores))


def test_spaces_cover_the_course_choices():
    hp = kt.HyperParameters()
    config = APP.resolve("smoke")
    values = search_space("classify", hp, config)
    assert values["optimizer"] == "adam" and values["schedule"] == "constant"
    assert list(hp._hps["optimizer"][0].values) == list(OPTIMIZERS)
    assert list(hp._hps["schedule"][0].values) == list(SCHEDULES)
    # Conditional parameters appear only with their schedule.
    hp = kt.HyperParameters()
    hp.Fixed("schedule", "power")
    values = optimizer_space(hp, config)
    assert {"decay_epochs", "decay_power"} <= set(values)
    assert "perf_factor" not in values
    hp = kt.HyperParameters()
    hp.Fixed("schedule", "piecewise")
    values = optimizer_space(hp, config.__class__(epochs=8))
    assert values["piecewise_boundaries"] == (4, 6)


def test_objectives_and_directions():
    known = known_objectives(APP, APP.resolve("smoke"))
    assert known == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert parse_objective("val_accuracy", known) == ("val_accuracy", "max")
    assert parse_objective("val_loss", known) == ("val_loss", "min")
    assert parse_objective("accuracy:min", known) == ("accuracy", "min")
    with pytest.raises(ConfigError, match="Unknown objective 'val_acc'. Valid"):
        parse_objective("val_acc", known)
    with pytest.raises(ConfigError, match="direction must be min or max"):
        parse_objective("val_loss:down", known)


def test_resuming_with_other_settings_is_refused(tmp_path):
    kwargs = dict(max_trials=1, directory=tmp_path, profile="smoke", verbose=0)
    run_search(APP, tuner_name="random", **kwargs)
    with pytest.raises(ConfigError, match=r"other settings \(tuner\)"):
        run_search(APP, tuner_name="bayesian", **kwargs)
    with pytest.raises(ConfigError, match=r"other settings \(base_config\)"):
        run_search(APP, tuner_name="random", overrides=["batch_size=16"], **kwargs)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nope"], "Unknown app 'nope'. Valid apps: classify, "),
        (["classify", "--tuner", "grid"], "Unknown tuner 'grid'"),
        (["classify", "--max-trials", "0"], "max_trials must be >= 1"),
        (["classify", "--profile", "huge"], "Unknown profile 'huge'"),
        (["classify", "--objective", "bleu"], "Unknown objective 'bleu'"),
    ],
)
def test_bad_input(argv, message, tmp_path, capsys):
    assert main([*argv, "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_no_space_for_unknown_app():
    with pytest.raises(ConfigError, match="No search space for app 'x'"):
        search_space("x", kt.HyperParameters(), None)
