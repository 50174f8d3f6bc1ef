"""The app contract: one command line shared by every application.

An app subclasses :class:`App` and fills in its hooks (data, model, metrics,
export, predict); :func:`main` gives it the commands every app answers::

    python -m apps.NAME train    --profile P [--run-dir DIR] [--set KEY=VALUE ...]
    python -m apps.NAME evaluate --run-dir DIR [--data SOURCE [--subset S]]
    python -m apps.NAME predict  --run-dir DIR INPUT [INPUT ...]
    python -m apps.NAME export   --run-dir DIR
    python -m apps.NAME lr-find  --profile P [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from dltoolkit.errors import ConfigError, UserError
from dltoolkit.optim.diagnosis import diagnose, plot_learning_curves
from dltoolkit.training import runner
from dltoolkit.training.config import (
    describe_settings,
    format_settings,
    load_config,
    resolve_config,
    save_config,
    write_text_atomic,
)
from dltoolkit.training.export import EXPORT_DIR
from dltoolkit.training.report import read_metrics, write_metrics, write_report

CONFIG_FILE = "config.json"
PREPARE_FILE = "prepare.json"


@dataclasses.dataclass
class Pipelines:
    """Batched data an app hands to the runner."""

    train: Any
    val: Any
    steps_per_epoch: int


@dataclasses.dataclass
class Evaluation:
    """What an app's ``evaluate`` returns: metrics plus report material."""

    metrics: dict
    sections: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    plots: list[Path] = dataclasses.field(default_factory=list)


