"""``bench/sentiment.py --smoke``: every contender runs on the tiny aclImdb
folder the script writes, and the JSON holds what the table prints."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTENDERS = {
    "dltoolkit real",
    "bag-of-words LR",
    "uni+bigram LR",
    "NB-LR",
    "Keras BiLSTM",
    "Keras Transformer",
}


def test_sentiment_bench_smoke(tmp_path):
    out = tmp_path / "sentiment.json"
    done = subprocess.run(
        [sys.executable, "bench/sentiment.py", "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    figures = json.loads(out.read_text())
    assert figures["smoke"] and figures["profile"] == "real"
    assert figures["split"]["test"] == 12  # 10% of the 120 reviews
    rows = figures["rows"]
    assert set(rows) == CONTENDERS
    best = max(r["accuracy"] for name, r in rows.items() if name != "dltoolkit real")
    assert figures["best_peer_accuracy"] == best
    for name, row in rows.items():
        assert 0.0 <= row["accuracy"] <= 1.0, name
        assert row["seconds"] > 0, name
        assert row["ratio_to_best_peer"] == pytest.approx(row["accuracy"] / best)
        assert f"| {name} | {row['accuracy']:.4f} |" in done.stdout
    # The app's own figure and the export's agree: the same model, the same
    # test reviews, once in process and once through the SavedModel.
    ours = rows["dltoolkit real"]
    assert ours["accuracy"] == pytest.approx(ours["app_accuracy"])
    for name in ("Keras BiLSTM", "Keras Transformer"):
        assert rows[name]["epochs_run"] in (1, 2)
    # Polar words decide the toy reviews: the linear models read them.
    assert rows["NB-LR"]["accuracy"] >= 0.75
    assert figures["thread_settings"]["threads"] == 1
