"""The fit runner: strategy, compile, callbacks, resume, timing."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf

from dltoolkit.errors import ConfigError, TrainingDiverged
from dltoolkit.optim.config import make_optimizer
from dltoolkit.training.config import write_text_atomic

STRATEGIES = ("default", "mirrored", "multiworker")
# Where the non-chief workers of a multi-worker run write (default: a temp dir).
WORKER_DIR_ENV = "DLTOOLKIT_WORKER_DIR"
_MULTIWORKER: list = []  # the one MultiWorkerMirroredStrategy of this process
HISTORY_FILE = "history.csv"
STATE_FILE = "train_state.json"
BEST_WEIGHTS = "checkpoints/best.weights.h5"
MODEL_FILE = "model.keras"


@dataclasses.dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        model: the trained model, with the best validation weights loaded.
        history: metric name -> per-epoch values, over all resumed sessions.
        train_seconds: wall time spent in ``fit`` over all sessions.
        epochs: epochs completed.
        resumed: whether this call continued an earlier, interrupted run.
    """

    model: keras.Model
    history: dict[str, list[float]]
    train_seconds: float
    epochs: int
    resumed: bool


def get_strategy(name: str) -> tf.distribute.Strategy:
    """Returns the tf.distribute strategy called ``name``.

    ``"mirrored"``: every GPU of this machine (the CPU if none).
    ``"multiworker"``: ``MultiWorkerMirroredStrategy`` over the cluster in
    ``TF_CONFIG`` (one worker when it is unset). It must be created before
    TensorFlow runs anything, so :meth:`App.train` asks for it first; it is
    created once per process.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if not _MULTIWORKER:
            task = task_info()  # validates TF_CONFIG
            try:
                _MULTIWORKER.append(tf.distribute.MultiWorkerMirroredStrategy())
                _patch_multiworker_log_reduction()
            except (RuntimeError, ValueError) as err:
                raise ConfigError(
                    f"Cannot start the multi-worker strategy as {task['type']} "
                    f"{task['index']}: {str(err).splitlines()[0]}"
                ) from None
        return _MULTIWORKER[0]
    raise ConfigError(
        f"Unknown strategy {name!r}. Valid strategies: {', '.join(STRATEGIES)}."
    )


def _patch_multiworker_log_reduction() -> None:
    """Works around Keras 3's reduction of step logs across workers.

    Under ``MultiWorkerMirroredStrategy`` Keras reduces each step's logs with
    ``strategy.reduce("MEAN", v, axis=0)``, which fails on the scalar loss and
    metrics ("Invalid reduction dimension 0 for input with 0 dimensions"):
    their mean over the replicas is what is meant. Other reductions (predict's
    concatenation) are left to Keras.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "dltoolkit_patched", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and (
            trainer._collective_all_reduce_multi_worker(strategy)
        ):
            return tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None), values
            )
        return original(values, strategy, reduction)

    reduce_per_replica.dltoolkit_patched = True
    trainer.reduce_per_replica = reduce_per_replica


def task_info(env=None) -> dict:
    """This process's place in ``TF_CONFIG``: type, index, workers, is_chief.

    The chief is the ``chief`` task if the cluster has one, else worker 0 (the
    TensorFlow convention). No ``TF_CONFIG``: a lone chief.
    """
    env = os.environ if env is None else env
    text = env.get("TF_CONFIG", "")
    if not text:
        return {"type": "worker", "index": 0, "workers": 1, "is_chief": True}
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        kind, index = task["type"], int(task["index"])
        cluster[kind][index]  # noqa: B018 - this task is in the cluster
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise ConfigError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host:port", '
            '...]}, "task": {"type": "worker", "index": 0}}; '
            f"{type(err).__name__}: {err} in {text!r}"
        ) from None
    workers = sum(len(cluster.get(k, [])) for k in ("chief", "worker"))
    is_chief = kind == "chief" or (
        kind == "worker" and index == 0 and "chief" not in cluster
    )
    return {"type": kind, "index": index, "workers": workers, "is_chief": is_chief}


def task_run_dir(config, run_dir: os.PathLike) -> tuple[Path, bool]:
    """Where this process writes a run, and whether to delete it at the end.

    Under ``multiworker`` only the chief writes ``run_dir`` (checkpoints,
    exports, reports); the other workers, which compute the same model, write
    to a directory of their own: ``$DLTOOLKIT_WORKER_DIR/<type>-<index>`` if
    set (kept), else a temp dir named after ``run_dir`` (deleted when the run
    ends, kept while it is interrupted, so a restarted worker resumes).
    """
    run_dir = Path(run_dir)
    if config.strategy != "multiworker":
        return run_dir, False
    get_strategy("multiworker")  # before any other TensorFlow work
    task = task_info()
    if task["is_chief"]:
        return run_dir, False
    name = f"{task['type']}-{task['index']}"
    if os.environ.get(WORKER_DIR_ENV):
        return Path(os.environ[WORKER_DIR_ENV]) / name, False
    key = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "dltoolkit-workers" / key / name, True