class App:
    """Base of every application; subclasses fill in the hooks below.

    Attributes:
        name: the app's name (``apps/<name>``, ``runs/<name>/``).
        config_cls: the app's config dataclass (a ``TrainConfig``).
        profiles: profile name -> field values (``smoke``, ``quick``, ``full``).
        headline: the metric the demo table and tuning report lead with.
        objective: the default tuning objective (a Keras log name).
    """

    name: str = ""
    config_cls: type = None
    profiles: dict[str, dict] = {}
    headline: str = ""
    objective: str = "val_loss"
    # Whether the learning-curve diagnosis (underfit / overfit from the loss
    # curves) means anything: not for losses that need not fall, as a GAN's.
    diagnose_fit: bool = True
    # Whether ``pipelines`` depends on more than the data: the tuning runner
    # then builds each trial's pipelines from the trial's config (the ASR
    # targets depend on the HMM topology; translation's on the tokenizer).
    pipelines_per_trial: bool = False
    # The settings ``config`` lists under data (the rest are grouped as
    # model, training and optimizer settings).
    data_fields: tuple[str, ...] = ("data", "data_dir")

    # === Hooks ===

    def load_data(self, config) -> Any:
        """Loads the app's data for ``config``."""
        raise NotImplementedError

    def describe_data(self, data) -> str:
        """A Markdown description of the data for the report."""
        raise NotImplementedError

    def pipelines(self, config, data) -> Pipelines:
        """Batched train and validation pipelines."""
        raise NotImplementedError

    def build_model(self, config, data) -> keras.Model:
        """The uncompiled model for ``config``."""
        raise NotImplementedError

    def loss_and_metrics(self, config) -> tuple[Any, list]:
        """The Keras loss and metrics to compile with."""
        raise NotImplementedError

    def evaluate(self, model, data, config, run_dir: Path) -> Evaluation:
        """Held-out test metrics, samples and plots."""
        raise NotImplementedError

    def export(self, model, data, config, path: Path) -> Path:
        """Writes the raw-input SavedModel to ``path``."""
        raise NotImplementedError

    def prepare(self, config, data, run_dir: Path) -> float | None:
        """The stage before fitting: whatever the model needs that Keras's fit
        does not train (a GMM-HMM alignment, a judge network, masked-LM
        pretraining, companion models).

        Called by :meth:`run_prepare` before every use of the model (train,
        evaluate, export, lr-find, each tuning trial). Its
        products live in ``run_dir`` and are reused when already there; what
        the other hooks need of them the app keeps on ``data`` or looks up in
        ``run_dir``. Returns the seconds its products cost when it reused them
        from a cache outside ``run_dir`` (so they are counted once), or None
        to be timed by the contract.
        """
        return None

    def callbacks(self, config, data, model, run_dir: Path) -> list:
        """Extra callbacks for training and tuning (e.g. a ``val_bleu`` scorer).

        Called after the model is built, with the run (or trial) directory
        that files they write belong in; they run before the runner's own
        callbacks, so metrics they log can be monitored.
        """
        return []

    def chance_loss(self, config, data) -> float | None:
        """The loss of a trivial predictor, for the learning-curve diagnosis."""
        return None

    def predict(self, run_dir: Path, inputs: list[str]) -> list[str]:
        """Runs the export on raw ``inputs``; returns one output line each."""
        raise NotImplementedError

    def score_data(self, run_dir: Path, data: str, subset: str, out_dir: Path) -> dict:
        """Scores the export of ``run_dir`` on another data source (``evaluate
        --data``): ``subset`` is ``all`` or one split of it. Writes its files
        to ``out_dir`` and returns the metrics it wrote to
        ``out_dir/metrics.json``. Apps that cannot refuse with ConfigError."""
        raise ConfigError(
            f"the {self.name} app does not score other data: evaluate takes "
            "--run-dir only"
        )

    # === Flow ===

    def resolve(self, profile: str, overrides=()):
        """The config for ``profile`` with ``key=value`` overrides."""
        return resolve_config(self.config_cls, self.profiles, profile, overrides)

    def run_prepare(self, config, data, run_dir: os.PathLike) -> float:
        """Runs :meth:`prepare` in ``run_dir``; returns the stage's seconds.

        The seconds are recorded in ``run_dir/prepare.json``: an interrupted
        stage keeps the time it spent and adds the rest when resumed; once it
        completed, later calls (resume, evaluate, export) only reuse its
        products and add nothing.
        """
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        key = config_key(config)
        record = read_prepare_record(run_dir)
        if record.get("config") != key:  # made for other settings: start over
            record = {"seconds": 0.0, "complete": False}
        if record["complete"]:
            self.prepare(config, data, run_dir)
            return record["seconds"]
        start = time.perf_counter()
        complete = False
        try:
            reported = self.prepare(config, data, run_dir)
            complete = True
        finally:
            spent = time.perf_counter() - start
            if complete and reported is not None:
                spent = float(reported)
            record = {
                "seconds": record["seconds"] + spent,
                "complete": complete,
                "config": key,
            }
            write_text_atomic(run_dir / PREPARE_FILE, json.dumps(record) + "\n")
        return record["seconds"]

    def fit(self, config, data, run_dir: Path, *, extra_callbacks=(), verbose=None):
        """Builds, compiles and trains in ``run_dir`` (resumable).

        The contract's step after :meth:`run_prepare`; apps do not override
        it (their extra work belongs in :meth:`prepare`).
        """
        run_dir = Path(run_dir)
        pipes = self.pipelines(config, data)
        loss, metrics = self.loss_and_metrics(config)
        return runner.fit(
            lambda: self.build_model(config, data),
            pipes.train,
            pipes.val,
            config=config,
            run_dir=run_dir,
            steps_per_epoch=pipes.steps_per_epoch,
            loss=loss,
            metrics=metrics,
            extra_callbacks=extra_callbacks,
            model_callbacks=lambda model: self.callbacks(config, data, model, run_dir),
            verbose=verbose,
        )

    def train(
        self, config, run_dir: os.PathLike, *, profile: str = "custom", verbose=None
    ):
        """The whole job: fit, evaluate, export, report. Returns the metrics.

        Under ``strategy=multiworker`` every worker runs this; only the chief
        writes ``run_dir``, the others a directory of their own
        (:func:`runner.task_run_dir`).
        """
        run_dir, temporary = runner.task_run_dir(config, run_dir)
        metrics = self._train(config, run_dir, profile, verbose)
        if temporary:
            shutil.rmtree(run_dir, ignore_errors=True)
        return metrics

    def _train(self, config, run_dir: Path, profile: str, verbose):
        config_path = run_dir / CONFIG_FILE
        if config_path.is_file() and runner.read_state(run_dir)["epochs"] > 0:
            previous = load_config(self.config_cls, config_path)
            changed = _changed_fields(previous, config)
            if changed:
                raise ConfigError(
                    f"{run_dir} holds a run trained with other settings "
                    f"({', '.join(changed)}); use a new --run-dir, or the same "
                    "settings to resume."
                )
        data = self.load_data(config)
        save_config(config, config_path, app=self.name, profile=profile)
        self.run_prepare(config, data, run_dir)
        result = self.fit(config, data, run_dir, verbose=verbose)
        return self._finish(result.model, data, config, run_dir, profile)

    def evaluate_run(self, run_dir: os.PathLike) -> dict:
        """Recomputes ``run_dir/metrics.json`` from the saved model."""
        run_dir = Path(run_dir)
        config, profile = self.load_run_config(run_dir)
        data = self.load_data(config)
        self.run_prepare(config, data, run_dir)
        model = runner.load_trained_model(run_dir)
        return self._finish(model, data, config, run_dir, profile, export=False)

    def export_run(self, run_dir: os.PathLike) -> Path:
        """Re-exports the saved model of ``run_dir``."""
        run_dir = Path(run_dir)
        config, _ = self.load_run_config(run_dir)
        data = self.load_data(config)
        self.run_prepare(config, data, run_dir)
        model = runner.load_trained_model(run_dir)
        return self.export(model, data, config, run_dir / EXPORT_DIR)

    def find_learning_rate(self, config, out_dir: os.PathLike, **search) -> float:
        """The course's learning-rate search on this app's model and data.

        Short runs over a log scale, then a finer search around the best;
        writes ``out_dir/lr_search.png`` and ``out_dir/lr_search.json``.
        """
        from dltoolkit.optim import find_learning_rate, make_optimizer

        out_dir = Path(out_dir)
        data = self.load_data(config)
        self.run_prepare(config, data, out_dir)
        pipes = self.pipelines(config, data)
        loss, metrics = self.loss_and_metrics(config)

        def build(learning_rate):
            model = self.build_model(config, data)
            trial = dataclasses.replace(
                config, learning_rate=learning_rate, schedule="constant"
            )
            optimizer, _ = make_optimizer(trial, pipes.steps_per_epoch)
            model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
            return model

        result = find_learning_rate(
            build,
            pipes.train,
            val_data=pipes.val,
            plot_path=out_dir / "lr_search.png",
            verbose=1,
            **search,
        )
        summary = {
            "best_lr": result.best_lr,
            "coarse": result.coarse,
            "fine": result.fine,
            "optimizer": config.optimizer,
        }
        write_text_atomic(out_dir / "lr_search.json", json.dumps(summary, indent=2))
        return result.best_lr

    def load_run_config(self, run_dir: Path):
        """The config and profile a run was trained with."""
        path = Path(run_dir) / CONFIG_FILE
        config = load_config(self.config_cls, path)
        profile = json.loads(path.read_text()).get("profile", "custom")
        return config, profile

    def _finish(self, model, data, config, run_dir, profile, export=True):
        evaluation = self.evaluate(model, data, config, run_dir)
        state = runner.read_state(run_dir)
        prepare_seconds = read_prepare_record(run_dir)["seconds"]
        metrics = {
            **evaluation.metrics,
            # The whole training cost: the prepare stage and Keras's fit.
            "train_seconds": round(state["train_seconds"] + prepare_seconds, 2),
            "prepare_seconds": round(prepare_seconds, 2),
            "epochs": state["epochs"],
            "profile": profile,
        }
        history = runner.read_history(run_dir)
        sections = list(evaluation.sections)
        plots = list(evaluation.plots)
        if self.diagnose_fit and len(history.get("loss", [])) >= 2:
            diagnosis = diagnose(history, chance_loss=self.chance_loss(config, data))
            metrics["fit_diagnosis"] = diagnosis.kind
            plots.insert(
                0,
                plot_learning_curves(
                    history, run_dir / "learning_curves.png", diagnosis=diagnosis
                ),
            )
            sections.insert(0, ("Learning-curve diagnosis", _diagnosis_text(diagnosis)))
        if export:
            export_path = self.export(model, data, config, run_dir / EXPORT_DIR)
            metrics["export"] = str(export_path)
        elif "export" in (previous := read_metrics(run_dir)):
            metrics["export"] = previous["export"]
        write_metrics(run_dir, metrics)
        write_report(
            run_dir,
            title=f"{self.name}: {profile} run",
            config=config,
            data=self.describe_data(data),
            model=f"`{model.name}`: {model.count_params():,} parameters",
            metrics=metrics,
            sections=sections,
            plots=plots,
        )
        return metrics


