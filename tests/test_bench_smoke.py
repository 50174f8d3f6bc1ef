"""Every ``bench/*.py`` script runs as documented (``python bench/NAME.py``) with
``--smoke`` sizes and writes sane figures, with the machine's description, the
thread settings and the load, with ``--out``; ``bench/report.py`` renders them."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench_process(name, tmp_path, *args):
    """Runs ``bench/NAME.py --smoke --out TMP/NAME.json ARGS``; its process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [
            sys.executable,
            f"bench/{name}.py",
            "--smoke",
            "--out",
            str(tmp_path / f"{name}.json"),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )


def _bench(name, tmp_path, *args, benchmark=None):
    """Runs ``bench/NAME.py --smoke --out FILE ARGS``; returns (stdout, JSON).
    ``benchmark``: the name the JSON gives the run (default ``name``)."""
    out = tmp_path / f"{name}.json"
    done = _bench_process(name, tmp_path, *args)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    figures = json.loads(out.read_text())
    _check_description(name, figures, benchmark or name)
    assert _report().render(out).startswith(f"`{out.as_posix()}`")  # README tables
    return done.stdout, figures


def _report():
    """``bench/report.py`` as a module."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import report
    finally:
        sys.path.pop(0)
    return report


def test_report_renders_every_results_file_and_names_records(tmp_path):
    report = _report()
    record = tmp_path / "record.json"
    record.write_text(
        json.dumps(
            {
                "benchmark": "asr_vocabulary",
                "machine": {"cpu_model": "CPU X"},
                "date_utc": "2026-12-08T00:00:00Z",
                "runs": [],
            }
        )
    )
    line = report.render(record)
    assert line.startswith(f"`{record.as_posix()}`: a record of runs (not the")
    assert line.endswith("CPU X, 2026-12-08")
    # `bench/report.py` with no files renders every committed one.
    assert report.main([]) == 0


def _check_description(name, figures, benchmark=None):
    """What bench/_harness.py adds to every results file."""
    assert figures["benchmark"] == (benchmark or name) and figures["smoke"] is True
    machine = figures["machine"]
    assert machine["cpu_model"] and machine["usable_cpus"] >= 1
    assert machine["packages"]["numpy"] and machine["python"]
    threads = figures["thread_settings"]
    assert threads["threads"] >= 1
    assert threads["env"]["OMP_NUM_THREADS"] == str(threads["threads"])
    assert all(p["num_threads"] == threads["threads"] for p in threads["pools"])
    if "tensorflow" in threads:
        assert threads["tensorflow"] == {
            "intra_op": threads["threads"],
            "inter_op": threads["threads"],
        }
    load = figures["load"]
    assert load["one_minute_before"] >= 0 and load["cpus"] >= 1
    assert "T" in figures["date_utc"]
    # The command names no directory of this machine (--out is a tmp path).
    command = figures["command"]
    assert command.startswith(f"bench/{name}.py --smoke --out .../{name}.json")
    assert " /" not in command and "=/" not in command


def test_busy_machine_is_refused_unless_forced(tmp_path):
    """The load guard: with the core count below the load (faked by pinning
    the limit), a full run refuses with exit code 3 and writes nothing."""
    out = tmp_path / "bleu.json"
    env = {**os.environ, "DLTK_BENCH_MAX_LOAD": "-1"}
    args = [sys.executable, "bench/bleu.py", "--segments", "10", "--out", str(out)]
    done = subprocess.run(
        args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "refused" in done.stderr and not out.exists()
    done = subprocess.run(
        [*args, "--force"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "FORCED" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["load"]["forced"] is True and figures["smoke"] is False


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
    assert (figures["batch"], figures["states"], figures["frames"]) == (4, 20, 30)
    rows = {(r["implementation"], r["algorithm"]): r for r in figures["rows"]}
    tf_names = [f"tf_impl {m} float{b}" for m in ("graph", "XLA") for b in (64, 32)]
    ours = [
        ("dltoolkit.hmm.viterbi (default)", a) for a in ("viterbi", "viterbi, flat")
    ]
    ours += [("dltoolkit.hmm.forward (default)", "forward")]
    ours += [(name, a) for name in tf_names for a in ("viterbi", "forward")]
    for key in ours:
        row = rows[key]
        assert row["first"] > 0 and row["best"] > 0 and row["ratio"] > 0, key
        if key[1].startswith("viterbi"):
            assert row["agree"] == 1.0, key  # every path equals hmmlearn's
        tolerance = 1e-3 if key[0].endswith("32") else 1e-8
        assert 0 <= row["max_diff"] < tolerance, key
    # The NumPy Viterbi's log-probabilities equal hmmlearn's bit for bit or
    # within rounding of the same sums.
    assert rows["dltoolkit.hmm.viterbi (default)", "viterbi"]["max_diff"] < 1e-9
    assert figures["tensorflow"]["import_seconds"] > 0
    scale = figures["scale"]
    assert [row["frames"] for row in scale] == [30, 60]
    assert all(v > 0 for row in scale for k, v in row.items() if k != "frames")


def test_tsne_bench_runs_both_libraries(tmp_path):
    _, figures = _bench("tsne", tmp_path, "--sne")
    assert (figures["n_iter"], figures["perplexity"]) == (300, 10.0)
    assert set(figures["sizes"]) == {"150", "300"}
    small = figures["sizes"]["150"]
    rows = {row["implementation"]: row for row in small["rows"]}
    assert set(rows) == {
        "scikit-learn TSNE (default: barnes_hut)",
        "dltoolkit tsne (default: exact)",
        "dltoolkit tsne method=fft",
        "scikit-learn TSNE exact",
        "dltoolkit tsne exact (NumPy)",
        "dltoolkit tsne exact (TensorFlow)",
        "dltoolkit sne (exact)",
    }
    for name, row in rows.items():
        assert math.isfinite(row["kl"]) and row["kl"] > 0, name
        assert row["first"] > 0 and row["best"] > 0, name
        # Random 2-D points score about 0.5; measured 0.74-0.99 here.
        assert row["trustworthiness"] > 0.65, name
    assert rows["dltoolkit tsne exact (TensorFlow)"]["tensorflow_import"] > 0
    # Every t-SNE (ours exact or FFT, scikit-learn's) lands close in trust.
    sklearn = rows["scikit-learn TSNE exact"]["trustworthiness"]
    for name, row in rows.items():
        if "sne (exact)" not in name:
            assert abs(row["trustworthiness"] - sklearn) < 0.1, name
    for size in figures["sizes"].values():
        assert size["ratio_first"] > 0 and size["ratio_best"] > 0
        assert abs(size["dtrust"]) < 0.1
    assert [row["points"] for row in figures["scale"]] == [150, 300]
    assert all(row["dltoolkit"] > 0 for row in figures["scale"])


def test_throughput_bench_times_both_paths(tmp_path):
    stdout, figures = _bench("throughput", tmp_path)
    assert figures["profile"] == "smoke" and figures["device"] in ("CPU", "GPU")
    result = figures["results"]["classify"]
    assert result["errors"] == {}
    assert set(result["steps_per_s"]) == {"float32", "mixed+xla"}
    assert all(rate > 0 for rate in result["steps_per_s"].values())
    assert "| classify | 64 |" in stdout  # the table


def test_asr_bench_scores_the_three_contenders(tmp_path):
    stdout, figures = _bench("asr", tmp_path)
    assert figures["profile"] == "smoke" and figures["split"]["name"] == "index"
    split = figures["split"]
    assert (split["train"], split["val"], split["test"]) == (80, 40, 40)
    rows = figures["rows"]
    assert set(rows) == {"dltoolkit smoke", "hmmlearn GMM-HMM", "Keras CNN"}
    peers = {k: v for k, v in rows.items() if k != "dltoolkit smoke"}
    best = max(r["accuracy"] for r in peers.values())
    assert figures["best_peer_accuracy"] == best
    assert rows[figures["best_peer"]]["accuracy"] == best
    for name, row in rows.items():
        assert 0.0 <= row["accuracy"] <= 1.0, name
        assert row["seconds"] > 0 and row["test_seconds"] > 0, name
        assert row["ratio_to_best_peer"] == pytest.approx(row["accuracy"] / best)
        assert f"| {name} | {row['accuracy']:.4f} |" in stdout
    ours = rows["dltoolkit smoke"]
    # The export scores the test split as the app did in process.
    assert ours["accuracy"] == pytest.approx(ours["app_accuracy"], abs=1e-4)
    ratios = figures["ours_over_best_peer"]
    assert ratios["accuracy"] == pytest.approx(ours["accuracy"] / best)
    best_seconds = rows[figures["best_peer"]]["seconds"]
    assert ratios["seconds"] == pytest.approx(ours["seconds"] / best_seconds)
    # Each digit's tones are apart in pitch: the per-digit HMMs find them.
    assert rows["hmmlearn GMM-HMM"]["accuracy"] >= 0.9
    assert rows["Keras CNN"]["epochs_run"] == 2


def test_asr_bench_trains_on_the_synthetic_corpus_and_tests_on_recordings(tmp_path):
    sizes = ["train_size=30", "val_size=6", "test_size=4", "isolated_fraction=1"]
    sizes.append("epochs=2")  # the path, not the accuracy
    stdout, figures = _bench(
        "asr",
        tmp_path,
        "--train-on",
        "embedded",
        *[f"--set={o}" for o in sizes],
        benchmark="asr_transfer",
    )
    assert figures["train_on"] == "embedded" and figures["profile"] == "smoke"
    split = figures["split"]
    # Every recording of the smoke folder (2 speakers x 10 digits x 8) is test.
    assert split["test"] == 160 and split["speakers"] == ["ann", "ben"]
    assert split["ours_train"] == 30 and 0 < split["train"] <= 30
    rows = figures["rows"]
    assert set(rows) == {"dltoolkit smoke", "hmmlearn GMM-HMM", "Keras CNN"}
    for name, row in rows.items():
        assert set(row["speaker_accuracy"]) == {"ann", "ben"}, name
        mean = sum(row["speaker_accuracy"].values()) / 2  # 80 recordings each
        assert row["accuracy"] == pytest.approx(mean), name
        assert f"| {name} | {row['accuracy']:.4f} |" in stdout
    done = _bench_process("asr", tmp_path, "--train-on", "embedded", "--split", "x")
    assert done.returncode == 2 and "--split is for --train-on recordings" in (
        done.stderr
    )


def test_asr_bench_adds_the_synthetic_corpus_to_the_recordings(tmp_path, monkeypatch):
    sizes = ["train_size=30", "val_size=6", "test_size=4", "isolated_fraction=0.5"]
    stdout, figures = _bench(
        "asr",
        tmp_path,
        "--split",
        "speaker:ann",
        "--with-embedded",
        *[f"--set={o}" for o in [*sizes, "epochs=2"]],
        benchmark="asr_speaker_ann_embedded",
    )
    assert figures["train_on"] == "recordings + embedded"
    split = figures["split"]
    # Ours trains on both sources: ben's 60 training recordings (6 of his 8
    # per digit; 5 and 6 validate) and the 30 synthetic utterances; the test
    # is ann's 80 alone, not the synthetic corpus's 4.
    assert split["held_out"] == ["ann"] and split["test"] == 80
    assert split["train"] == 60 + 30 and split["val"] == 20 + 6
    # The peers: ben's recordings and the synthetic single digits he says;
    # not the strings of digits, nor "oh" (smoke keeps it; he never says it).
    from dltoolkit.apps.asr.app import APP
    from dltoolkit.data.spoken_digits import DIGIT_WORDS

    monkeypatch.setenv("DLTOOLKIT_CACHE", str(tmp_path / "cache"))
    synthetic = APP.load_data(APP.resolve("smoke", sizes)).corpus.train
    singles = [u for u in synthetic if u.text in DIGIT_WORDS and u.text != "oh"]
    assert 0 < len(singles) < len(synthetic)
    assert split["peers_train"] == 60 + len(singles)
    assert figures["digits"] == [w for w in DIGIT_WORDS if w != "oh"]
    assert 'this profile keeps "oh" in the synthetic corpus' in stdout
    for name, row in figures["rows"].items():
        assert set(row["speaker_accuracy"]) == {"ann"}, name
        assert row["accuracy"] == row["speaker_accuracy"]["ann"], name
    done = _bench_process("asr", tmp_path, "--train-on", "embedded", "--with-embedded")
    assert done.returncode == 2 and "--train-on embedded trains on it alone" in (
        done.stderr
    )
    done = _bench_process("asr", tmp_path, "--with-embedded", "--set=data=x")
    assert done.returncode == 2
    assert "--with-embedded sets data (embedded,PATH)" in done.stderr
    assert "drop --set data=x" in done.stderr


def test_asr_bench_holds_out_each_speaker_in_turn(tmp_path):
    stdout, figures = _bench(
        "asr",
        tmp_path,
        "--split",
        "each-speaker",
        "--set=epochs=2",  # reaches each speaker's run (and shortens it)
        benchmark="asr_each_speaker",
    )
    assert figures["split"] == {"name": "each-speaker", "speakers": ["ann", "ben"]}
    rows, per = figures["rows"], figures["per_speaker"]
    assert figures["ours"] == "dltoolkit smoke"
    assert set(rows) == {"dltoolkit smoke", "hmmlearn GMM-HMM", "Keras CNN"}
    for speaker in ("ann", "ben"):  # each run held out that speaker alone
        assert per[speaker]["split"]["held_out"] == [speaker]
        assert per[speaker]["overrides"] == ["epochs=2"]
        assert per[speaker]["profile"] == "smoke"
        assert per[speaker]["split"]["test"] == 80  # all of his: 10 digits x 8
    for name, row in rows.items():
        each = {s: per[s]["rows"][name]["accuracy"] for s in ("ann", "ben")}
        assert row["speaker_accuracy"] == each, name
        assert row["mean_accuracy"] == pytest.approx(sum(each.values()) / 2)
        assert row["seconds"] == pytest.approx(
            sum(per[s]["rows"][name]["seconds"] for s in ("ann", "ben"))
        )
    best = max(
        ("hmmlearn GMM-HMM", "Keras CNN"), key=lambda n: rows[n]["mean_accuracy"]
    )
    assert figures["best_peer"] == best
    assert figures["ours_over_best_peer_mean_accuracy"] == pytest.approx(
        rows["dltoolkit smoke"]["mean_accuracy"] / rows[best]["mean_accuracy"]
    )
    table = stdout.split("| held out |")[-1]
    for speaker in ("ann", "ben", "mean"):
        key = "mean_accuracy" if speaker == "mean" else None
        cells = " | ".join(
            f"{(r[key] if key else r['speaker_accuracy'][speaker]):.4f}"
            for r in rows.values()
        )
        assert f"| {speaker} | {cells} |" in table
    leads = figures["ours_leads_on"]
    assert f"ours leads every peer on {len(leads)} of 2 speakers" in stdout
    done = _bench_process("asr", tmp_path, "--split", "each-speaker", "--set=split=x")
    assert done.returncode == 2
    assert "sets data and split for each speaker's run; drop --set split=x" in (
        done.stderr
    )


def test_captioning_bench_scores_ours_the_example_and_the_floor(tmp_path):
    stdout, figures = _bench("captioning", tmp_path)
    assert figures["profile"] == "smoke" and figures["ours"] == "dltoolkit smoke"
    assert figures["split"]["test"] == 4
    rows = figures["rows"]
    assert set(rows) == {"dltoolkit smoke", "Keras example", "constant caption"}
    for name, row in rows.items():
        assert 0.0 <= row["bleu4"] <= row["bleu1"] <= 100.0, name
        assert f"| {name} | {row['bleu1']:.1f} |" in stdout
    # The budget is ours' training seconds; the example stops at its epochs or
    # at the first batch past the budget.
    assert figures["budget_seconds"] == rows["dltoolkit smoke"]["seconds"]
    assert 1 <= rows["Keras example"]["epochs_run"] <= 2
    assert rows["Keras example"]["training_images"] == figures["split"]["train"]
    # Five templates name the color and shape: the best one, given for every
    # image, still scores (the floor is a real caption of the training set).
    assert rows["constant caption"]["bleu4"] > 10
    peer = rows["Keras example"]["bleu4"]
    if peer > 0:
        assert figures["bleu4_ratio_to_example"] == pytest.approx(
            rows["dltoolkit smoke"]["bleu4"] / peer
        )
    else:
        assert figures["bleu4_ratio_to_example"] is None


def test_translation_bench_scores_ours_and_both_keras_recipes(tmp_path):
    # Ours and the Keras recipe first; then --add-to keeps those rows and
    # trains the KerasHub recipe beside them, on the same split and budget.
    _, first = _bench("translation", tmp_path, "--peers", "keras")
    assert set(first["rows"]) == {"dltoolkit smoke", "Keras seq2seq Transformer"}
    earlier = tmp_path / "first.json"
    earlier.write_text(json.dumps(first))
    # Keras again (retrained, not kept) and KerasHub beside ours' kept row.
    stdout, figures = _bench(
        "translation",
        tmp_path,
        "--add-to",
        str(earlier),
        "--peers",
        "keras,kerashub",
    )
    assert figures["profile"] == "smoke"
    rows = figures["rows"]
    assert set(rows) == {
        "dltoolkit smoke",
        "Keras seq2seq Transformer",
        "KerasHub seq2seq",
    }
    assert rows["dltoolkit smoke"] == first["rows"]["dltoolkit smoke"]
    assert figures["samples"]["dltoolkit smoke"] == first["samples"]["dltoolkit smoke"]
    keras = "Keras seq2seq Transformer"
    assert rows[keras]["seconds"] != first["rows"][keras]["seconds"]  # retrained
    assert figures["kept_from_earlier"]["rows"] == ["dltoolkit smoke"]
    assert figures["kept_from_earlier"]["date_utc"] == first["date_utc"]
    assert figures["kept_from_earlier"]["same_machine"] is True
    table = _report().render(tmp_path / "translation.json")
    assert "Kept from an earlier run: dltoolkit smoke: " in table
    assert "ANOTHER CPU" not in table
    for name, row in rows.items():
        assert 0.0 <= row["bleu"] <= 100.0 and 0.0 <= row["chrf"] <= 100.0, name
        assert row["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
        assert f"| {name} | {row['bleu']:.2f} |" in stdout
    # Both peers train for ours' seconds (at most the smoke cap): they stop at
    # the first batch past the budget, having taken at least one step.
    budget = figures["budget_seconds"]
    assert (
        budget
        == first["budget_seconds"]
        == pytest.approx(min(rows["dltoolkit smoke"]["seconds"], 4.0), abs=0.1)
    )
    for name in ("Keras seq2seq Transformer", "KerasHub seq2seq"):
        assert rows[name]["steps"] >= 1
        assert budget <= rows[name]["seconds"] < budget + 30, name
    best = max(rows[n]["bleu"] for n in rows if n != "dltoolkit smoke")
    expected = rows["dltoolkit smoke"]["bleu"] / best if best else None
    assert figures["ours_over_best_peer_bleu"] == pytest.approx(expected, abs=1e-3)
    assert len(figures["samples"]["reference"]) == len(figures["samples"]["source"])


def test_translation_bench_add_to_refuses_another_split(tmp_path):
    earlier = tmp_path / "earlier.json"
    earlier.write_text(
        json.dumps(
            {
                "rows": {},
                "samples": {},
                "profile": "smoke",
                "smoke": True,
                "overrides": [],
                "budget_seconds": 4.0,
                "split": {"train": 1, "val": 1, "test": 1, "seed": 0},
            }
        )
    )
    done = _bench_process("translation", tmp_path, "--add-to", str(earlier))
    assert done.returncode == 2
    assert "measured on another split" in done.stderr
    assert not (tmp_path / "translation.json").exists()


def test_recorded_command_lines_name_no_directory():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import _harness
    finally:
        sys.path.pop(0)
    argv = ["/tmp/snap/x/bench/translation.py", "--data", "/a/b/spa.txt"]
    argv += ["--set", "data=/x/y.txt", "--out", "../elsewhere/t.json"]
    argv += ["--add-to=/tmp/r.json", "--set", "vocab=~/v.txt", "--set", "epochs=3"]
    argv += ["--peers", "keras", "--out", "bench/results/t.json"]
    assert _harness._shown(argv) == [
        "bench/translation.py",
        "--data",
        "DATA/spa.txt",
        "--set",
        "data=DATA/y.txt",
        "--out",
        ".../t.json",
        "--add-to=.../r.json",
        "--set",
        "vocab=.../v.txt",
        "--set",
        "epochs=3",
        "--peers",
        "keras",
        "--out",
        "bench/results/t.json",
    ]