@contextlib.contextmanager
def precision_policy(mixed: bool):
    """Sets the mixed-precision policy for the block (float16 on GPU, else bf16)."""
    previous = keras.config.dtype_policy()
    if mixed:
        on_gpu = bool(tf.config.list_physical_devices("GPU"))
        keras.config.set_dtype_policy("mixed_float16" if on_gpu else "mixed_bfloat16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class NaNGuard(keras.callbacks.Callback):
    """Stops training at the first NaN/inf loss and remembers where it happened."""

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.where: str | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.where = f"epoch {self.epoch + 1}, batch {batch + 1}"
            self.model.stop_training = True


class _StateWriter(keras.callbacks.Callback):
    """Records completed epochs and accumulated training time after each epoch.

    A diverged epoch is not recorded, so a resumed run starts before it.
    """

    def __init__(self, path: Path, previous_seconds: float, guard: NaNGuard):
        super().__init__()
        self.path = path
        self.previous_seconds = previous_seconds
        self.guard = guard
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return self.previous_seconds + time.perf_counter() - self.start

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.where is None:
            state = {"epochs": epoch + 1, "train_seconds": self.elapsed()}
            write_text_atomic(self.path, json.dumps({**state, "done": False}) + "\n")


class _GuardedBackup(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that never backs up the weights of a diverged epoch."""

    def __init__(self, guard: NaNGuard, backup_dir: str):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.where is None:
            super().on_epoch_end(epoch, logs)


class _ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that continues the best value and patience of earlier sessions."""

    def __init__(self, previous: list[float], **kwargs):
        super().__init__(**kwargs)
        self.previous = previous

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        best = _best_index(self.previous, self.mode)
        if best is not None:
            self.best = self.previous[best]
            self.best_epoch = best
            self.wait = len(self.previous) - 1 - best


def metric_direction(name: str) -> str:
    """``"max"`` for accuracy-like metrics, ``"min"`` for losses and errors."""
    hints = ("acc", "auc", "bleu", "chrf", "precision", "recall", "f1", "iou")
    return "max" if any(h in name.lower() for h in hints) else "min"


def _best_index(values: list[float], mode: str) -> int | None:
    """The first epoch with the best finite value (ties: the earliest, as Keras)."""
    best = None
    for i, value in enumerate(values):
        if not math.isfinite(value):
            continue
        if best is None or (
            value > values[best] if mode == "max" else value < values[best]
        ):
            best = i
    return best


def read_state(run_dir: os.PathLike) -> dict:
    """The training state of a run dir (epochs done, seconds, done flag)."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return {"epochs": 0, "train_seconds": 0.0, "done": False}
    return json.loads(path.read_text())


def finished(run_dir: os.PathLike, config) -> bool:
    """Whether ``run_dir`` holds a finished run of at least ``config.epochs``
    (so :func:`fit` would only load its model)."""
    state = read_state(run_dir)
    target = state.get("target_epochs", state["epochs"])
    return (
        state["done"]
        and config.epochs <= target
        and (Path(run_dir) / MODEL_FILE).is_file()
    )


def read_history(run_dir: os.PathLike) -> dict[str, list[float]]:
    """Reads the CSV history, keeping the last row written for each epoch.

    Keras's CSVLogger writes ``NA`` for a metric an epoch did not log (the
    ``val_`` columns of a run without validation data); those are left out.
    """
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return {}
    rows: dict[int, dict] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            rows[int(row["epoch"])] = row
    history: dict[str, list[float]] = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            if key != "epoch" and value not in (None, "", "NA"):
                history.setdefault(key, []).append(float(value))
    return history


def progress_verbosity() -> int:
    """A progress bar on a terminal, one line per epoch in logs."""
    return 1 if sys.stdout.isatty() else 2


def fit(
    build_model: Callable[[], keras.Model],
    train_data: tf.data.Dataset,
    val_data: tf.data.Dataset | None,
    *,
    config,
    run_dir: os.PathLike,
    steps_per_epoch: int,
    loss,
    metrics=(),
    extra_callbacks=(),
    model_callbacks: Callable[[keras.Model], list] | None = None,
    verbose: int | None = None,
) -> FitResult:
    """Compiles and trains a model in ``run_dir``, resuming if it was interrupted.

    The run dir receives ``backup/`` (BackupAndRestore state, so a killed run
    resumes at its last completed epoch), ``checkpoints/best.weights.h5``,
    ``history.csv``, ``logs/`` (TensorBoard), ``train_state.json`` and, at the
    end, ``model.keras``. A run that already finished is not trained again:
    its saved model is loaded, unless ``config.epochs`` grew.

    Args:
        build_model: returns the uncompiled model (called inside the strategy
            scope).
        train_data: batched training pipeline.
        val_data: batched validation pipeline, or None.
        config: a :class:`~dltoolkit.training.config.TrainConfig`.
        run_dir: the run directory.
        steps_per_epoch: batches per epoch (schedules count steps).
        loss: Keras loss.
        metrics: Keras metrics.
        model_callbacks: ``model -> callbacks``, called once the model is
            built (for callbacks that decode with it); run first.
        extra_callbacks: run before the runner's own callbacks, so metrics
            they add to the logs (``val_bleu``) reach checkpoints, early
            stopping, schedules and the CSV history.
        verbose: Keras verbosity; default is a progress bar on a terminal.

    Returns:
        A :class:`FitResult`.

    Raises:
        TrainingDiverged: the loss became NaN or infinite.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = read_state(run_dir)
    if finished(run_dir, config):
        return FitResult(
            load_trained_model(run_dir),
            read_history(run_dir),
            state["train_seconds"],
            state["epochs"],
            True,
        )
    strategy = get_strategy(config.strategy)
    with precision_policy(config.mixed_precision), strategy.scope():
        model = build_model()
        optimizer, schedule_callbacks = make_optimizer(config, steps_per_epoch)
        model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=list(metrics),
            jit_compile=config.jit_compile,
        )

    if config.strategy == "multiworker":
        _local_symbolic_build(model)

    monitor = config.early_stopping_monitor if val_data is not None else "loss"
    mode = metric_direction(monitor)
    # The monitored values of the epochs already done, for a resumed run.
    previous = read_history(run_dir).get(monitor, [])[: state["epochs"]]
    best = _best_index(previous, mode)
    best_path = run_dir / BEST_WEIGHTS
    best_path.parent.mkdir(parents=True, exist_ok=True)
    guard = NaNGuard()
    state_writer = _StateWriter(run_dir / STATE_FILE, state["train_seconds"], guard)
    callbacks = [
        guard,
        # First: they may add metrics (val_bleu, ...) the others read.
        *(model_callbacks(model) if model_callbacks else []),
        *extra_callbacks,
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=True),
        keras.callbacks.ModelCheckpoint(
            str(best_path),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=None if best is None else previous[best],
        ),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs")),
        *schedule_callbacks,
    ]
    if config.early_stopping_patience > 0:
        callbacks.append(
            _ResumedEarlyStopping(
                previous,
                monitor=monitor,
                mode=mode,
                patience=config.early_stopping_patience,
            )
        )
    # Last, so the backup is written only after the epoch's other records.
    callbacks += [state_writer, _GuardedBackup(guard, str(run_dir / "backup"))]
    with precision_policy(config.mixed_precision):
        model.fit(
            train_data,
            validation_data=val_data,
            epochs=config.epochs,
            callbacks=callbacks,
            shuffle=False,  # the pipeline shuffles
            verbose=progress_verbosity() if verbose is None else verbose,
        )
    if guard.where is not None:
        raise TrainingDiverged(
            f"Training diverged: the loss became NaN or infinite at {guard.where}. "
            f"Run again with a lower learning_rate (now {config.learning_rate}) "
            "or with clipnorm set; the same run dir resumes before the bad epoch."
        )
    if best_path.is_file():
        model.load_weights(best_path)
    history = read_history(run_dir)
    epochs = len(history.get("loss", []))
    seconds = state_writer.elapsed()
    _save_model_atomic(model, run_dir / MODEL_FILE)
    write_text_atomic(
        run_dir / STATE_FILE,
        json.dumps(
            {
                "epochs": epochs,
                "train_seconds": seconds,
                "done": True,
                "target_epochs": config.epochs,
            }
        )
        + "\n",
    )
    return FitResult(model, history, seconds, epochs, state["epochs"] > 0)