def read_prepare_record(run_dir: os.PathLike) -> dict:
    """``run_dir/prepare.json``: the prepare stage's seconds and completion."""
    path = Path(run_dir) / PREPARE_FILE
    if not path.is_file():
        return {"seconds": 0.0, "complete": False}
    record = json.loads(path.read_text())
    return {
        "seconds": float(record["seconds"]),
        "complete": bool(record["complete"]),
        "config": record.get("config"),
    }


def config_key(config) -> str:
    """A digest of the settings a run's products depend on (the fields that
    may change on resume left out)."""
    fields = {
        k: v
        for k, v in dataclasses.asdict(config).items()
        if k not in _RESUMABLE_FIELDS
    }
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _diagnosis_text(diagnosis) -> str:
    gap = diagnosis.generalization_gap
    gap_text = "n/a" if gap is None else f"{gap:.4f}"
    return (
        f"**{diagnosis.kind}**: {diagnosis.reasons}\n\n"
        f"Best epoch: {diagnosis.best_epoch + 1}; generalization gap "
        f"(final val_loss - loss): {gap_text}."
    )


# Fields that may change when a run is resumed: the length of training, how it
# runs, and the step size (to recover from a diverged run).
_RESUMABLE_FIELDS = {
    "epochs",
    "early_stopping_patience",
    "strategy",
    "jit_compile",
    "learning_rate",
    "clipnorm",
    "clipvalue",
}


