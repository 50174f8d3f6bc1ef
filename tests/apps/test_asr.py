"""The ASR app: smoke train, metrics against jiwer, export parity, bad input."""

import csv
import dataclasses
import json
import os
import textwrap

import jiwer
import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf
from app_helpers import run_fresh_process
from scipy.io import wavfile

from dltoolkit.apps.asr.app import APP
from dltoolkit.audio import write_wav
from dltoolkit.errors import ConfigError
from dltoolkit.training.app import main
from dltoolkit.training.runner import (
    load_trained_model,
    precision_policy,
    read_history,
)
from dltoolkit.tuning.spaces import search_space


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("asr_cache")
    previous = os.environ.get("DLTOOLKIT_CACHE")
    os.environ["DLTOOLKIT_CACHE"] = str(cache)
    run_dir = tmp_path_factory.mktemp("asr_run")
    # Eight epochs (~4 s more than the profile's two, whose hybrid stays at the
    # untrained WER of 1.0): measured wer 0.324, wer_gmm 0.297 (seed 1: 0.214,
    # 0.429).
    config = APP.resolve("smoke", ["epochs=8"])
    metrics = APP.train(config, run_dir, profile="smoke", verbose=0)
    data = APP.load_data(config)
    APP.run_prepare(config, data, run_dir)  # the run's GMM-HMM stage, reused
    yield run_dir, config, metrics, data
    if previous is None:
        os.environ.pop("DLTOOLKIT_CACHE", None)
    else:
        os.environ["DLTOOLKIT_CACHE"] = previous


def _rows(run_dir):
    with open(run_dir / "test_transcripts.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _serve(run_dir):
    return tf.saved_model.load(str(run_dir / "export")).signatures["serving_default"]


def _check_scores_and_export(rec, features, posteriors, st, run_dir, data):
    """The recognizer's frame scores are log-posteriors minus log-priors, and
    the export's transcripts equal the recognizer's."""
    np.testing.assert_allclose(
        rec.scores(tf.constant(features)).numpy(),
        np.log(posteriors + 1e-8) - st.log_priors,
        rtol=1e-4,
        atol=1e-4,
    )
    serve = _serve(run_dir)
    for u in data.corpus.test[:3]:
        wave = tf.constant(u.samples)
        assert (
            serve(waveform=wave)["transcript"].numpy()
            == rec.recognize(wave)["transcript"].numpy()
        )


def test_train_writes_the_contract_files(run):
    run_dir, _, metrics, data = run
    for name in (
        "metrics.json",
        "report.md",
        "history.csv",
        "model.keras",
        "gmm_hmm.npz",
        "alignment.png",
        "test_transcripts.tsv",
        "export/saved_model.pb",
    ):
        assert (run_dir / name).exists(), name
    saved = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "wer",
        "ser",
        "isolated_accuracy",
        "wer_gmm",
        "wer_hybrid",
        "train_seconds",
    ):
        assert isinstance(saved[key], (int, float)), key
    assert saved["profile"] == "smoke" and saved["wer"] == saved["wer_hybrid"]
    # Both stages learned: an untrained network, or an empty transcript, has
    # WER 1.0.
    assert saved["wer"] < 0.6 and saved["wer_gmm"] < 0.7
    assert saved["train_seconds"] >= saved["gmm_seconds"] > 0
    assert "val_wer" in (run_dir / "history.csv").read_text().splitlines()[0]
    report = (run_dir / "report.md").read_text()
    for section in (
        "## Results by voice",
        "## Results by voice variant",
        "## Bad input",
        "](alignment.png)",
    ):
        assert section in report
    assert (run_dir / "alignment.png").read_bytes()[:4] == b"\x89PNG"
    assert len(_rows(run_dir)) == saved["test_utterances"] == len(data.corpus.test)


def test_metrics_equal_jiwer_and_their_definitions(run):
    run_dir, _, metrics, _ = run
    rows = _rows(run_dir)
    refs = [r["reference"] for r in rows]
    for column, key in (("hybrid", "wer"), ("gmm", "wer_gmm")):
        hyps = [r[column] for r in rows]
        assert metrics[key] == round(jiwer.wer(refs, hyps), 4)
    hyps = [r["hybrid"] for r in rows]
    assert metrics["ser"] == round(np.mean([h != r for r, h in zip(refs, hyps)]), 4)
    isolated = [h == r for r, h in zip(refs, hyps) if len(r.split()) == 1]
    assert metrics["isolated_accuracy"] == round(float(np.mean(isolated)), 4)


