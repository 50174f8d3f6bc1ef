"""``make demo`` (``python -m apps.demo``), the README's first command, on a
smoke profile: one app and a one-trial tuning job."""

import json
import re

from dltoolkit.apps.demo import main


def test_demo_smoke_writes_the_report(tmp_path, capsys):
    argv = ["--profile", "smoke", "--apps", "classify", "--tuning-trials", "1"]
    assert main([*argv, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# dltoolkit demo (smoke profile)")
    assert f"report: {tmp_path / 'report.md'}" in out
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert rows[0].split("|")[1].strip() == "job" and len(rows) == 3
    # The app's row quotes its run's headline metric, which learned something.
    metrics = json.loads((tmp_path / "classify" / "metrics.json").read_text())
    assert metrics["profile"] == "smoke"
    assert f"accuracy = {metrics['accuracy']:.4f}" in rows[1]
    assert metrics["accuracy"] > 0.5  # 10 classes: chance 0.1; measured 0.83
    assert (tmp_path / "classify" / "export" / "saved_model.pb").is_file()
    assert "[report](classify/report.md)" in rows[1]
    # The tuning job's row: one completed trial, its score and retrained run.
    assert rows[2].startswith("| tuning classify (1 trials)")
    score = float(re.search(r"best val_accuracy = ([0-9.]+)", rows[2]).group(1))
    assert score > 0.3  # chance 0.1; measured 0.88 (a random trial: a margin)
    assert (tmp_path / "tuning" / "classify" / "report.md").is_file()


def test_demo_unknown_app_is_one_line(tmp_path, capsys):
    argv = ["--profile", "smoke", "--apps", "nope", "--dir", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Unknown app(s): nope.")
    assert not (tmp_path / "report.md").exists()
