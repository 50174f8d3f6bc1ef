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
import sys
from pathlib import Path

import keras
import keras_tuner as kt

from dltoolkit.errors import ConfigError
from dltoolkit.optim import make_optimizer
from dltoolkit.training.config import config_to_dict, load_config, write_text_atomic
from tuning.spaces import search_space

TUNERS = ("random", "hyperband", "bayesian")
MAXIMIZE_HINTS = ("acc", "auc", "bleu", "precision", "recall", "f1", "chrf")


def objective_direction(name: str) -> str:
    """``max`` for accuracy-like metrics, ``min`` for losses and errors."""
    return "max" if any(h in name.lower() for h in MAXIMIZE_HINTS) else "min"


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
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
        return model

    def fit(self, hp, model, *args, callbacks=None, epochs=None, verbose=0, **kwargs):
        config = self.config_for(hp)
        _, schedule_callbacks = make_optimizer(config, self.pipes.steps_per_epoch)
        callbacks = list(callbacks or []) + schedule_callbacks
        callbacks.append(keras.callbacks.TerminateOnNaN())
        if config.early_stopping_patience > 0:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=config.early_stopping_monitor,
                    patience=config.early_stopping_patience,
                )
            )
        return model.fit(
            self.pipes.train,
            validation_data=self.pipes.val,
            epochs=epochs or config.epochs,
            callbacks=callbacks,
            shuffle=False,
            # A progress bar on a terminal, one line per epoch in logs.
            verbose=verbose if sys.stdout.isatty() else min(2 * verbose, 2),
        )


def make_tuner(name, hypermodel, *, objective, max_trials, directory, seed, epochs):
    """A keras-tuner tuner that resumes from ``directory`` if it exists."""
    common = dict(
        objective=kt.Objective(objective, objective_direction(objective)),
        seed=seed,
        directory=str(directory),
        project_name="search",
        overwrite=False,
    )
    if name == "random":
        return kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if name == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    if name == "hyperband":
        tuner = kt.Hyperband(hypermodel, max_epochs=max(2, epochs), factor=3, **common)
        # Hyperband sizes its brackets itself; --max-trials caps the total.
        tuner.oracle.max_trials = max_trials
        return tuner
    raise ConfigError(f"Unknown tuner {name!r}. Valid tuners: {', '.join(TUNERS)}.")


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


def plot_trials(rows: list[dict], objective: str, path: Path) -> Path:
    """Objective per trial, with the running best."""
    from matplotlib.figure import Figure

    done = [r for r in rows if r["score"] is not None]
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    if done:
        scores = [r["score"] for r in done]
        best = max if objective_direction(objective) == "max" else min
        running = [best(scores[: i + 1]) for i in range(len(scores))]
        ax.plot(range(1, len(scores) + 1), scores, "o", label="trial")
        ax.plot(range(1, len(scores) + 1), running, "-", label="best so far")
        ax.legend()
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title("Tuning: objective per trial")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


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
    directory.mkdir(parents=True, exist_ok=True)
    objective = objective or app.objective
    base_config = app.resolve(profile, overrides)
    data = app.load_data(base_config)
    hypermodel = AppHyperModel(app, base_config, data)
    tuner = make_tuner(
        tuner_name,
        hypermodel,
        objective=objective,
        max_trials=max_trials,
        directory=directory,
        seed=base_config.seed,
        epochs=base_config.epochs,
    )
    tuner.search(verbose=verbose)

    rows = trial_rows(tuner)
    write_trials_csv(rows, directory / "trials.csv")
    plot_trials(rows, objective, directory / "trials.png")
    best_trial = tuner.oracle.get_best_trials(1)
    if not best_trial:
        raise ConfigError("No trial completed; see the errors above.")
    best_trial = best_trial[0]
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
        "direction": objective_direction(objective),
        "best_trial": best_trial.trial_id,
        "best_score": best_trial.score,
        "best_hyperparameters": best_trial.hyperparameters.values,
        "best_config": config_to_dict(best_config),
        "best_run_metrics": metrics,
        "trials": len(rows),
        "completed_trials": sum(r["status"] == "COMPLETED" for r in rows),
    }
    write_text_atomic(
        directory / "best_hyperparameters.json",
        json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n",
    )
    return summary
