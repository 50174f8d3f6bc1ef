"""Distributed tuning: a chief and two workers on loopback, a killed worker,
a worker that cannot reach its chief."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dltoolkit.tuning import distributed
from dltoolkit.tuning.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log(directory):
    path = directory / "trial_log.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:  # pragma: no cover - written atomically
        return {}


def _kill_group(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# Three TensorFlow processes: about 35 s on an idle 2-core machine.
@pytest.mark.slow
def test_chief_and_two_workers_split_trials_and_survive_a_killed_worker(tmp_path):
    directory = tmp_path / "search"
    cmd = [
        sys.executable, "-m", "tuning", "classify", "--profile", "smoke",
        "--max-trials", "6", "--workers", "2", "--dir", str(directory),
        "--set", "epochs=2",
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for key in (distributed.ENV_ID, distributed.ENV_IP, distributed.ENV_PORT):
        env.pop(key, None)
    out = open(tmp_path / "chief.log", "w+")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    killed_trial = None
    try:
        # Kill worker1 in the middle of its second trial.
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            mine = [e for e in _log(directory).values() if e["worker"] == "worker1"]
            finished = [e for e in mine if e.get("seconds")]
            running = [
                tid
                for tid, e in _log(directory).items()
                if e["worker"] == "worker1" and not e.get("seconds")
            ]
            if finished and running:
                pid = int((directory / "workers" / "worker1.pid").read_text())
                os.kill(pid, signal.SIGKILL)
                killed_trial = running[0]
                break
            time.sleep(0.05)
        assert killed_trial is not None, "worker1 never started a second trial"
        assert proc.wait(timeout=240) == 0
    finally:
        _kill_group(proc)
        out.seek(0)
        chief_output = out.read()
        out.close()
    assert f"worker1 exited with code -9; trial {killed_trial} goes back" in (
        chief_output
    ), chief_output[-3000:]
    with open(directory / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    # All six trials ran to the end and are merged in one table.
    assert [r["trial"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert {r["status"] for r in rows} == {"COMPLETED"}
    workers = [r["worker"] for r in rows]
    assert set(workers) == {"worker0", "worker1"}
    # The killed trial was run again, by the surviving worker.
    log = _log(directory)
    assert log[killed_trial]["lost_by"] == ["worker1"]
    assert log[killed_trial]["worker"] == "worker0"
    summary = json.loads((directory / "best_hyperparameters.json").read_text())
    assert summary["completed_trials"] == 6 and summary["workers"] == 2
    assert sum(summary["trials_by_worker"].values()) == 6
    assert summary["best_score"] == pytest.approx(max(float(r["score"]) for r in rows))
    report = (directory / "report.md").read_text()
    assert "run by 2 workers" in report
    assert report.count("| COMPLETED |") == 6
    assert (directory / "best" / "export" / "saved_model.pb").is_file()
    # The progress line after each trial, with a time estimate.
    assert "[tuning] trial 6/6 done" in chief_output
    assert "left (" in chief_output
    # The chief's saved state has no trial left running: resuming the search
    # in one process (same settings) runs nothing again.
    oracle = json.loads((directory / "search" / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {} and oracle["retry_queue"] == []
    trial_files = sorted((directory / "search").glob("trial_*/trial.json"))
    mtimes = [p.stat().st_mtime_ns for p in trial_files]
    argv = cmd[cmd.index("classify") :]
    cut = argv.index("--workers")
    assert main(argv[:cut] + argv[cut + 2 :]) == 0
    assert [p.stat().st_mtime_ns for p in trial_files] == mtimes
    # Both workers asked the chief over gRPC: their logs end when it stopped.
    assert (
        "worker0: no trials left" in (directory / "workers" / "worker0.log").read_text()
    )


def test_worker_that_cannot_reach_the_chief_fails_after_a_bounded_wait(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv(distributed.ENV_ID, "worker0")
    monkeypatch.setenv(distributed.ENV_IP, "127.0.0.1")
    monkeypatch.setenv(distributed.ENV_PORT, str(_free_port()))
    start = time.perf_counter()
    argv = ["classify", "--profile", "smoke", "--dir", str(tmp_path)]
    assert main([*argv, "--connect-timeout", "1.5"]) == 2
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Cannot reach the tuning chief at 127.0.0.1:")
    assert "after 1.5 s" in err and len(err.splitlines()) == 1
    assert elapsed < 30
    assert not any(tmp_path.iterdir())  # a worker writes nothing of its own


def test_distributed_environment_errors(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(distributed.ENV_IP, "127.0.0.1")
    monkeypatch.delenv(distributed.ENV_ID, raising=False)
    monkeypatch.delenv(distributed.ENV_PORT, raising=False)
    assert main(["classify", "--profile", "smoke", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "KERASTUNER_ORACLE_PORT and KERASTUNER_TUNER_ID are not" in err
    monkeypatch.setenv(distributed.ENV_ID, "chief")
    monkeypatch.setenv(distributed.ENV_PORT, "1")
    assert main(["classify", "--workers", "2", "--dir", str(tmp_path)]) == 2
    assert "--workers starts its own chief" in capsys.readouterr().err


def test_role_from_env():
    assert distributed.role_from_env({}) is None
    env = {"KERASTUNER_ORACLE_IP": "10.0.0.1", "KERASTUNER_ORACLE_PORT": "8000"}
    assert distributed.role_from_env({**env, "KERASTUNER_TUNER_ID": "chief"}) == (
        "chief"
    )
    assert distributed.role_from_env({**env, "KERASTUNER_TUNER_ID": "w3"}) == "worker"
    assert distributed.oracle_address(env) == "10.0.0.1:8000"


def test_trial_of_a_silent_worker_goes_back_to_the_queue(tmp_path):
    import keras_tuner as kt

    from dltoolkit.tuning.report import TrialLog

    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("score", "max"), max_trials=3, seed=0
    )
    oracle._set_project_dir(str(tmp_path), "search")
    oracle.hyperparameters.Int("units", 1, 100)
    now = [1000.0]
    log = TrialLog(tmp_path, clock=lambda: now[0])
    trial = oracle.create_trial("worker1")
    log.begin(trial.trial_id, "worker1")
    now[0] += 30
    distributed._expire(oracle, log, timeout=60)  # not yet
    assert oracle.ongoing_trials["worker1"].trial_id == trial.trial_id
    now[0] += 31
    distributed._expire(oracle, log, timeout=60)
    assert "worker1" not in oracle.ongoing_trials
    assert log.entries[trial.trial_id]["lost_by"] == ["worker1"]
    # Another worker gets the same trial, with the same hyperparameters.
    again = oracle.create_trial("worker2")
    assert again.trial_id == trial.trial_id
    assert again.hyperparameters.values == trial.hyperparameters.values
    saved = json.loads((tmp_path / "search" / "oracle.json").read_text())
    assert saved["ongoing_trials"] == {"worker2": trial.trial_id}
