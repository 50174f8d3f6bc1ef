"""The app contract: the prepare stage (run dir in hand, resumable, timed)
and the rule that apps fill in hooks, never the runner's own methods."""

import dataclasses
import json
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.apps import APPS, get_app
from dltoolkit.training.app import (
    PREPARE_FILE,
    App,
    Evaluation,
    Pipelines,
    read_prepare_record,
)
from dltoolkit.training.config import TrainConfig

# The flow every app inherits; an app that overrides one has grown a workaround.
FLOW = (
    "fit",
    "train",
    "_train",
    "_finish",
    "evaluate_run",
    "export_run",
    "run_prepare",
    "find_learning_rate",
    "resolve",
    "load_run_config",
)


@pytest.mark.parametrize("name", APPS)
def test_no_app_overrides_the_flow(name):
    app = get_app(name)
    overridden = [m for m in FLOW if m in type(app).__dict__]
    assert overridden == [], f"{name} overrides {overridden}"
    # Every attribute the runner and the tuning job read is declared on App.
    for attr in ("pipelines_per_trial", "diagnose_fit", "headline", "objective"):
        assert hasattr(App, attr), attr


@dataclasses.dataclass
class ToyConfig(TrainConfig):
    stage_sleep: float = 0.05


class _Interrupted(Exception):
    pass


class ToyApp(App):
    """A two-feature classifier whose prepare stage writes a file."""

    name = "toy"
    config_cls = ToyConfig
    profiles = {"smoke": dict(epochs=2, batch_size=16)}
    headline = "accuracy"

    def __init__(self, fail_prepare=False):
        self.fail_prepare = fail_prepare
        self.prepared = []  # run dirs prepare saw
        self.made = 0  # times prepare did the work
        self.callback_dirs = []

    def load_data(self, config):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 2)).astype("float32")
        return {"x": x, "y": (x.sum(1) > 0).astype("int64")}

    def describe_data(self, data):
        return "toy"

    def prepare(self, config, data, run_dir):
        self.prepared.append(Path(run_dir))
        product = Path(run_dir) / "stage.npy"
        if not product.is_file():
            time.sleep(config.stage_sleep)
            if self.fail_prepare:
                self.fail_prepare = False
                raise _Interrupted
            np.save(product, data["x"].mean(0))
            self.made += 1
        data["offset"] = np.load(product)

    def pipelines(self, config, data):
        ds = tf.data.Dataset.from_tensor_slices((data["x"] - data["offset"], data["y"]))
        ds = ds.batch(config.batch_size)
        return Pipelines(ds, ds, 4)

    def build_model(self, config, data):
        inputs = keras.Input((2,))
        return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))

    def loss_and_metrics(self, config):
        return "sparse_categorical_crossentropy", ["accuracy"]

    def callbacks(self, config, data, model, run_dir):
        self.callback_dirs.append(Path(run_dir))
        return []

    def evaluate(self, model, data, config, run_dir):
        _, accuracy = model.evaluate(self.pipelines(config, data).val, verbose=0)
        return Evaluation({"accuracy": float(accuracy)})

    def export(self, model, data, config, path):
        path.mkdir(parents=True, exist_ok=True)
        (path / "weights.npy").write_bytes(b"")
        return path


def test_prepare_runs_before_fit_with_the_run_dir_and_is_counted(tmp_path):
    app = ToyApp()
    config = app.resolve("smoke", ["stage_sleep=0.3"])
    metrics = app.train(config, tmp_path, profile="smoke", verbose=0)
    assert app.prepared == [tmp_path] and app.made == 1
    assert app.callback_dirs == [tmp_path]
    record = json.loads((tmp_path / PREPARE_FILE).read_text())
    assert record["complete"] and record["seconds"] >= 0.3
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["prepare_seconds"] == pytest.approx(record["seconds"], abs=0.01)
    fit_seconds = json.loads((tmp_path / "train_state.json").read_text())
    assert saved["train_seconds"] == pytest.approx(
        fit_seconds["train_seconds"] + record["seconds"], abs=0.02
    )
    assert metrics["epochs"] == 2


def test_resume_evaluate_and_export_reuse_the_products(tmp_path):
    app = ToyApp()
    config = app.resolve("smoke")
    first = app.train(config, tmp_path, profile="smoke", verbose=0)
    app.train(config, tmp_path, profile="smoke", verbose=0)  # resumes: nothing to do
    app.evaluate_run(tmp_path)
    app.export_run(tmp_path)
    assert app.prepared == [tmp_path] * 4 and app.made == 1
    again = json.loads((tmp_path / "metrics.json").read_text())
    assert again["prepare_seconds"] == first["prepare_seconds"]


def test_an_interrupted_stage_keeps_its_time_and_finishes_on_resume(tmp_path):
    app = ToyApp(fail_prepare=True)
    config = app.resolve("smoke", ["stage_sleep=0.2"])
    with pytest.raises(_Interrupted):
        app.train(config, tmp_path, profile="smoke", verbose=0)
    record = read_prepare_record(tmp_path)
    assert not record["complete"] and record["seconds"] >= 0.2
    assert not (tmp_path / "model.keras").exists()
    metrics = app.train(config, tmp_path, profile="smoke", verbose=0)
    assert read_prepare_record(tmp_path)["complete"]
    assert metrics["prepare_seconds"] >= 0.4  # both attempts counted


def test_a_stage_made_for_other_settings_is_not_counted_as_done(tmp_path):
    app = ToyApp()
    app.run_prepare(app.resolve("smoke", ["seed=1"]), app.load_data(None), tmp_path)
    (tmp_path / "stage.npy").unlink()
    seconds = app.run_prepare(
        app.resolve("smoke", ["seed=2", "stage_sleep=0.2"]),
        app.load_data(None),
        tmp_path,
    )
    assert app.made == 2 and seconds >= 0.2


def test_a_stage_may_report_the_cost_of_products_from_a_cache(tmp_path):
    class Cached(ToyApp):
        def prepare(self, config, data, run_dir):
            super().prepare(config, data, run_dir)
            return 42.0

    app = Cached()
    seconds = app.run_prepare(app.resolve("smoke"), app.load_data(None), tmp_path)
    assert seconds == 42.0 and read_prepare_record(tmp_path)["seconds"] == 42.0


def test_evaluate_data_is_refused_by_apps_that_cannot_score_it(tmp_path, capsys):
    from dltoolkit.training.app import eval_dir, main

    app = ToyApp()
    app.name = "toy"
    code = main(app, ["evaluate", "--run-dir", str(tmp_path), "--data", "x"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [
        "error: the toy app does not score other data: evaluate takes --run-dir only"
    ]
    assert eval_dir("r", "/a/b/recordings/", "all") == Path("r/eval/recordings-all")
    assert eval_dir("r", "embedded, tfds:spoken_digit", "test") == Path(
        "r/eval/embedded+tfds_spoken_digit-test"
    )