def test_export_in_fresh_process_equals_in_process(run, tmp_path):
    """Loaded without dltoolkit, the export transcribes as the app does."""
    run_dir, config, _, data = run
    waves = [u.samples for u in data.corpus.test[:4]]
    waves += [np.zeros(0, np.float32), np.zeros(8000, np.float32)]
    np.savez(tmp_path / "waves.npz", *waves)
    script = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load({str(run_dir / "export")!r}).signatures[
            "serving_default"]
        waves = np.load("waves.npz")
        out = [serve(waveform=tf.constant(waves[f"arr_{{i}}"]))["transcript"]
               .numpy().decode() for i in range(len(waves.files))]
        assert "dltoolkit" not in sys.modules
        json.dump(out, open("out.json", "w"))
        """
    )
    run_fresh_process(script, tmp_path)
    out = json.loads((tmp_path / "out.json").read_text())
    rec = APP.recognizer(load_trained_model(run_dir), config, data)
    expected = [
        rec.recognize(tf.constant(w))["transcript"].numpy().decode() for w in waves
    ]
    assert out == expected
    rows = _rows(run_dir)
    assert out[:4] == [r["hybrid"] for r in rows[:4]]  # the evaluation's output


def test_empty_and_silent_audio_have_defined_output(run):
    run_dir, *_ = run
    serve = _serve(run_dir)
    for wave in (
        np.zeros(0, np.float32),
        np.zeros(3, np.float32),
        np.zeros(16000, np.float32),
    ):
        out = serve(waveform=tf.constant(wave))
        assert out["transcript"].dtype == tf.string
        assert out["words"].shape[0] == len(out["transcript"].numpy().split())
        assert np.isfinite(out["score"].numpy())
        assert out["transcript"].numpy() == b"" and out["words"].shape == (0,)
    faint = np.random.default_rng(0).normal(0, 1e-4, 16000).astype(np.float32)
    assert serve(waveform=tf.constant(faint))["transcript"].numpy() == b""


def test_predict_reads_stereo_resampled_clipped_and_lying_wavs(run, tmp_path, capsys):
    run_dir, _, _, data = run
    speech = data.corpus.test[0].samples
    write_wav(tmp_path / "plain.wav", speech)
    pcm = (np.stack([speech, speech], 1) * 32767).astype(np.int16)
    wavfile.write(tmp_path / "stereo.wav", 16000, pcm)
    write_wav(tmp_path / "rate8k.wav", speech[::2], rate=8000)
    write_wav(tmp_path / "clipped.wav", np.clip(speech * 20, -1, 1))
    raw = bytearray((tmp_path / "plain.wav").read_bytes())
    at = raw.find(b"data")
    raw[at + 4 : at + 8] = (10**8).to_bytes(4, "little")
    (tmp_path / "lying.wav").write_bytes(bytes(raw))
    names = ["plain", "stereo", "rate8k", "clipped", "lying"]
    lines = APP.predict(run_dir, [str(tmp_path / f"{n}.wav") for n in names])
    fields = {n: line.split("\t") for n, line in zip(names, lines)}
    assert len(fields["plain"]) == 2  # no notes on a clean 16 kHz mono file
    assert fields["stereo"][1] == fields["plain"][1]  # two equal channels
    assert fields["lying"][1] == fields["plain"][1]
    assert "2 channels averaged to mono" in fields["stereo"][2]
    assert "resampled from 8000 Hz to 16000 Hz" in fields["rate8k"][2]
    assert "of samples clipped" in fields["clipped"][2]
    assert "header claims more data" in fields["lying"][2]
    wavfile.write(tmp_path / "empty.wav", 16000, np.zeros(0, np.int16))
    code = main(
        APP, ["predict", "--run-dir", str(run_dir), str(tmp_path / "empty.wav")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "holds no audio samples" in err[0]


def test_second_train_resumes_without_retraining(run):
    run_dir, config, metrics, _ = run
    before = (run_dir / "model.keras").stat().st_mtime
    again = APP.train(config, run_dir, profile="smoke", verbose=0)
    assert again["epochs"] == metrics["epochs"]
    assert (run_dir / "model.keras").stat().st_mtime == before
    assert again["wer"] == metrics["wer"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("features=plp", "kind must be one of"),
        ("color=red", "Unknown config key"),
        ("mixtures=3", "mixtures must be a power of two"),
        ("context=-1", "context must be >= 0"),
        ("beam=0", "beam must be > 0 or none"),
        ("acoustic=cnn", "acoustic must be one of mlp, bigru"),
        ("rnn_units=0", "rnn_units must be >= 1"),
        ("ensemble=0", "ensemble must be >= 1"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, capsys, override, message, run):
    code = main(
        APP,
        ["train", "--profile", "smoke", "--run-dir", str(tmp_path), "--set", override],
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


def test_asr_space_gives_config_overrides():
    hp = kt.HyperParameters()
    config = APP.resolve("smoke")
    overrides = search_space("asr", hp, config)
    for key in (
        "features",
        "states_per_word",
        "mixtures",
        "hidden_units",
        "lm_weight",
        "insertion_penalty",
        "gmm_weight",
        "optimizer",
        "learning_rate",
    ):
        assert key in overrides, key
    resolved = type(config)(**{**config.__dict__, **overrides})
    assert resolved.mixtures in (1, 2, 4, 8)
    assert resolved.acoustic == "mlp" and "rnn_units" not in overrides
    fixed = kt.HyperParameters()
    fixed.Fixed("acoustic", "bigru")  # the GRU's sizes instead of the MLP's
    bigru = search_space("asr", fixed, config)
    assert bigru["rnn_units"] == 128 and bigru["rnn_layers"] == 2
    assert "hidden_units" not in bigru and "context" not in bigru
    assert APP.objective == "val_wer"


def test_beam_pruning_keeps_the_transcripts(run):
    run_dir, config, _, data = run
    model = load_trained_model(run_dir)
    exact = APP.recognizer(model, config, data)
    pruned = APP.recognizer(model, dataclasses.replace(config, beam=80.0), data)
    for u in data.corpus.test[:3]:
        wave = tf.constant(u.samples)
        a, b = exact.recognize(wave), pruned.recognize(wave)
        assert a["transcript"].numpy() == b["transcript"].numpy()
        assert b["score"].numpy() == pytest.approx(a["score"].numpy(), rel=1e-5)


def test_gmm_weight_adds_the_gmm_state_posteriors_to_the_network_scores(run):
    from dltoolkit.apps.asr.model import GaussianScores, Recognizer

    run_dir, config, _, data = run
    st = APP.stage(config, data)
    features = st.features["test"][0]
    ours = GaussianScores(st.gmm.emissions)(features).numpy()
    np.testing.assert_allclose(ours, st.gmm.log_likelihoods(features), rtol=1e-4)
    model = load_trained_model(run_dir)
    plain = APP.recognizer(model, config, data)
    fused = APP.recognizer(model, dataclasses.replace(config, gmm_weight=0.5), data)
    gmm = ours - np.logaddexp.reduce(ours, axis=1, keepdims=True)
    np.testing.assert_allclose(
        fused.scores(tf.constant(features)).numpy(),
        plain.scores(tf.constant(features)).numpy() + 0.5 * gmm,
        rtol=1e-4,
        atol=1e-3,
    )
    out = fused.recognize(tf.constant(data.corpus.test[0].samples))
    assert set(out["words"].numpy().astype(str)) <= set(data.lm.words)
    with pytest.raises(ValueError, match="gmm_weight needs the GMM emissions"):
        Recognizer(
            model, plain.graph, st.log_priors, st.feature_config, 2, gmm_weight=1.0
        )
    with pytest.raises(ConfigError, match="gmm_weight must be >= 0"):
        APP.load_data(APP.resolve("smoke", ["gmm_weight=-1"]))


@pytest.mark.slow
def test_tuning_trial_reports_val_wer(run, tmp_path):
    """One random-search trial on the smoke profile: its own GMM-HMM stage and
    pipelines, scored by the validation WER the app logs."""
    from dltoolkit.tuning.runner import run_search

    summary = run_search(
        APP,
        tuner_name="random",
        max_trials=1,
        directory=tmp_path / "search",
        profile="smoke",
        verbose=0,
    )
    assert summary["objective"] == "val_wer" and summary["direction"] == "min"
    # The trial's own GMM-HMM stage ran in the search's prepared/ directory.
    stages = list((tmp_path / "search" / "prepared").glob("*/gmm_hmm.npz"))
    assert len(stages) >= 1
    with open(tmp_path / "search" / "trials.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["score"]) == pytest.approx(summary["best_score"])
    assert "wer" in summary["best_run_metrics"]
    assert (tmp_path / "search" / "best" / "export" / "saved_model.pb").is_file()


def test_evaluate_and_export_commands_reuse_the_run(run, capsys):
    run_dir, _, metrics, _ = run
    assert main(APP, ["evaluate", "--run-dir", str(run_dir)]) == 0
    again = json.loads((run_dir / "metrics.json").read_text())
    assert again["wer"] == metrics["wer"] and again["wer_gmm"] == metrics["wer_gmm"]
    assert main(APP, ["export", "--run-dir", str(run_dir)]) == 0
    assert (run_dir / "export" / "saved_model.pb").is_file()
    assert "GMM-HMM:" not in capsys.readouterr().out  # read from gmm_hmm.npz


@pytest.mark.slow
def test_trains_on_an_fsdd_folder(run, tmp_path):
    """The real-data path end to end: FSDD file names, 8 kHz audio, its split."""
    from dltoolkit.data.spoken_digits import DIGIT_WORDS

    _, _, _, data = run
    folder = tmp_path / "recordings"
    folder.mkdir()
    utts = data.corpus.train + data.corpus.test
    isolated = [u for u in utts if len(u.words) == 1 and u.text != "oh"]
    for k, u in enumerate(isolated):
        digit = DIGIT_WORDS.index(u.text)  # FSDD has no "oh"
        index = (0, 7, 20)[k % 3]  # test, val, train
        write_wav(
            folder / f"{digit}_{u.speaker.replace('+', '-')}_{index}.wav",
            u.samples[::2],
            rate=8000,
        )
    run_dir = tmp_path / "run"
    config = APP.resolve("smoke", [f"data={folder}"])
    metrics = APP.train(config, run_dir, profile="smoke", verbose=0)
    # About five training utterances: the path, not a floor (measured WER 2.67,
    # insertions; GMM-HMM 1.67).
    assert np.isfinite(metrics["wer"]) and metrics["test_utterances"] > 0
    assert "FSDD folder" in (run_dir / "report.md").read_text()


def _fsdd_of(utts, folder, indexes=(0, 7, 20)):
    """Single-digit utterances as an FSDD folder at 8 kHz (FSDD has no "oh")."""
    from dltoolkit.data.spoken_digits import DIGIT_WORDS

    folder.mkdir(parents=True, exist_ok=True)
    isolated = [u for u in utts if len(u.words) == 1 and u.text != "oh"]
    for k, u in enumerate(isolated):
        write_wav(
            folder / f"{DIGIT_WORDS.index(u.text)}_{u.speaker.replace('+', '-')}_"
            f"{indexes[k % len(indexes)]}.wav",
            u.samples[::2],
            rate=8000,
        )
    return folder


def test_evaluate_scores_the_export_on_another_source(run, tmp_path, capsys):
    from dltoolkit.data.spoken_digits import load_fsdd_folder

    run_dir, _, metrics, data = run
    folder = _fsdd_of(data.corpus.train + data.corpus.test, tmp_path / "recordings")
    before = (run_dir / "metrics.json").read_text()
    code = main(APP, ["evaluate", "--run-dir", str(run_dir), "--data", str(folder)])
    out = capsys.readouterr().out
    assert code == 0
    out_dir = run_dir / "eval" / "recordings-all"
    assert f"written: {out_dir}" in out
    scored = json.loads((out_dir / "metrics.json").read_text())
    # Every recording, scored through the export as a fresh load would.
    corpus = load_fsdd_folder(folder)
    utts = corpus.train + corpus.val + corpus.test
    serve = _serve(run_dir)
    hyps = {
        u.info["file"]: serve(waveform=tf.constant(u.samples))["transcript"]
        .numpy()
        .decode()
        for u in utts
    }
    with open(out_dir / "transcripts.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert {r["file"]: r["transcript"] for r in rows} == hyps
    refs = {u.info["file"]: u.text for u in utts}
    right = [hyps[k] == refs[k] for k in refs]
    assert scored["utterances"] == len(utts) == len(rows)
    assert scored["accuracy"] == pytest.approx(np.mean(right), abs=1e-4)
    assert scored["isolated_accuracy"] == scored["accuracy"]
    for speaker, value in scored["speaker_accuracy"].items():
        mine = [hyps[u.info["file"]] == u.text for u in utts if u.speaker == speaker]
        assert value == pytest.approx(np.mean(mine), abs=1e-4), speaker
    assert set(scored["speaker_accuracy"]) == {u.speaker for u in utts}
    for word, value in scored["digit_accuracy"].items():
        mine = [hyps[u.info["file"]] == word for u in utts if u.text == word]
        assert value == pytest.approx(np.mean(mine), abs=1e-4), word
    assert (out_dir / "confusion_matrix.png").stat().st_size > 1000
    assert scored["data"] == str(folder) and scored["subset"] == "all"
    # The run's own metrics are untouched.
    assert (run_dir / "metrics.json").read_text() == before
    # One split only: FSDD's test recordings (indexes 0-4).
    assert (
        main(
            APP,
            ["evaluate", "--run-dir", str(run_dir), "--data", str(folder)]
            + ["--subset", "test"],
        )
        == 0
    )
    test_only = json.loads(
        (run_dir / "eval" / "recordings-test" / "metrics.json").read_text()
    )
    assert test_only["utterances"] == len(corpus.test) < len(utts)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "{tmp}/nowhere"], "no such folder"),
        (["--data", "{tmp}/empty"], "no FSDD recordings"),
        (["--data", "embedded,embedded"], "names 'embedded' twice"),
        (["--subset", "test"], "--subset needs --data"),
        (["--data", "{tmp}/empty", "--run-dir", "{tmp}/norun"], "No SavedModel"),
    ],
)
def test_evaluate_with_data_refuses_in_one_line(run, tmp_path, capsys, args, message):
    run_dir = run[0]
    (tmp_path / "empty").mkdir()
    (tmp_path / "norun").mkdir()
    (tmp_path / "norun" / "config.json").write_text(
        (run_dir / "config.json").read_text()
    )
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = main(APP, ["evaluate", "--run-dir", str(run_dir), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err


def test_upper_hz_narrows_the_filterbank_and_is_checked():
    from dltoolkit.apps.asr.stage import feature_config

    assert feature_config(APP.resolve("smoke", ["upper_hz=3800"])).upper_hz == 3800
    with pytest.raises(ConfigError, match="upper_hz <= 8000"):
        feature_config(APP.resolve("smoke", ["upper_hz=9000"]))


def test_input_noise_acts_in_training_only():
    from dltoolkit.apps.asr.model import build_hybrid

    config = APP.resolve("smoke", ["input_noise=0.5", "dropout=0"])
    model = build_hybrid(config, 6, 5)
    x = np.random.default_rng(0).normal(size=(4, 2 * config.context + 1, 6))
    x = x.astype("float32")
    plain = model(x, training=False).numpy()
    np.testing.assert_allclose(model(x, training=False).numpy(), plain)
    assert np.abs(model(x, training=True).numpy() - plain).max() > 1e-3
    assert "input_noise" in [layer.name for layer in model.layers]
    quiet = build_hybrid(APP.resolve("smoke"), 6, 5)
    assert "input_noise" not in [layer.name for layer in quiet.layers]
    with pytest.raises(ConfigError, match="input_noise must be >= 0"):
        APP.load_data(APP.resolve("smoke", ["input_noise=-1"]))


def test_flite_share_reaches_the_embedded_corpus_and_is_checked(tmp_path, monkeypatch):
    from dltoolkit.audio import flite

    with pytest.raises(ConfigError, match=r"flite must be in \[0, 1\]"):
        APP.load_data(APP.resolve("smoke", ["flite=1.5"]))
    if not flite.wasm_path().is_file():
        pytest.skip("no Flite module (make fetches it)")
    monkeypatch.setenv("DLTOOLKIT_CACHE", str(tmp_path))
    config = APP.resolve(
        "smoke", ["flite=1.0", "train_size=4", "val_size=2", "test_size=2"]
    )
    data = APP.load_data(config)
    assert {u.speaker.split("+")[0] for u in data.corpus.train} == {"flite"}
    assert "flite" not in {u.speaker.split("+")[0] for u in data.corpus.test}
    assert "flite" in APP.data_fields


def test_without_oh_the_lexicon_has_ten_words(tmp_path, monkeypatch):
    from dltoolkit.apps.asr.stage import gmm_key

    monkeypatch.setenv("DLTOOLKIT_CACHE", str(tmp_path))
    sizes = ["train_size=30", "val_size=4", "test_size=4", "isolated_fraction=0"]
    config = APP.resolve("smoke", [*sizes, "oh=false"])
    data = APP.load_data(config)
    assert "oh" not in data.lm.words and len(data.lm.words) == 10
    plain_config = APP.resolve("smoke", sizes)
    plain = APP.load_data(plain_config)
    assert "oh" in plain.lm.words  # 30 strings of 2-7 digits say it
    assert gmm_key(config, data) != gmm_key(plain_config, plain)
    assert "oh" in APP.data_fields


def test_frequency_mask_zeroes_one_band_per_example_in_every_delta_block():
    from dltoolkit.apps.asr.stage import frame_dataset, frequency_mask

    tf.random.set_seed(0)
    x = tf.ones([64, 3, 12])  # 4 static coefficients, deltas, delta-deltas
    y = frequency_mask(x, 2, 4, 12).numpy()
    widths = set()
    for example in y:
        assert (example == example[:1]).all()  # the same band in every frame
        zero = example[0] == 0
        static = zero[:4]
        np.testing.assert_array_equal(zero, np.tile(static, 3))  # each block
        (where,) = np.nonzero(static)
        if len(where):
            assert where.tolist() == list(range(where[0], where[-1] + 1))
        widths.add(len(where))
    assert widths == {0, 1, 2}
    # Training only, and only when asked for.
    features = [np.ones((10, 12), np.float32)] * 2
    labels = [np.zeros(10, np.int32)] * 2
    config = APP.resolve("smoke", ["freq_mask=2"])
    masked = frame_dataset(features, labels, config, shuffle=True, static_dim=4)
    plain = frame_dataset(features, labels, config, shuffle=False)
    assert np.min(np.concatenate([b.numpy() for b, _ in masked])) == 0.0
    assert np.min(np.concatenate([b.numpy() for b, _ in plain])) == 1.0
    with pytest.raises(ConfigError, match="freq_mask must be in"):
        APP.load_data(APP.resolve("smoke", ["freq_mask=99"]))


def test_utterance_batches_pad_with_the_last_frame_and_cover_each_utterance_once():
    from dltoolkit.apps.asr.stage import utterance_dataset

    lengths = [3, 5, 4, 7, 2]
    # Utterance i's frames all hold i (features) and 10 * i + t (states).
    features = [np.full((n, 2), i, np.float32) for i, n in enumerate(lengths)]
    labels = [10 * i + np.arange(n, dtype=np.int32) for i, n in enumerate(lengths)]
    config = APP.resolve("smoke", ["utterance_batch=2"])
    ds = utterance_dataset(features, labels, config, shuffle=True)
    assert int(ds.cardinality()) == 3
    orders = []
    for _ in range(6):  # epochs
        seen = []
        for x, y, w in ds:
            x, y, w = x.numpy(), y.numpy(), w.numpy()
            assert x.shape[:2] == y.shape == w.shape
            assert x.shape[1] == max(lengths[int(row[0, 0])] for row in x)
            for row, states, weights in zip(x, y, w):
                i = int(row[0, 0])
                n = lengths[i]
                assert (row == i).all()
                np.testing.assert_array_equal(states[:n], labels[i])
                assert (states[n:] == labels[i][-1]).all()  # the last state on
                np.testing.assert_array_equal(weights, np.arange(len(weights)) < n)
                seen.append(i)
        assert sorted(seen) == list(range(5))
        orders.append(tuple(seen))
    assert len(set(orders)) > 1  # shuffled from epoch to epoch
    plain = utterance_dataset(features, labels, config, shuffle=False)
    first = [tuple(int(r[0, 0]) for r in x.numpy()) for x, _, _ in plain]
    assert first == [(4, 0), (2, 1), (3,)]  # by length, in order


def test_bigru_acoustic_model_labels_every_frame_and_exports(run, tmp_path):
    from dltoolkit.apps.asr.model import build_hybrid

    _, config, _, data = run
    seq = dataclasses.replace(
        config,
        acoustic="bigru",
        rnn_units=32,
        rnn_layers=1,
        epochs=3,
        learning_rate=0.01,
        early_stopping_patience=0,
    )
    model = build_hybrid(seq, 6, 5)
    for t in (1, 9):
        assert model(np.zeros((2, t, 6), np.float32)).shape == (2, t, 5)
    run_dir = tmp_path / "bigru"
    metrics = APP.train(seq, run_dir, profile="smoke", verbose=0)
    assert metrics["epochs"] == 3
    n_states = APP.stage(seq, data).gmm.n_states
    history = read_history(run_dir)  # it learns: frame accuracy far above chance
    assert history["val_accuracy"][-1] > 5 / n_states
    trained = load_trained_model(run_dir)
    assert trained.output_shape == (None, None, APP.stage(seq, data).gmm.n_states)
    rec = APP.recognizer(trained, seq, data)
    st = APP.stage(seq, data)
    features = st.features["test"][0]
    posteriors = trained(features[None], training=False).numpy()[0]
    _check_scores_and_export(rec, features, posteriors, st, run_dir, data)


def test_ensemble_trains_each_member_and_decodes_their_mean_posteriors(run, tmp_path):
    from dltoolkit.apps.asr.model import (
        EnsembleAccuracy,
        MemberCrossEntropy,
        build_hybrid,
        splice,
    )

    _, config, _, data = run
    ens = dataclasses.replace(config, ensemble=3, dropout=0.0)
    model = build_hybrid(ens, 6, 5)
    x = np.random.default_rng(0).normal(size=(4, 2 * ens.context + 1, 6))
    probs = model(x.astype("float32")).numpy()
    assert probs.shape == (4, 3, 5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    assert np.abs(probs[:, 0] - probs[:, 1]).max() > 1e-3  # own initial weights
    seq = dataclasses.replace(ens, acoustic="bigru", rnn_units=8, rnn_layers=1)
    assert build_hybrid(seq, 6, 5)(np.zeros((2, 7, 6), np.float32)).shape == (
        2,
        7,
        3,
        5,
    )
    # Each member's cross-entropy on the labels, averaged; accuracy of the mean.
    y = np.array([0, 1, 2, 3])
    by_hand = -np.log(probs[np.arange(4), :, y]).mean()
    np.testing.assert_allclose(
        float(MemberCrossEntropy()(y, probs)), by_hand, rtol=1e-5
    )
    # Accuracy of the averaged posteriors: two members of three vote state 0,
    # one is sure of state 1, whose mean wins (a vote, or member 0, gives 0).
    votes = np.array([[[0.6, 0.4], [0.6, 0.4], [0.0, 1.0]]], np.float32)
    accuracy = EnsembleAccuracy()
    accuracy.update_state(np.array([1]), votes)
    assert float(accuracy.result()) == 1.0
    # Sequences: frame weights (0 on padding) weigh each frame's member mean.
    seq_probs = np.random.default_rng(1).dirichlet(np.ones(5), size=(2, 4, 3))
    seq_y = np.array([[0, 1, 2, 3], [4, 4, 0, 0]])
    weights = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], np.float32)
    frame_ce = -np.log(
        np.take_along_axis(seq_probs, seq_y[..., None, None], axis=-1)[..., 0]
    ).mean(-1)
    np.testing.assert_allclose(
        float(MemberCrossEntropy()(seq_y, seq_probs, sample_weight=weights)),
        (frame_ce * weights).sum() / weights.size,  # sum over batch size
        rtol=1e-5,
    )
    with precision_policy(True):  # the stacked posteriors stay float32
        assert build_hybrid(ens, 6, 5).output.dtype == "float32"

    run_dir = tmp_path / "ensemble"
    metrics = APP.train(ens, run_dir, profile="smoke", verbose=0)
    st = APP.stage(ens, data)
    trained = load_trained_model(run_dir)  # the loss and metric reload
    assert trained.output_shape == (None, 3, st.gmm.n_states)
    assert read_history(run_dir)["val_accuracy"][-1] > 1 / st.gmm.n_states
    assert 0 <= metrics["wer"] <= 1
    rec = APP.recognizer(trained, ens, data)
    features = st.features["test"][0]
    windows = splice(features, ens.context)
    mean = trained(windows, training=False).numpy().mean(1)
    _check_scores_and_export(rec, features, mean, st, run_dir, data)
