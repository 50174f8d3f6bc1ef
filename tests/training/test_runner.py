"""Fit runner: resume after a kill, NaN guard, atomic export, strategies."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.errors import ConfigError, TrainingDiverged
from dltoolkit.training import export as export_module
from dltoolkit.training.config import TrainConfig
from dltoolkit.training.export import export_saved_model
from dltoolkit.training.runner import fit, get_strategy, read_history, read_state

ROOT = Path(__file__).resolve().parents[2]


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    return ds, ds


def _build():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


def _fit(run_dir, config, **kwargs):
    train, val = _data()
    return fit(
        _build,
        train,
        val,
        config=config,
        run_dir=run_dir,
        steps_per_epoch=4,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        verbose=0,
        **kwargs,
    )


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


class _CountEpochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_interrupted_fit_resumes_at_last_epoch(tmp_path):
    config = TrainConfig(epochs=5, learning_rate=0.01)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, config, extra_callbacks=[_Interrupt(at_epoch=3)])
    assert read_state(tmp_path)["epochs"] == 3
    assert not (tmp_path / "model.keras").exists()
    counter = _CountEpochs()
    result = _fit(tmp_path, config, extra_callbacks=[counter])
    assert counter.epochs == [3, 4]  # epochs 0-2 are not trained again
    assert result.resumed
    assert result.epochs == 5
    history = read_history(tmp_path)
    assert len(history["loss"]) == 5
    assert read_state(tmp_path)["done"]
    # A finished run is loaded, not retrained.
    counter = _CountEpochs()
    again = _fit(tmp_path, config, extra_callbacks=[counter])
    assert counter.epochs == []
    np.testing.assert_allclose(
        again.model.get_weights()[0], result.model.get_weights()[0]
    )


def test_killed_train_command_resumes(tmp_path):
    """SIGKILL mid-training, run the same command again: it resumes and finishes."""
    run_dir = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "apps.classify",
        "train",
        "--profile",
        "smoke",
        "--run-dir",
        str(run_dir),
        "--set",
        "model=mlp",
        "--set",
        "epochs=10",
        "--set",
        "batch_size=4",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and read_state(run_dir)["epochs"] < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = read_state(run_dir)["epochs"]
    assert 2 <= killed_at < 10
    assert not (run_dir / "export").exists()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Epoch {killed_at + 1}/10" in done.stdout
    assert "Epoch 1/10" not in done.stdout
    history = read_history(run_dir)
    assert len(history["loss"]) == 10
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs"] == 10
    assert (run_dir / "export" / "saved_model.pb").is_file()


def test_nan_loss_raises_clear_error(tmp_path):
    config = TrainConfig(epochs=3, optimizer="sgd", learning_rate=1e12)
    with pytest.raises(TrainingDiverged, match="NaN or infinite at epoch 1"):
        _fit(tmp_path, config)


def test_unknown_strategy():
    with pytest.raises(ConfigError, match="Valid strategies: default, mirrored"):
        get_strategy("tpu")


@pytest.mark.serial
def test_mirrored_strategy_trains(tmp_path):
    config = TrainConfig(epochs=1, strategy="mirrored")
    result = _fit(tmp_path, config)
    assert result.epochs == 1


def test_mixed_precision_trains_and_restores_policy(tmp_path):
    config = TrainConfig(epochs=1, mixed_precision=True)
    result = _fit(tmp_path, config)
    assert result.model.layers[1].dtype_policy.name.startswith("mixed_")
    assert keras.config.dtype_policy().name == "float32"


def test_jit_compile_trains(tmp_path):
    result = _fit(tmp_path, TrainConfig(epochs=1, jit_compile=True))
    assert np.isfinite(result.history["loss"][0])


def _serve_model():
    model = _build()

    def serve(x):
        return {"probabilities": model(x)}

    return model, serve, [tf.TensorSpec([None, 4], tf.float32)]


def test_export_is_atomic_on_crash(tmp_path, monkeypatch):
    path = tmp_path / "export"
    model, serve, signature = _serve_model()
    export_saved_model(path, model, serve, signature)
    before = (path / "saved_model.pb").read_bytes()

    def crash(self, filepath, **kwargs):
        Path(filepath).mkdir(parents=True)
        (Path(filepath) / "partial").write_text("half")
        raise RuntimeError("disk full")

    archive_cls = type(export_module.keras.export.ExportArchive())
    monkeypatch.setattr(archive_cls, "write_out", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        export_saved_model(path, model, serve, signature)
    assert (path / "saved_model.pb").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_export_replaces_existing(tmp_path):
    path = tmp_path / "export"
    model, serve, signature = _serve_model()
    export_saved_model(path, model, serve, signature)
    export_saved_model(path, model, serve, signature)
    loaded = tf.saved_model.load(str(path)).signatures["serving_default"]
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(
        loaded(x=tf.constant(x))["probabilities"], model(x), atol=1e-6
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_diverged_run_resumes_with_lower_learning_rate(tmp_path):
    with pytest.raises(TrainingDiverged, match="same run dir resumes"):
        _fit(tmp_path, TrainConfig(epochs=3, optimizer="sgd", learning_rate=1e12))
    assert read_state(tmp_path)["epochs"] == 0  # the bad epoch is not recorded
    result = _fit(tmp_path, TrainConfig(epochs=3, optimizer="sgd", learning_rate=0.1))
    assert result.epochs == 3
    assert all(np.isfinite(result.history["loss"]))
    assert all(np.isfinite(w).all() for w in result.model.get_weights())


def test_early_stopped_run_is_not_retrained(tmp_path):
    # A learning rate too small to change accuracy: val_accuracy never improves.
    config = TrainConfig(
        epochs=20,
        optimizer="sgd",
        learning_rate=1e-9,
        early_stopping_patience=2,
        early_stopping_monitor="val_accuracy",
    )
    first = _fit(tmp_path, config)
    assert first.epochs == 3
    counter = _CountEpochs()
    again = _fit(tmp_path, config, extra_callbacks=[counter])
    assert counter.epochs == [] and again.epochs == 3


def test_early_stopping_patience_carries_across_resume(tmp_path):
    config = TrainConfig(
        epochs=20,
        optimizer="sgd",
        learning_rate=1e-9,
        early_stopping_patience=3,
        early_stopping_monitor="val_accuracy",
    )
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, config, extra_callbacks=[_Interrupt(at_epoch=2)])
    counter = _CountEpochs()
    _fit(tmp_path, config, extra_callbacks=[counter])
    # Best at epoch 0, two epochs without improvement already: 3 more would
    # be a fresh patience; the resumed run stops after epoch 3 instead.
    assert counter.epochs == [2, 3]


class _FakeBleu(keras.callbacks.Callback):
    """Logs val_bleu = 10, 30, 20, 20, ... (best at the second epoch)."""

    def __init__(self, model):
        super().__init__()
        self.built_for = model

    def on_epoch_end(self, epoch, logs=None):
        logs["val_bleu"] = [10.0, 30.0][epoch] if epoch < 2 else 20.0


def test_model_callbacks_feed_checkpoints_and_early_stopping(tmp_path):
    config = TrainConfig(
        epochs=10, early_stopping_patience=2, early_stopping_monitor="val_bleu"
    )
    made = []

    def make(model):
        made.append(_FakeBleu(model))
        return made

    result = _fit(tmp_path, config, model_callbacks=make)
    assert isinstance(made[0].built_for, keras.Model)
    assert result.history["val_bleu"] == [10.0, 30.0, 20.0, 20.0]  # max mode
    assert result.epochs == 4


def test_read_history_leaves_out_what_csvlogger_wrote_as_na(tmp_path):
    (tmp_path / "history.csv").write_text(
        "epoch,loss,val_loss\n0,0.5,NA\n1,0.25,NA\n", encoding="utf-8"
    )
    assert read_history(tmp_path) == {"loss": [0.5, 0.25]}
