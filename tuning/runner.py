"""The tuning runner: a keras-tuner search over an app's space, resumable.

    python -m tuning classify --tuner random --max-trials 10 --dir runs/tuning

Re-running the same command resumes the search: completed trials are not run
again. At the end ``DIR`` holds ``best_hyperparameters.json``, ``trials.csv``,
``trials.png`` and ``best/``: the best configuration trained as an ordinary
app run (metrics.json, report.md, export/).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from pathlib import Path

import keras
import keras_tuner as kt

from dltoolkit.errors import ConfigError
from dltoolkit.optim import make_optimizer
from dltoolkit.plotting import save_figure
from dltoolkit.training.config import config_to_dict, load_config, write_text_atomic
from dltoolkit.training.runner import (
    get_strategy,
    metric_direction,
    precision_policy,
    progress_verbosity,
)
from tuning.spaces import search_space

TUNERS = ("random", "hyperband", "bayesian")
SEARCH_FILE = "search.json"


def parse_objective(text: str, known: list[str]) -> tuple[str, str]:
    """``"val_accuracy"`` or ``"val_accuracy:max"`` -> (name, direction)."""
    name, _, direction = text.partition(":")
    if name not in known:
        raise ConfigError(
            f"Unknown objective {name!r}. Valid objectives: {', '.join(known)}."
        )
    direction = direction or metric_direction(name)
    if direction not in ("min", "max"):
        raise ConfigError(f"Objective direction must be min or max. Received: {text!r}")
    return name, direction


def known_objectives(app, config) -> list[str]:
    """The Keras log names a trial reports.

    Losses and compiled metrics, plus the app's own objective, which its
    callbacks may log (``val_bleu``).
    """
    _, metrics = app.loss_and_metrics(config)
    names = ["loss"] + [getattr(m, "name", m) for m in metrics]
    names += [f"val_{n}" for n in names]
    return names if app.objective in names else [*names, app.objective]


class AppHyperModel(kt.HyperModel):
    """Builds and fits an app's model from a trial's hyperparameters."""

    def __init__(self, app, base_config, data):
        super().__init__(name=app.name)
        self.app = app
        self.base_config = base_config
        self.data = data
        self.pipes = app.pipelines(base_config, data)

    def config_for(self, hp):
        """The base config with this trial's choices applied."""
        overrides = search_space(self.app.name, hp, self.base_config)
        return dataclasses.replace(self.base_config, **overrides)

    def build(self, hp):
        config = self.config_for(hp)
        model = self.app.build_model(config, self.data)
        optimizer, _ = make_optimizer(config, self.pipes.steps_per_epoch)
        loss, metrics = self.app.loss_and_metrics(config)
        model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            jit_compile=config.jit_compile,
        )
        return model

    def fit(self, hp, model, *args, callbacks=None, epochs=None, verbose=1, **kwargs):
        config = self.config_for(hp)
        _, schedule_callbacks = make_optimizer(config, self.pipes.steps_per_epoch)
        # App callbacks first: they may log the objective (val_bleu, ...).
        app_callbacks = self.app.callbacks(config, self.data, model)
        callbacks = [*app_callbacks, *(callbacks or []), *schedule_callbacks]
        callbacks.append(keras.callbacks.TerminateOnNaN())
        if config.early_stopping_patience > 0:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=config.early_stopping_monitor,
                    mode=metric_direction(config.early_stopping_monitor),
                    patience=config.early_stopping_patience,
                )
            )
        return model.fit(
            self.pipes.train,
            validation_data=self.pipes.val,
            epochs=epochs or config.epochs,
            initial_epoch=kwargs.get("initial_epoch", 0),  # Hyperband brackets
            callbacks=callbacks,
            shuffle=False,
            verbose=progress_verbosity() if verbose else 0,
        )


def make_tuner(
    name, hypermodel, *, objective, direction, max_trials, directory, config
):
    """A keras-tuner tuner that resumes from ``directory`` if it exists."""
    common = dict(
        objective=kt.Objective(objective, direction),
        seed=config.seed,
        directory=str(directory),
        project_name="search",
        overwrite=False,
    )
    if config.strategy != "default":
        common["distribution_strategy"] = get_strategy(config.strategy)
    if name == "random":
        return kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if name == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    # Hyperband sizes its brackets itself; --max-trials caps the total.
    tuner = kt.Hyperband(hypermodel, max_epochs=max(2, config.epochs), **common)
    tuner.oracle.max_trials = max_trials
    return tuner


def _check_same_search(directory: Path, search: dict) -> None:
    """Refuses to resume a search started with other settings."""
    path = directory / SEARCH_FILE
    search = json.loads(json.dumps(search))  # tuples -> lists, as read back
    if path.is_file():
        previous = json.loads(path.read_text())
        changed = [k for k in search if previous.get(k) != search[k]]
        if changed:
            raise ConfigError(
                f"{directory} holds a search with other settings "
                f"({', '.join(changed)}); use a new --dir, or the same settings "
                "to resume."
            )
    write_text_atomic(path, json.dumps(search, indent=2, sort_keys=True) + "\n")


