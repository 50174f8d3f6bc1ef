"""Multi-worker training: two local workers on loopback ports, TF_CONFIG, the
launcher, and who writes what."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dltoolkit.errors import ConfigError
from dltoolkit.training import launch, runner
from dltoolkit.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
JOB = Path(__file__).with_name("multiworker_job.py")
sys.path.insert(0, str(JOB.parent))
import multiworker_job  # noqa: E402


def _env():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    env.pop(runner.WORKER_DIR_ENV, None)
    return env


def _launch(args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "dltoolkit.training.launch", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.serial
def test_two_workers_finish_with_identical_weights_equal_to_one(tmp_path):
    run_dir, worker_dir = tmp_path / "run", tmp_path / "workers"
    done = _launch(
        ["--workers", "2", "--worker-dir", str(worker_dir), "--timeout", "280", "--"]
        + [sys.executable, str(JOB), str(run_dir), "multiworker"]
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"[worker 0] wrote {run_dir}" in done.stdout
    assert f"[worker 1] wrote {worker_dir / 'worker-1'}" in done.stdout
    chief = np.load(run_dir / "final.weights.npz")
    other = np.load(worker_dir / "worker-1" / "final.weights.npz")
    assert len(chief.files) == 4
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key])
    # Only the chief wrote the run dir; the other worker its own.
    assert (run_dir / "model.keras").is_file()
    assert sorted(p.name for p in worker_dir.iterdir()) == ["worker-1"]
    # The same job on one worker, in this process.
    _, single = multiworker_job.run(tmp_path / "single", "default")
    for key, value in zip(chief.files, single):
        np.testing.assert_allclose(chief[key], value, atol=1e-5)
    history = runner.read_history(run_dir)
    assert history["loss"] == pytest.approx(
        runner.read_history(tmp_path / "single")["loss"], abs=1e-5
    )


@pytest.mark.slow
@pytest.mark.serial
def test_killed_multiworker_run_resumes_from_its_backups(tmp_path, monkeypatch):
    run_dir, worker_dir = tmp_path / "run", tmp_path / "workers"
    args = ["--workers", "2", "--worker-dir", str(worker_dir), "--timeout", "280"]
    job = ["--", sys.executable, str(JOB), str(run_dir), "multiworker", "5"]
    monkeypatch.setenv("MW_JOB_DIE_AFTER_EPOCH", "3")
    died = _launch(args + job)
    monkeypatch.delenv("MW_JOB_DIE_AFTER_EPOCH")
    assert died.returncode == 3, died.stdout[-3000:]
    assert runner.read_state(run_dir)["epochs"] == 3
    assert runner.read_state(worker_dir / "worker-1")["epochs"] == 3
    assert not (run_dir / "model.keras").exists()
    done = _launch(args + job)
    assert done.returncode == 0, done.stdout[-3000:]
    chief = np.load(run_dir / "final.weights.npz")
    other = np.load(worker_dir / "worker-1" / "final.weights.npz")
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key])
    assert len(runner.read_history(run_dir)["loss"]) == 5
    # Epochs 4 and 5 were appended: the first three were not trained again.
    rows = (run_dir / runner.HISTORY_FILE).read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2", "3", "4"]
    # Plain SGD has no state beyond the weights: the resumed run equals an
    # uninterrupted one.
    _, single = multiworker_job.run(tmp_path / "single", "default", 5)
    for key, value in zip(chief.files, single):
        np.testing.assert_allclose(chief[key], value, atol=1e-5)


@pytest.mark.slow
@pytest.mark.serial
def test_app_cli_multiworker_chief_writes_the_run(tmp_path):
    """classify train --strategy multiworker, two workers: one run dir, one export."""
    run_dir = tmp_path / "run"
    done = _launch(
        ["--workers", "2", "--timeout", "400", "--", sys.executable, "-m"]
        + ["apps.classify", "train", "--profile", "smoke", "--run-dir", str(run_dir)]
        + ["--strategy", "multiworker", "--set", "model=mlp"],
        timeout=420,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    lines = [line for line in done.stdout.splitlines() if "metrics: accuracy=" in line]
    assert len(lines) == 2
    # Both workers report the same test accuracy.
    assert lines[0].split("accuracy=")[1][:6] == lines[1].split("accuracy=")[1][:6]
    assert (run_dir / "export" / "saved_model.pb").is_file()
    assert json.loads((run_dir / "config.json").read_text())["config"]["strategy"] == (
        "multiworker"
    )
    # The other worker's temp dir is gone.
    key_dir = runner.task_run_dir.__globals__["tempfile"].gettempdir()
    assert not list(Path(key_dir, "dltoolkit-workers").glob("*/worker-1/config.json"))


def test_task_info_from_tf_config():
    assert runner.task_info({}) == {
        "type": "worker",
        "index": 0,
        "workers": 1,
        "is_chief": True,
    }
    cluster = {"worker": ["h1:1", "h2:2"]}
    worker1 = {
        "TF_CONFIG": json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": 1}}
        )
    }
    assert runner.task_info(worker1) == {
        "type": "worker",
        "index": 1,
        "workers": 2,
        "is_chief": False,
    }
    with_chief = {"chief": ["c:1"], **cluster}
    env = {
        "TF_CONFIG": json.dumps(
            {"cluster": with_chief, "task": {"type": "worker", "index": 0}}
        )
    }
    assert runner.task_info(env)["is_chief"] is False
    assert runner.task_info(env)["workers"] == 3
    bad = {
        "TF_CONFIG": json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": 5}}
        )
    }
    with pytest.raises(ConfigError, match="TF_CONFIG must be JSON like"):
        runner.task_info(bad)
    with pytest.raises(ConfigError, match="IndexError"):
        runner.task_info(bad)
    with pytest.raises(ConfigError, match="TF_CONFIG must be JSON"):
        runner.task_info({"TF_CONFIG": "{not json"})


def test_non_chief_writes_its_own_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "get_strategy", lambda name: None)
    cluster = {"worker": ["h1:1", "h2:2"]}
    for index in (0, 1):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
        monkeypatch.delenv(runner.WORKER_DIR_ENV, raising=False)
        config = TrainConfig(strategy="multiworker")
        where, temporary = runner.task_run_dir(config, tmp_path / "run")
        if index == 0:
            assert (where, temporary) == (tmp_path / "run", False)
        else:
            assert where.name == "worker-1" and temporary
            assert where.parent.parent.name == "dltoolkit-workers"
            # The same run dir maps to the same worker dir: a restart resumes.
            assert runner.task_run_dir(config, tmp_path / "run")[0] == where
            monkeypatch.setenv(runner.WORKER_DIR_ENV, str(tmp_path / "w"))
            assert runner.task_run_dir(config, tmp_path / "run") == (
                tmp_path / "w" / "worker-1",
                False,
            )
    # Other strategies write the run dir itself.
    assert runner.task_run_dir(TrainConfig(), tmp_path / "run") == (
        tmp_path / "run",
        False,
    )


def test_unknown_strategy_lists_multiworker():
    with pytest.raises(ConfigError, match="default, mirrored, multiworker"):
        runner.get_strategy("tpu")


def test_launcher_stops_the_others_when_one_worker_fails():
    code = (
        "import json, os, sys, time\n"
        "i = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
        "print('worker', i, 'up', flush=True)\n"
        "sys.exit(3) if i == 1 else time.sleep(120)\n"
    )

    class Out:
        text = ""

        def write(self, s):
            Out.text += s

        def flush(self):
            pass

    start = time.perf_counter()
    assert launch.launch([sys.executable, "-c", code], 2, out=Out()) == 3
    assert time.perf_counter() - start < 60
    assert "[launch] worker 1 exited with code 3; stopping the others" in Out.text
    configs = [json.loads(c) for c in launch.tf_configs(2, [1001, 1002])]
    assert configs[1] == {
        "cluster": {"worker": ["127.0.0.1:1001", "127.0.0.1:1002"]},
        "task": {"type": "worker", "index": 1},
    }
    assert launch.launch([sys.executable, "-c", "pass"], 2, timeout=60) == 0


def test_launcher_needs_a_command(capsys):
    assert launch.main(["--workers", "2"]) == 2
    assert "No command to launch" in capsys.readouterr().err
