"""Tuning runner: a two-trial search, its resume, spaces, bad input."""

import csv
import json

import keras_tuner as kt
import numpy as np
import pytest

from dltoolkit.apps.classify.app import APP
from dltoolkit.errors import ConfigError
from dltoolkit.optim import OPTIMIZERS, SCHEDULES
from dltoolkit.tuning.__main__ import main
from dltoolkit.tuning.report import format_duration, progress_line, running_best
from dltoolkit.tuning.runner import known_objectives, parse_objective, run_search
from dltoolkit.tuning.spaces import ARCHITECTURE_SPACES, optimizer_space, search_space


def _trial_dirs(directory):
    return sorted(p.name for p in (directory / "search").glob("trial_*"))


def test_two_trials_then_resume(tmp_path, capsys):
    kwargs = dict(tuner_name="random", directory=tmp_path, profile="smoke", verbose=0)
    summary = run_search(APP, max_trials=2, **kwargs)
    assert summary["completed_trials"] == 2
    # A progress line after each trial.
    out = capsys.readouterr().out
    assert "[tuning] trial 1/2 done (trial 0: val_accuracy=" in out
    assert "; best val_accuracy so far: " in out and "left (1 trials)" in out
    assert "[tuning] trial 2/2 done" in out and "no trials left" in out
    # report.md: the best trial, its retrained run, every trial, the plot.
    report = (tmp_path / "report.md").read_text()
    assert "# Tuning classify: random search" in report
    assert f"Trial {summary['best_trial']}: val_accuracy = " in report
    assert "| trial | trial_id | status | score | worker | seconds |" in report
    assert report.count("| COMPLETED |") == 2
    assert "![trials](trials.png)" in report and "best/report.md" in report
    log = json.loads((tmp_path / "trial_log.json").read_text())
    assert sorted(log) == ["0", "1"]
    assert all(e["worker"] == "tuner0" and e["seconds"] > 0 for e in log.values())
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

    assert [r["worker"] for r in rows] == ["tuner0", "tuner0"]

    # The same command again: nothing reruns; the report is written again.
    (tmp_path / "report.md").unlink()
    again = run_search(APP, max_trials=2, **kwargs)
    assert again["trials"] == 2
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert "[tuning] trial 2/2 done; best val_accuracy so far" in (
        capsys.readouterr().out
    )
    assert (tmp_path / "report.md").is_file()

    # One more trial allowed: exactly one new trial runs.
    more = run_search(APP, max_trials=3, **kwargs)
    assert more["completed_trials"] == 3
    assert _trial_dirs(tmp_path) == ["trial_0", "trial_1", "trial_2"]


@pytest.mark.parametrize(
    "tuner",
    [pytest.param("hyperband", marks=pytest.mark.slow), "bayesian"],  # 9 s each
)
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
    with pytest.raises(
        ConfigError, match="Unknown objective .val_acc.: the model logs loss, accuracy"
    ):
        parse_objective("val_acc", known)
    with pytest.raises(ConfigError, match="direction must be min or max"):
        parse_objective("val_loss:down", known)


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


def test_progress_line_estimates_time_left():
    line = progress_line(
        done=3,
        max_trials=10,
        best=0.91234,
        objective="val_accuracy",
        trial_seconds=[30.0, 30.0, 30.0],
        parallel=2,
        last=("2", 0.9),
    )
    assert line == (
        "[tuning] trial 3/10 done (trial 2: val_accuracy=0.9); "
        "best val_accuracy so far: 0.9123; ~2m00s left (7 trials)"
    )
    assert "time left: unknown (10 trials)" in progress_line(
        done=0, max_trials=10, best=None, objective="loss", trial_seconds=[]
    )
    assert format_duration(3700) == "1h01m"
    assert running_best([0.3, None, 0.2, 0.5], "max") == [0.3, 0.3, 0.3, 0.5]
    assert running_best([0.3, None, 0.2, 0.5], "min") == [0.3, 0.3, 0.2, 0.2]


def _snapshot(directory):
    return {
        p: p.stat().st_mtime_ns for p in sorted(directory.rglob("*")) if p.is_file()
    }


