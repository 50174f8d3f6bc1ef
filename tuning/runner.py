"""The tuning runner: a keras-tuner search over an app's space, resumable.

    python -m tuning classify --tuner random --max-trials 10 --dir runs/tuning
    python -m tuning classify --max-trials 10 --workers 2      # chief + 2 workers

Re-running the same command resumes the search: completed trials are not run
again. At the end ``DIR`` holds ``best_hyperparameters.json``, ``trials.csv``,
``trials.png``, ``report.md`` and ``best/``: the best configuration trained as
an ordinary app run (metrics.json, report.md, export/). While it runs, a line
after each trial gives the trial number, the best value so far and the time
left. The distributed mode is in :mod:`tuning.distributed`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import keras_tuner as kt

from dltoolkit.errors import ConfigError
from dltoolkit.optim import make_optimizer
from dltoolkit.training.app import config_key
from dltoolkit.training.config import config_to_dict, load_config, write_text_atomic
from dltoolkit.training.runner import (
    get_strategy,
    metric_direction,
    precision_policy,
    progress_verbosity,
)
from dltoolkit.tuning import distributed
from dltoolkit.tuning.report import (
    TrialLog,
    plot_trials,
    print_progress,
    trial_rows,
    write_report,
    write_trials_csv,
)
from dltoolkit.tuning.spaces import search_space

TUNERS = ("random", "hyperband", "bayesian")
SEARCH_FILE = "search.json"
PROJECT = "search"
PREPARED_DIR = "prepared"  # the prepare stage of each distinct trial config


class TuningError(ConfigError, kt.errors.FatalError):
    """A mistake found during a trial that every trial would repeat.

    keras-tuner retries ordinary trial errors; a FatalError ends the search.
    """


def parse_objective(text: str, known: list[str]) -> tuple[str, str]:
    """``"val_accuracy"`` or ``"val_accuracy:max"`` -> (name, direction)."""
    name, _, direction = text.partition(":")
    if name not in known:
        raise ConfigError(
            f"Unknown objective {name!r}: the model logs {', '.join(known)}."
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


def apply_space(app, base_config, values: dict):
    """``base_config`` with a trial's values; a name the config lacks is an error."""
    fields = {f.name for f in dataclasses.fields(base_config)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise TuningError(
            f"The search space of {app.name!r} sets {', '.join(unknown)}, which "
            f"{type(base_config).__name__} does not have. Its hyperparameters: "
            f"{', '.join(sorted(fields))}."
        )
    return dataclasses.replace(base_config, **values)


class AppHyperModel(kt.HyperModel):
    """Builds and fits an app's model from a trial's hyperparameters."""

    def __init__(self, app, base_config, data, directory, objective=None):
        super().__init__(name=app.name)
        self.app = app
        self.base_config = base_config
        self.data = data
        self.directory = Path(directory)
        self.objective = objective
        app.run_prepare(base_config, data, self.prepared_dir(base_config))
        self.pipes = app.pipelines(base_config, data)

    def prepared_dir(self, config) -> Path:
        """Where the app's prepare stage keeps a config's products: one
        directory per distinct config, shared by the trials that use it and
        reused when the search resumes."""
        return self.directory / PREPARED_DIR / config_key(config)

    def config_for(self, hp):
        """The base config with this trial's choices applied."""
        overrides = search_space(self.app.name, hp, self.base_config)
        return apply_space(self.app, self.base_config, overrides)

    def pipes_for(self, config):
        """The pipelines of a trial: the base ones, unless the app's depend on
        the trial's hyperparameters (``app.pipelines_per_trial``)."""
        if self.app.pipelines_per_trial:
            return self.app.pipelines(config, self.data)
        return self.pipes

    def build(self, hp):
        config = self.config_for(hp)
        self.app.run_prepare(config, self.data, self.prepared_dir(config))
        model = self.app.build_model(config, self.data)
        optimizer, _ = make_optimizer(config, self.pipes_for(config).steps_per_epoch)
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
        pipes = self.pipes_for(config)
        _, schedule_callbacks = make_optimizer(config, pipes.steps_per_epoch)
        # App callbacks first: they may log the objective (val_bleu, ...).
        app_callbacks = self.app.callbacks(
            config, self.data, model, self.prepared_dir(config)
        )
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
        history = model.fit(
            pipes.train,
            validation_data=pipes.val,
            epochs=epochs or config.epochs,
            initial_epoch=kwargs.get("initial_epoch", 0),  # Hyperband brackets
            callbacks=callbacks,
            shuffle=False,
            verbose=progress_verbosity() if verbose else 0,
        )
        logged = sorted(history.history)
        if self.objective and logged and self.objective not in logged:
            raise TuningError(
                f"The model does not log the objective {self.objective!r}; "
                f"it logs {', '.join(logged)}."
            )
        return history


class _SpaceOnly(kt.HyperModel):
    """Runs only the search space (no model): to list it and check its names."""

    def __init__(self, app, base_config):
        super().__init__(name=app.name)
        self.app, self.base_config = app, base_config

    def build(self, hp):
        apply_space(
            self.app,
            self.base_config,
            search_space(self.app.name, hp, self.base_config),
        )


def space_signature(app, base_config) -> list[dict]:
    """Every hyperparameter of the app's space (all conditional branches).

    keras-tuner explores the branches itself; a name the app's config does not
    have raises :class:`TuningError`. Recorded in ``search.json`` so a directory
    holding a search over another space is not resumed.
    """
    # A local tuner, even in a worker: keras-tuner reads the environment.
    saved = os.environ.pop(distributed.ENV_IP, None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = _space_config(app, base_config, tmp)
    finally:
        if saved is not None:
            os.environ[distributed.ENV_IP] = saved
    signature = []
    for hp in config["space"]:
        entry = {"class": hp["class_name"], **hp["config"]}
        entry.pop("default", None)
        signature.append(entry)
    return sorted(signature, key=lambda e: e["name"])


def _space_config(app, base_config, tmp) -> dict:
    tuner = kt.RandomSearch(
        _SpaceOnly(app, base_config),
        objective=kt.Objective("score", "max"),
        max_trials=1,
        directory=tmp,
        project_name="space",
    )
    return tuner.oracle.get_space().get_config()


def make_tuner(
    name, hypermodel, *, objective, direction, max_trials, directory, config
):
    """A keras-tuner tuner that resumes from ``directory`` if it exists."""
    common = dict(
        objective=kt.Objective(objective, direction),
        seed=config.seed,
        directory=str(directory),
        project_name=PROJECT,
        overwrite=False,
    )
    if config.strategy != "default":
        common["distribution_strategy"] = get_strategy(config.strategy)
    if name == "random":
        cls, kwargs = kt.RandomSearch, dict(max_trials=max_trials)
    elif name == "bayesian":
        cls, kwargs = kt.BayesianOptimization, dict(max_trials=max_trials)
    else:
        # Hyperband sizes its brackets itself; --max-trials caps the total.
        cls, kwargs = kt.Hyperband, dict(max_epochs=max(2, config.epochs))
    _adopt_tuner_state(Path(directory) / PROJECT)
    tuner = _with_progress(cls)(hypermodel, **kwargs, **common)
    tuner.oracle.max_trials = max_trials
    return tuner


def _adopt_tuner_state(project: Path) -> None:
    """Lets a search started by one tuner id (``tuner0``, ``chief``) resume as another.

    keras-tuner reloads its oracle only when ``<tuner id>.json`` exists: a
    single-process search resumed with ``--workers`` (or the reverse) would
    otherwise start from trial 0 and overwrite the trials.
    """
    if not (project / "oracle.json").is_file():
        return
    tuner_id = os.environ.get(distributed.ENV_ID, "tuner0")
    own = project / f"{tuner_id}.json"
    if distributed.role_from_env() == "worker" or own.is_file():
        return
    for other in ("tuner0.json", "chief.json"):
        if (project / other).is_file():
            shutil.copyfile(project / other, own)
            return
    own.write_text("{}")


def _with_progress(cls):
    """``cls`` with a trial log and a progress line after each trial."""

    class Tracked(cls):
        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            if not self._is_worker():
                self.trial_log.begin(trial.trial_id, self.tuner_id)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            if not self._is_worker():
                self.trial_log.end(trial.trial_id)
                done = self.oracle.trials[trial.trial_id]
                score = done.score if done.status == "COMPLETED" else None
                print_progress(
                    self.oracle, self.trial_log, last=(trial.trial_id, score)
                )

        @property
        def trial_log(self):
            if not hasattr(self, "_trial_log"):
                self._trial_log = TrialLog(Path(self.project_dir).parent)
            return self._trial_log

    Tracked.__name__ = Tracked.__qualname__ = cls.__name__
    return Tracked


def _check_same_search(directory: Path, search: dict, *, write: bool = True) -> None:
    """Refuses to resume a search started with other settings; nothing is written
    before the check passes."""
    path = directory / SEARCH_FILE
    search = json.loads(json.dumps(search))  # tuples -> lists, as read back
    if path.is_file():
        previous = json.loads(path.read_text())
        if previous.get("app") != search["app"]:
            raise ConfigError(
                f"{directory} holds a search of app {previous.get('app')!r}, not "
                f"{search['app']!r}; use a new --dir."
            )
        # search_space: absent from directories made before it was recorded.
        changed = [
            k
            for k in search
            if previous.get(k) != search[k]
            and not (k == "search_space" and k not in previous)
        ]
        if changed:
            raise ConfigError(
                f"{directory} holds a search with other settings "
                f"({', '.join(changed)}); use a new --dir, or the same settings "
                "to resume."
            )
    elif write and (directory / PROJECT).exists():
        # (A worker's own directory on an unshared disk has no search.json.)
        raise ConfigError(
            f"{directory} holds a keras-tuner search without {SEARCH_FILE}; "
            "use a new --dir."
        )
    if write:
        write_text_atomic(path, json.dumps(search, indent=2, sort_keys=True) + "\n")


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
    workers: int = 0,
    worker_argv: list[str] | None = None,
    connect_timeout: float = 60.0,
    trial_timeout: float | None = None,
    listen: str | None = None,
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
        workers: > 0: serve as the chief and start this many local workers.
            Without it, ``KERASTUNER_*`` variables make this process a chief
            or a worker of a distributed search (:mod:`tuning.distributed`).
        worker_argv: the ``python -m tuning`` arguments the local workers run.
        connect_timeout: seconds a worker waits for the chief (each call).
        trial_timeout: the chief gives back to the queue a trial running
            longer than this (a remote worker that died); None waits.
        listen: the chief's ``IP:PORT`` when it is not in the environment.

    Returns:
        A summary: best hyperparameters, score, trial count, paths. A worker
        returns ``{"role": "worker", ...}`` once the chief has no more trials.
    """
    if max_trials < 1:
        raise ConfigError(f"max_trials must be >= 1. Received: {max_trials}")
    if tuner_name not in TUNERS:
        raise ConfigError(
            f"Unknown tuner {tuner_name!r}. Valid tuners: {', '.join(TUNERS)}."
        )
    if workers < 0:
        raise ConfigError(f"workers must be >= 0. Received: {workers}")
    role = distributed.role_from_env()
    if workers and role is not None:
        raise ConfigError(
            f"--workers starts its own chief and workers; unset "
            f"{distributed.ENV_IP} or drop --workers."
        )
    directory = Path(directory)
    base_config = app.resolve(profile, overrides)
    objective, direction = parse_objective(
        objective or app.objective, known_objectives(app, base_config)
    )
    search = {
        "app": app.name,
        "tuner": tuner_name,
        "objective": objective,
        "direction": direction,
        "base_config": config_to_dict(base_config),
        "search_space": space_signature(app, base_config),
    }
    if role == "worker":
        return _run_worker(
            app, base_config, directory, search, tuner_name, max_trials,
            connect_timeout,
        )  # fmt: skip
    _check_same_search(directory, search)
    data = app.load_data(base_config)
    hypermodel = AppHyperModel(app, base_config, data, directory, objective)
    tune = dict(
        objective=objective,
        direction=direction,
        max_trials=max_trials,
        directory=directory,
        config=base_config,
    )
    if workers or role == "chief":
        tuner = _run_chief(
            tuner_name, hypermodel, tune, directory, workers=workers,
            worker_argv=worker_argv, listen=listen, trial_timeout=trial_timeout,
            verbose=verbose,
        )  # fmt: skip
    else:
        tuner = make_tuner(tuner_name, hypermodel, **tune)
        if tuner.oracle.trials:
            print_progress(tuner.oracle, tuner.trial_log)
        with precision_policy(base_config.mixed_precision):
            tuner.search(verbose=verbose)
    summary = finish_search(
        app, tuner, hypermodel, directory, profile=profile, tuner_name=tuner_name,
        workers=workers,
    )  # fmt: skip
    write_text_atomic(
        directory / "best_hyperparameters.json",
        json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n",
    )
    return summary


def _run_chief(
    tuner_name, hypermodel, tune, directory, *, workers, worker_argv, listen,
    trial_timeout, verbose,
):  # fmt: skip
    """Serves the oracle until the search is over; starts local workers if asked."""
    saved = {k: os.environ.get(k) for k in (distributed.ENV_ID,)}
    os.environ[distributed.ENV_ID] = distributed.CHIEF_ID
    try:
        tuner = make_tuner(tuner_name, hypermodel, **tune)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    tuner.oracle.verbose = verbose
    tuner.save()
    if listen:
        ip, _, port = listen.rpartition(":")
    elif distributed.ENV_IP in os.environ:
        ip, port = os.environ[distributed.ENV_IP], os.environ[distributed.ENV_PORT]
    else:
        ip, port = "127.0.0.1", "0"
    start = None
    if workers:
        argv = list(worker_argv or [])

        def start(bound):
            return distributed.LocalWorkers(workers, argv, directory, bound)

    log = tuner.trial_log
    if tuner.oracle.trials:
        print_progress(tuner.oracle, log, parallel=max(1, workers))
    distributed.serve(
        tuner.oracle,
        ip=ip,
        port=int(port),
        log=log,
        parallel=max(1, workers),
        start_workers=start,
        trial_timeout=trial_timeout,
    )
    return tuner


def _run_worker(
    app, base_config, directory, search, tuner_name, max_trials, connect_timeout
):
    """Runs the chief's trials until it has none left."""
    import grpc

    from dltoolkit.errors import UserError

    address = distributed.oracle_address()
    _check_same_search(directory, search, write=False)
    distributed.wait_for_chief(address, connect_timeout)
    distributed.bound_worker_calls(connect_timeout)
    data = app.load_data(base_config)
    hypermodel = AppHyperModel(app, base_config, data, directory, search["objective"])
    tuner = make_tuner(
        tuner_name,
        hypermodel,
        objective=search["objective"],
        direction=search["direction"],
        max_trials=max_trials,
        directory=directory,
        config=base_config,
    )
    try:
        with precision_policy(base_config.mixed_precision):
            tuner.search(verbose=1)
    except grpc.RpcError as err:
        raise UserError(
            f"Lost the tuning chief at {address}: {err.code().name}; "
            "its trials are given to other workers or rerun on resume."
        ) from None
    return {"role": "worker", "tuner_id": tuner.tuner_id, "app": app.name}


def finish_search(
    app, tuner, hypermodel, directory: Path, *, profile: str, tuner_name: str,
    workers: int = 0,
) -> dict:  # fmt: skip
    """Writes the trial table, plot and report, and trains the best config."""
    oracle = tuner.oracle
    objective, direction = oracle.objective.name, oracle.objective.direction
    rows = trial_rows(oracle, tuner.trial_log)
    write_trials_csv(rows, directory / "trials.csv")
    plot_trials(rows, objective, direction, directory / "trials.png")
    # get_best_trials pads with failed trials when too few completed.
    completed = [
        t for t in oracle.get_best_trials(len(rows)) if t.status == "COMPLETED"
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
        "workers": workers or None,
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
        "trials_by_worker": _count_by_worker(rows),
    }
    write_report(directory, summary, rows)
    return summary


def _count_by_worker(rows: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for row in rows:
        if row["status"] == "COMPLETED" and row["worker"]:
            counts[row["worker"]] = counts.get(row["worker"], 0) + 1
    return counts