def _changed_fields(previous, config) -> list[str]:
    a, b = dataclasses.asdict(previous), dataclasses.asdict(config)
    return [k for k in a if k not in _RESUMABLE_FIELDS and a[k] != b.get(k)]


def eval_dir(run_dir: os.PathLike, data: str, subset: str) -> Path:
    """``run_dir/eval/<source>-<subset>``: where ``evaluate --data`` writes;
    the source's name is its last path parts made safe for a folder name."""
    parts = [Path(s.strip()).name or s.strip() for s in data.split(",")]
    slug = "+".join(p.replace(":", "_") for p in parts if p) or "data"
    slug = "".join(ch if ch.isalnum() or ch in "+-_." else "_" for ch in slug)
    return Path(run_dir) / "eval" / f"{slug}-{subset}"


def default_run_dir(app_name: str) -> Path:
    """``runs/<app>/<timestamp>/``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / app_name / stamp


def _parser(app: App, prog: str | None = None) -> argparse.ArgumentParser:
    prog = prog or f"python -m apps.{app.name}"
    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser(
        "train",
        help="train, evaluate, export and report",
        description="Trains, evaluates, exports and reports one run. Every "
        f"--set KEY is listed, with its type, value and meaning, by `{prog} "
        "config --profile P`.",
    )
    train.add_argument(
        "--profile", default="quick", help=f"one of {tuple(app.profiles)}"
    )
    train.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help=f"default: runs/{app.name}/<timestamp>",
    )
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"change one setting (`{prog} config` lists them)",
    )
    train.add_argument(
        "--strategy",
        default=None,
        help="default, mirrored (the GPUs of this machine) or multiworker "
        "(the cluster in TF_CONFIG; see python -m dltoolkit.training.launch)",
    )
    train.add_argument("--mixed-precision", action="store_true")
    train.add_argument("--jit-compile", action="store_true")
    evaluate = sub.add_parser(
        "evaluate",
        help="recompute DIR/metrics.json, or score the export on other data",
        description="Recomputes DIR/metrics.json from the saved model; with "
        "--data, scores DIR's export on another data source instead and writes "
        "DIR/eval/<source>-<subset>/ (metrics.json and the app's files).",
    )
    evaluate.add_argument("--run-dir", type=Path, required=True)
    evaluate.add_argument(
        "--data",
        default=None,
        metavar="SOURCE",
        help="a data source as the app's data setting takes it",
    )
    evaluate.add_argument(
        "--subset",
        default="all",
        choices=("all", "train", "val", "test"),
        help="with --data: every utterance/example of the source (default), "
        "or one of its splits",
    )
    predict = sub.add_parser("predict", help="run the export on raw inputs")
    predict.add_argument("--run-dir", type=Path, required=True)
    predict.add_argument("inputs", nargs="+")
    export = sub.add_parser("export", help="rewrite DIR/export")
    export.add_argument("--run-dir", type=Path, required=True)
    lr_find = sub.add_parser(
        "lr-find", help="learning-rate search: coarse log scale, then finer"
    )
    lr_find.add_argument(
        "--profile", default="quick", help=f"one of {tuple(app.profiles)}"
    )
    lr_find.add_argument("--out-dir", type=Path, default=None)
    lr_find.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )
    lr_find.add_argument("--min-lr", type=float, default=1e-4)
    lr_find.add_argument("--max-lr", type=float, default=1.0)
    lr_find.add_argument("--epochs", type=int, default=1, help="epochs per rate")
    settings = sub.add_parser(
        "config",
        help="every setting: key, type, value under a profile, meaning",
    )
    settings.add_argument(
        "--profile", default="quick", help=f"one of {tuple(app.profiles)}"
    )
    settings.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )
    return parser


def main(app: App, argv=None, prog: str | None = None) -> int:
    """Runs one app command; user mistakes exit 2 with one line on stderr."""
    args = _parser(app, prog).parse_args(argv)
    try:
        if args.command == "train":
            overrides = list(args.overrides)
            if args.strategy:
                overrides.append(f"strategy={args.strategy}")
            if args.mixed_precision:
                overrides.append("mixed_precision=true")
            if args.jit_compile:
                overrides.append("jit_compile=true")
            config = app.resolve(args.profile, overrides)
            run_dir = args.run_dir or default_run_dir(app.name)
            print(f"run dir: {run_dir}", flush=True)
            start = time.perf_counter()
            metrics = app.train(config, run_dir, profile=args.profile)
            print(f"metrics: {_short(metrics)} ({time.perf_counter() - start:.1f}s)")
            print(f"report: {Path(run_dir) / 'report.md'}")
            if "export" in metrics:
                print(f"export: {metrics['export']}")
        elif args.command == "evaluate" and args.data is not None:
            out_dir = eval_dir(args.run_dir, args.data, args.subset)
            metrics = app.score_data(args.run_dir, args.data, args.subset, out_dir)
            print(f"metrics: {_short(metrics)}")
            print(f"written: {out_dir}")
        elif args.command == "evaluate":
            if args.subset != "all":
                raise ConfigError("--subset needs --data (the source to score)")
            metrics = app.evaluate_run(args.run_dir)
            print(f"metrics: {_short(metrics)}")
        elif args.command == "predict":
            for line in app.predict(args.run_dir, args.inputs):
                print(line)
        elif args.command == "export":
            print(f"export: {app.export_run(args.run_dir)}")
        elif args.command == "lr-find":
            config = app.resolve(args.profile, args.overrides)
            out_dir = args.out_dir or default_run_dir(app.name).with_name("lr-find")
            best = app.find_learning_rate(
                config,
                out_dir,
                min_lr=args.min_lr,
                max_lr=args.max_lr,
                epochs=args.epochs,
            )
            print(f"best learning rate for {config.optimizer}: {best:.3g}")
            print(f"plot: {out_dir / 'lr_search.png'}")
        elif args.command == "config":
            config = app.resolve(args.profile, args.overrides)
            rows = describe_settings(config, app.data_fields)
            print(f"{app.name} settings, profile {args.profile}:\n")
            print(format_settings(rows), end="")
    except USER_ERRORS as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    return 0


# What a command line reports as one line: bad names and values, missing or
# unreadable files, and data TensorFlow cannot decode.
USER_ERRORS = (UserError, ValueError, OSError, tf.errors.OpError)


def one_line(err: BaseException) -> str:
    """The first line of an error's message (TF errors carry a graph trace)."""
    text = err.message if isinstance(err, tf.errors.OpError) else str(err)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _short(metrics: dict) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in metrics.items()
        if k != "export"
    )
