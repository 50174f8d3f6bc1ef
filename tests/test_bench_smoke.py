"""Every ``bench/*.py`` script runs as documented (``python bench/NAME.py``) with
``--smoke`` sizes and writes sane figures with ``--out``."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench(name, tmp_path, *args):
    """Runs ``bench/NAME.py --smoke --out FILE ARGS``; returns (stdout, JSON)."""
    out = tmp_path / f"{name}.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, f"bench/{name}.py", "--smoke", "--out", str(out), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout, json.loads(out.read_text())


def test_bleu_bench_equals_sacrebleu(tmp_path):
    stdout, figures = _bench("bleu", tmp_path)
    assert "scores identical" in stdout
    assert (figures["segments"], figures["refs"]) == (300, 2)
    assert figures["score"] == figures["sacrebleu_score"]
    # References are the hypotheses with ~20% of words edited: high, not 100.
    assert 50 < figures["score"] < 95
    assert figures["our_seconds"] > 0 and figures["sacrebleu_seconds"] > 0
    assert figures["ratio"] == pytest.approx(
        figures["sacrebleu_seconds"] / figures["our_seconds"]
    )


def test_hmm_bench_agrees_with_hmmlearn(tmp_path):
    _, figures = _bench("hmm", tmp_path)
    rows = {(r["implementation"], r["algorithm"]): r for r in figures["rows"]}
    ours = ["tf graph", "tf XLA"]
    names = [f"{n} float{b}" for n in ours for b in (64, 32)] + ["numpy float64"]
    assert set(rows) == {
        (name, algorithm)
        for name in ["hmmlearn, one by one", *names]
        for algorithm in ("viterbi", "forward")
    }
    for name in names:
        viterbi, forward = rows[name, "viterbi"], rows[name, "forward"]
        assert viterbi["agree"] == 1.0, name  # every path equals hmmlearn's
        tolerance = 1e-8 if name.endswith("64") else 1e-3
        assert 0 <= forward["agree"] < tolerance, name  # max |log-likelihood diff|
        for row in (viterbi, forward):
            assert row["seconds"] > 0 and row["ratio"] > 0
            assert (row["first"] is not None) == name.startswith("tf"), name


def test_tsne_bench_runs_both_libraries(tmp_path):
    _, figures = _bench("tsne", tmp_path, "--sne")
    assert (figures["points"], figures["n_iter"]) == (150, 300)
    rows = figures["rows"]
    assert set(rows) == {
        "scikit-learn exact",
        "scikit-learn barnes_hut",
        "dltoolkit tsne numpy",
        "dltoolkit tsne tensorflow",
        "dltoolkit sne",
    }
    for name, row in rows.items():
        assert math.isfinite(row["kl"]) and row["kl"] > 0, name
        assert row["seconds"] > 0, name
        # Random 2-D points score about 0.5; measured 0.986-0.994 here.
        assert row["trustworthiness"] > 0.9, name
    assert rows["dltoolkit tsne tensorflow"]["first"] > 0
    # Ours and scikit-learn's exact t-SNE minimize the same KL divergence to
    # about the same value (measured 0.317-0.319 against 0.331) and embed as
    # faithfully (trustworthiness within 0.003); plain SNE's KL is far larger.
    sklearn = rows["scikit-learn exact"]
    for backend in ("numpy", "tensorflow"):
        row = rows[f"dltoolkit tsne {backend}"]
        assert row["kl"] == pytest.approx(sklearn["kl"], rel=0.15), backend
        assert abs(row["trustworthiness"] - sklearn["trustworthiness"]) < 0.02
    assert rows["dltoolkit sne"]["kl"] > 10 * sklearn["kl"]


def test_throughput_bench_times_both_paths(tmp_path):
    stdout, figures = _bench("throughput", tmp_path)
    assert figures["profile"] == "smoke" and figures["device"] in ("CPU", "GPU")
    result = figures["results"]["classify"]
    assert result["errors"] == {}
    assert set(result["steps_per_s"]) == {"float32", "mixed+xla"}
    assert all(rate > 0 for rate in result["steps_per_s"].values())
    assert "| classify | 64 |" in stdout  # the table