def _local_symbolic_build(model: keras.Model) -> None:
    """Works around Keras 3's symbolic build under MultiWorkerMirroredStrategy.

    Before training, ``fit`` reduces a whole ``(x, y)`` batch of per-replica
    values with ``strategy.reduce``, which the collective cross-device ops of
    ``MultiWorkerMirroredStrategy`` cannot take ("Attempt to convert a value
    (PerReplica...) to a Tensor"). The build only needs shapes and dtypes:
    this builds from the local replica's batch instead.
    """
    import types

    from keras.src import tree

    strategy = model.distribute_strategy

    def build(self, iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tree.map_structure(
                    lambda x: (
                        strategy.experimental_local_results(x)[0]
                        if isinstance(x, tf.distribute.DistributedValues)
                        else x
                    ),
                    next(it),
                )
                break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = types.MethodType(build, model)


def _save_model_atomic(model: keras.Model, path: Path) -> None:
    for stale in path.parent.glob(f".tmp-*-{path.name}"):
        stale.unlink()
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    model.save(tmp)
    os.replace(tmp, path)


def load_trained_model(run_dir: os.PathLike) -> keras.Model:
    """Loads ``run_dir/model.keras`` written at the end of :func:`fit`."""
    path = Path(run_dir) / MODEL_FILE
    if not path.is_file():
        raise ConfigError(f"No trained model at {path}: run `train` first.")
    return keras.saving.load_model(path)