def trial_rows(tuner) -> list[dict]:
    """One row per trial: id, status, score and its hyperparameters."""
    rows = []
    for trial in sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id):
        row = {
            "trial_id": trial.trial_id,
            "status": trial.status,
            "score": trial.score,
        }
        row.update(trial.hyperparameters.values)
        rows.append(row)
    return rows


def write_trials_csv(rows: list[dict], path: Path) -> None:
    """Writes the trials table (the union of all columns)."""
    columns = ["trial_id", "status", "score"]
    for row in rows:
        columns += [k for k in row if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, out.getvalue())


def plot_trials(rows: list[dict], objective: str, direction: str, path: Path):
    """Objective per trial, with the running best."""
    from matplotlib.figure import Figure

    done = [r for r in rows if r["status"] == "COMPLETED" and r["score"] is not None]
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    if done:
        scores = [r["score"] for r in done]
        best = max if direction == "max" else min
        running = [best(scores[: i + 1]) for i in range(len(scores))]
        ax.plot(range(1, len(scores) + 1), scores, "o", label="trial")
        ax.plot(range(1, len(scores) + 1), running, "-", label="best so far")
        ax.legend()
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title("Tuning: objective per trial")
    fig.set_layout_engine("tight")
    return save_figure(fig, path)


def run_search(
    app,
    *,
    tuner_name: str,
    max_trials: int,
    directory: Path,
    profile: str = "quick",
    overrides=(),
    objective: str | None = None,
    verbose: int = 1,
) -> dict:
    """Runs (or resumes) a search and trains the best configuration.

    Args:
        app: the app (``apps.get_app(name)``).
        tuner_name: one of :data:`TUNERS`.
        max_trials: the number of trials in all (resumed ones included).
        directory: where the search state and results go.
        profile: the app profile the trials start from.
        overrides: ``key=value`` overrides of that profile.
        objective: a Keras log name; default the app's objective.
        verbose: keras-tuner's verbosity.

    Returns:
        A summary: best hyperparameters, score, trial count, paths.
    """
    if max_trials < 1:
        raise ConfigError(f"max_trials must be >= 1. Received: {max_trials}")
    if tuner_name not in TUNERS:
        raise ConfigError(
            f"Unknown tuner {tuner_name!r}. Valid tuners: {', '.join(TUNERS)}."
        )
    directory = Path(directory)
    base_config = app.resolve(profile, overrides)
    objective, direction = parse_objective(
        objective or app.objective, known_objectives(app, base_config)
    )
    _check_same_search(
        directory,
        {
            "app": app.name,
            "tuner": tuner_name,
            "objective": objective,
            "direction": direction,
            "base_config": config_to_dict(base_config),
        },
    )
    data = app.load_data(base_config)
    hypermodel = AppHyperModel(app, base_config, data)
    tuner = make_tuner(
        tuner_name,
        hypermodel,
        objective=objective,
        direction=direction,
        max_trials=max_trials,
        directory=directory,
        config=base_config,
    )
    with precision_policy(base_config.mixed_precision):
        tuner.search(verbose=verbose)

    rows = trial_rows(tuner)
    write_trials_csv(rows, directory / "trials.csv")
    plot_trials(rows, objective, direction, directory / "trials.png")
    # get_best_trials pads with failed trials when too few completed.
    completed = [
        t for t in tuner.oracle.get_best_trials(len(rows)) if t.status == "COMPLETED"
    ]
    if not completed:
        raise ConfigError("No trial completed; see the errors above.")
    best_trial = completed[0]
    best_config = hypermodel.config_for(best_trial.hyperparameters)

    best_dir = directory / "best"
    config_path = best_dir / "config.json"
    if (
        config_path.is_file()
        and load_config(app.config_cls, config_path) != best_config
    ):
        shutil.rmtree(best_dir)  # derived from an older best trial
    metrics = app.train(best_config, best_dir, profile=profile, verbose=0)
    summary = {
        "app": app.name,
        "tuner": tuner_name,
        "objective": objective,
        "direction": direction,
        "best_trial": best_trial.trial_id,
        "best_score": best_trial.score,
        "best_hyperparameters": best_trial.hyperparameters.values,
        "best_config": config_to_dict(best_config),
        # best/ retrains the best config as an app run: its metrics are on the
        # test split, best_score is the trial's own validation score.
        "best_run_dir": str(best_dir),
        "best_run_metrics": metrics,
        "trials": len(rows),
        "completed_trials": sum(r["status"] == "COMPLETED" for r in rows),
    }
    write_text_atomic(
        directory / "best_hyperparameters.json",
        json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n",
    )
    return summary