def test_resuming_another_app_tuner_config_or_space_is_refused(tmp_path, monkeypatch):
    kwargs = dict(tuner_name="random", max_trials=1, profile="smoke", verbose=0)
    run_search(APP, directory=tmp_path, **kwargs)
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=r"other settings \(tuner\)"):
        run_search(APP, **{**kwargs, "tuner_name": "bayesian"}, directory=tmp_path)
    with pytest.raises(ConfigError, match=r"other settings \(base_config\)"):
        run_search(APP, overrides=["batch_size=16"], directory=tmp_path, **kwargs)
    assert _snapshot(tmp_path) == before
    search = json.loads((tmp_path / "search.json").read_text())
    search["app"] = "sentiment"
    other = tmp_path.parent / "other_app"
    other.mkdir()
    (other / "search.json").write_text(json.dumps(search))
    with pytest.raises(ConfigError, match="holds a search of app 'sentiment', not"):
        run_search(APP, directory=other, **kwargs)
    assert sorted(p.name for p in other.iterdir()) == ["search.json"]

    # The same app with another search space.
    original = ARCHITECTURE_SPACES["classify"]

    def other_space(hp, config):
        values = original(hp, config)
        values["batch_norm"] = hp.Choice("batch_norm_on", [True, False])
        return values

    monkeypatch.setitem(ARCHITECTURE_SPACES, "classify", other_space)
    with pytest.raises(ConfigError, match=r"other settings \(search_space\)"):
        run_search(APP, directory=tmp_path, **kwargs)
    assert _snapshot(tmp_path) == before


def test_space_naming_an_unknown_hyperparameter(tmp_path, monkeypatch, capsys):
    def bad(hp, config):
        return {"model": "mlp", "widht": hp.Int("widht", 8, 16)}

    monkeypatch.setitem(ARCHITECTURE_SPACES, "classify", bad)
    argv = ["classify", "--profile", "smoke", "--dir", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "error: The search space of 'classify' sets widht, which ClassifyConfig "
        "does not have. Its hyperparameters: "
    )
    assert "hidden_units" in err and len(err.splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_objective_the_model_does_not_log(tmp_path, monkeypatch):
    # An app objective its callbacks were meant to log, but do not.
    monkeypatch.setattr(APP, "objective", "val_f1")
    with pytest.raises(ConfigError) as info:
        run_search(
            APP, tuner_name="random", max_trials=2, directory=tmp_path,
            profile="smoke", verbose=0,
        )  # fmt: skip
    assert str(info.value) == (
        "The model does not log the objective 'val_f1'; it logs accuracy, loss, "
        "val_accuracy, val_loss."
    )


def test_every_app_has_a_space_naming_only_its_config_fields():
    from dltoolkit.apps import APPS, get_app
    from dltoolkit.tuning.runner import space_signature

    for name in APPS:
        app = get_app(name)
        # Explores every conditional branch; a name the config lacks raises.
        signature = space_signature(app, app.resolve("smoke"))
        names = {hp["name"] for hp in signature}
        assert {"optimizer", "learning_rate", "schedule"} <= names, name
        assert len(names) > 3, name


def test_a_trial_whose_pipelines_differ_from_the_base_config_fits(tmp_path):
    """translation: the base config is a seq2seq (per-batch padding); a
    transformer trial needs fixed-length batches of its own."""
    from dltoolkit.apps.translation.app import APP as TRANSLATION
    from dltoolkit.tuning.runner import AppHyperModel

    config = TRANSLATION.resolve("smoke", ["epochs=1", "num_pairs=300"])
    assert config.model == "seq2seq"
    data = TRANSLATION.load_data(config)
    hypermodel = AppHyperModel(TRANSLATION, config, data, tmp_path, "val_bleu")
    hp = kt.HyperParameters()
    for name, value in [
        ("model", "transformer"),
        ("embedding_dim", 64),
        ("num_layers", 1),
        ("num_heads", 2),
        ("ff_units", 256),
    ]:
        hp.Fixed(name, value)
    model = hypermodel.build(hp)
    history = hypermodel.fit(hp, model, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert "val_bleu" in history.history
