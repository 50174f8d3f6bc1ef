"""Spoken digits on real recordings: the ASR app's ``real`` profile against a
GMM-HMM per digit (hmmlearn) and a small Keras CNN on log-mel spectrograms,
on one split of an FSDD folder.

    .venv/bin/python bench/asr.py --data PATH/recordings
                                  [--split index|speaker:NAME[+NAME]|each-speaker]
                                  [--train-on recordings|embedded]
                                  [--with-embedded]
                                  [--profile real] [--set KEY=VALUE ...]
                                  [--run-dir DIR] [--threads T] [--force]
                                  [--out FILE.json] [--smoke]

One split for everyone: the app's loader with ``data=PATH`` and ``split=``
(``index``: FSDD's, recordings 0-4 of every speaker test, 5-9 validation;
``speaker:NAME``: that speaker's recordings test, the others' 5-9
validation). Every contender trains on the training part (the CNN stops
early on the validation part, as the app does) and is scored on the test
part by isolated-digit accuracy:

- ``dltoolkit real`` (``dltoolkit PROFILE`` with ``--profile``): ``python -m
  apps.asr train --profile real`` through the app (GMM-HMM stage, hybrid
  fit, export), scored through its exported SavedModel on the raw test
  waveforms (a transcript other than the one digit word is wrong); its
  seconds are the run's ``train_seconds`` (GMM-HMM training + fit; features
  apart).
- ``hmmlearn GMM-HMM``: the common isolated-word recipe, one
  ``hmmlearn.hmm.GMMHMM`` per digit (left-to-right, 5 states, 4 diagonal
  Gaussians each, flat start, 20 Baum-Welch iterations) on the app's own features
  (13 MFCCs + deltas + delta-deltas, per-utterance CMVN); a test utterance
  gets the digit whose model scores it highest. Seconds: the ten fits.
- ``Keras CNN``: written here, a small log-mel CNN of the kind the Keras
  audio examples use: 40 log-mel bins (per-utterance CMVN) padded or cut to
  the longest training utterance (at most 1 s: 99% of FSDD's recordings are
  shorter), three 3x3 convolution blocks (32, 64, 128 filters, batch norm,
  ReLU, 2x2 max pooling after the first two), global average pooling,
  dropout 0.3, softmax over the digits;
  Adam 1e-3, batch 32, up to 30 epochs, early stopping on validation
  accuracy (patience 5, best weights). Seconds: the fit.

``--split each-speaker`` is leave-one-speaker-out: one fresh process per
speaker of the folder runs the ``speaker:NAME`` bench (waiting, between
them, for the 1-minute load to fall back to the limit the bench checks), and
``bench/results/asr_each_speaker.json`` gathers them: each contender's
accuracy on every held-out speaker, their mean, the speakers on which ours
leads every peer, and the seconds summed. With ``--run-dir DIR`` each
speaker's run and results stay in ``DIR`` and an interrupted bench resumes.

``--train-on embedded`` measures the step from synthetic to real voices:
ours trains on the embedded synthetic corpus only (eSpeak NG, and Flite for
half of it in profile ``quick``, the default here; ``--set`` changes it),
the peers on its single-digit utterances of
the folder's digits (augmented copies included), and all three are scored
on every recording of the folder (``bench/results/asr_transfer.json``).

``--with-embedded`` (with ``--train-on recordings``, any split) adds the
embedded synthetic corpus to the folder's training part for everyone: ours
trains on ``data=embedded,PATH`` (the profile's synthetic settings), the
peers on its single-digit utterances of the folder's digits beside the
folder's training recordings; the test part stays the folder's recordings
(the JSON's name gains ``_embedded``). ``--set data=``/``split=`` are refused
with it; a profile that keeps "oh" in the synthetic corpus (``smoke``) is
noted, as ours then decodes an eleventh word (``quick``, ``full`` and
``real`` leave it out).

The table gives accuracy, training seconds, seconds scoring the test split,
and our accuracy and seconds over the best peer's (the peer with the highest
accuracy); with a speaker split, each held-out speaker's accuracy too.
Threads are pinned equally for all (``bench/_harness.py``); the JSON goes to
``bench/results/asr.json`` (``asr_speaker_NAME.json`` for a speaker split) or
``--out``. ``--smoke`` writes a tiny FSDD-named folder of tones itself and
runs everything at toy sizes (the ``smoke`` profile).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402

HMM_STATES, HMM_MIX, HMM_ITER = 5, 4, 20
CNN_MEL_BINS, CNN_MAX_FRAMES, CNN_EPOCHS, CNN_PATIENCE = 40, 100, 30, 5
SMOKE_SIZES = {"hmm": (3, 1, 3), "cnn_epochs": 2}


def write_smoke_folder(folder: Path, seed: int = 0) -> Path:
    """A tiny FSDD folder: ``{digit}_{speaker}_{index}.wav`` at 8 kHz, each
    digit two tones whose pitch the digit sets, each speaker a pitch factor."""
    import numpy as np

    from dltoolkit.audio import write_wav

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rate = 8000
    t = np.arange(int(0.25 * rate)) / rate
    for k, speaker in enumerate(("ann", "ben")):
        for d in range(10):
            for i in (0, 1, 5, 6, 10, 11, 12, 13):  # test, validation, train
                f1, f2 = (300 + 90 * d) * (1 + 0.07 * k), (1100 + 160 * d)
                tone = np.concatenate(
                    [np.sin(2 * np.pi * f1 * t), np.sin(2 * np.pi * f2 * t)]
                )
                pad = np.zeros(int(0.08 * rate))
                x = 0.4 * np.concatenate([pad, tone, pad])
                x += rng.normal(0, 0.005, len(x))
                write_wav(folder / f"{d}_{speaker}_{i}.wav", x, rate=rate)
    return folder


# === Contenders ===


def run_ours(config, profile, run_dir: Path, test) -> dict:
    """Trains the app's profile in ``run_dir``; scores its export on ``test``."""
    from dltoolkit.apps.asr.app import APP

    metrics, wall, serve = _harness.train_through_app(APP, config, profile, run_dir)
    tf = sys.modules["tensorflow"]
    start = time.perf_counter()
    hyps = [
        serve(waveform=tf.constant(u.samples))["transcript"].numpy().decode()
        for u in test
    ]
    scoring = time.perf_counter() - start
    return {
        "predicted": hyps,
        "seconds": metrics["train_seconds"],
        "test_seconds": scoring,
        "wall_seconds": round(wall, 1),
        "epochs": metrics["epochs"],
        # The app's own figure (in process, the export's traced function).
        "app_accuracy": round(1.0 - metrics["ser"], 4),
        "app_metrics": {
            k: metrics.get(k)
            for k in ("prepare_seconds", "gmm_seconds", "wer_gmm", "wer")
        },
    }


def features(utterances, feature_config):
    """Each utterance's ``(T, D)`` features, as the app computes them."""
    tf = sys.modules["tensorflow"]

    from dltoolkit.audio.features import compute_features

    fn = tf.function(
        lambda x: compute_features(x, feature_config),
        input_signature=[tf.TensorSpec([None], tf.float32)],
    )
    return [fn(u.samples).numpy() for u in utterances]


def flat_start(model, seqs, seed: int = 0) -> None:
    """Initial emissions of a left-to-right ``GMMHMM`` by uniform segmentation
    (HTK's flat start): state ``s`` gets the ``s``-th of equal slices of
    every sequence, and a diagonal Gaussian mixture fitted to them.

    hmmlearn's own initialization (k-means over all frames, clusters handed
    to states in no order) ignores the topology: a left-to-right model then
    starts with the wrong state first, and Baum-Welch can starve a state's
    components into NaN (measured on FSDD: a ``transmat_`` of NaN rows).
    """
    import numpy as np
    from sklearn.mixture import GaussianMixture

    states, mix = model.n_components, model.n_mix
    slices = [[] for _ in range(states)]
    for x in seqs:
        for s, part in enumerate(np.array_split(x, states)):
            slices[s].append(part)
    means, covars, weights = [], [], []
    for s in range(states):
        frames = np.concatenate(slices[s])
        gmm = GaussianMixture(
            mix, covariance_type="diag", reg_covar=model.min_covar, random_state=seed
        ).fit(frames)
        means.append(gmm.means_)
        covars.append(gmm.covariances_)
        weights.append(gmm.weights_)
    model.means_, model.covars_ = np.array(means), np.array(covars)
    model.weights_ = np.array(weights)
    model.startprob_ = np.eye(states)[0]
    transmat = np.eye(states) * 0.5 + np.eye(states, k=1) * 0.5
    transmat[-1, -1] = 1.0
    model.transmat_ = transmat


def run_hmmlearn(train_x, train_y, test_x, digits, smoke=False) -> dict:
    """One left-to-right GMMHMM per digit; the highest log-likelihood wins."""
    import warnings

    import numpy as np
    from hmmlearn import hmm

    states, mix, iterations = (
        SMOKE_SIZES["hmm"] if smoke else (HMM_STATES, HMM_MIX, HMM_ITER)
    )
    start = time.perf_counter()
    models = {}
    for digit in digits:
        seqs = [x for x, y in zip(train_x, train_y) if y == digit]
        model = hmm.GMMHMM(
            n_components=states,
            n_mix=mix,
            covariance_type="diag",
            n_iter=iterations,
            random_state=0,
            init_params="",  # all set by flat_start
            params="tmcw",  # the start stays in the first state
        )
        flat_start(model, seqs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hmmlearn's convergence notes
            model.fit(np.concatenate(seqs), [len(x) for x in seqs])
        models[digit] = model
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = [max(models, key=lambda d: models[d].score(x)) for x in test_x]
    return {
        "predicted": predicted,
        "seconds": seconds,
        "test_seconds": time.perf_counter() - start,
        "hmm": {"states": states, "mixtures": mix, "iterations": iterations},
    }


def _fixed_length(mats, frames: int):
    """``(n, frames, bins, 1)``: zero-padded (the CMVN mean) or cut."""
    import numpy as np

    out = np.zeros((len(mats), frames, mats[0].shape[1], 1), np.float32)
    for i, m in enumerate(mats):
        out[i, : min(len(m), frames), :, 0] = m[:frames]
    return out


def keras_cnn(frames: int, bins: int, classes: int):
    import keras
    from keras import layers

    inputs = keras.Input((frames, bins, 1))
    x = inputs
    for i, filters in enumerate((32, 64, 128)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        if i < 2:
            x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="logmel_cnn")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def run_cnn(mels, labels, digits, smoke=False) -> dict:
    """The log-mel CNN: trained on train, stopped on val, scored on test."""
    import keras
    import numpy as np

    frames = min(max(len(m) for m in mels["train"]), CNN_MAX_FRAMES)
    x = {k: _fixed_length(v, frames) for k, v in mels.items()}
    index = {d: i for i, d in enumerate(digits)}
    y = {k: np.array([index[d] for d in labels[k]]) for k in ("train", "val")}
    model = keras_cnn(frames, x["train"].shape[2], len(digits))
    stop = keras.callbacks.EarlyStopping(
        "val_accuracy", patience=CNN_PATIENCE, restore_best_weights=True
    )
    start = time.perf_counter()
    model.fit(
        x["train"],
        y["train"],
        batch_size=32,
        epochs=SMOKE_SIZES["cnn_epochs"] if smoke else CNN_EPOCHS,
        validation_data=(x["val"], y["val"]),
        callbacks=[stop],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    out = model.predict(x["test"], batch_size=256, verbose=0)
    return {
        "predicted": [digits[i] for i in out.argmax(axis=1)],
        "seconds": seconds,
        "test_seconds": time.perf_counter() - start,
        "epochs_run": len(model.history.epoch),
        "frames": frames,
        "parameters": model.count_params(),
    }


def _train_on(args) -> str:
    """What the contenders train on, as the JSON names it."""
    return args.train_on + (" + embedded" if args.with_embedded else "")


def _single_words(corpus, test) -> dict:
    """The peers' splits where the synthetic corpus trains: they classify
    isolated words, so its training and validation utterances that are one
    word the recordings of ``test`` say (augmented copies included; strings
    of digits and "oh" out) beside the folder's own; ``test`` as given."""
    said = {u.text for u in test}
    return {
        "train": [u for u in corpus.train if u.text in said],
        "val": [u for u in corpus.val if u.text in said],
        "test": test,
    }


def _from_folder(utterance) -> bool:
    """Whether ``utterance`` is a recording (not the embedded corpus's)."""
    return utterance.info.get("source") != "embedded"


def _accuracy(predicted, labels) -> float:
    return sum(p == t for p, t in zip(predicted, labels)) / len(labels)


# === Main ===

EACH_SPEAKER = "each-speaker"


def each_speaker(args) -> int:
    """Leave-one-speaker-out: the ``speaker:NAME`` bench for every speaker of
    the folder, each in a fresh process; writes their summary.

    With ``--run-dir DIR``, speaker NAME's app run is ``DIR/NAME`` and its
    results ``DIR/NAME.json``; a speaker whose results are there already is
    not run again, so an interrupted bench goes on where it stopped.
    """
    from dltoolkit.data.spoken_digits import fsdd_speakers
    from dltoolkit.errors import UserError

    scratch = Path(tempfile.mkdtemp(prefix="bench-asr-each-"))
    try:
        data_path = args.data or str(write_smoke_folder(scratch / "recordings"))
        try:
            speakers = sorted(fsdd_speakers(data_path))
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        parts = Path(args.run_dir) if args.run_dir else scratch
        parts.mkdir(parents=True, exist_ok=True)
        suffix = "_embedded" if args.with_embedded else ""
        run = _harness.Run("asr_each_speaker" + suffix, args)
        common = ["--data", data_path, *(["--smoke"] if args.smoke else [])]
        if args.profile:
            common += ["--profile", args.profile]
        if args.threads:
            common += ["--threads", str(args.threads)]
        if args.force:
            common.append("--force")
        if args.with_embedded:
            common.append("--with-embedded")
        common += [f"--set={o}" for o in args.overrides]
        results = {}
        for i, speaker in enumerate(speakers):
            out = parts / f"{speaker}.json"
            step = f"{speaker} ({i + 1}/{len(speakers)})"
            if out.is_file():
                kept = json.loads(out.read_text())
                if kept.get("train_on") != _train_on(args):
                    print(
                        f"error: {out} trained on {kept.get('train_on')!r}, this "
                        f"bench on {_train_on(args)!r}: another --run-dir, or "
                        "remove it",
                        file=sys.stderr,
                    )
                    return 2
                print(f"[bench] held out: {step}: results kept from {out}")
                results[speaker] = kept
                continue
            if results and not args.smoke:
                _wait_for_idle(run.max_load)
            print(f"[bench] held out: {step}", flush=True)
            extra = ["--run-dir", str(parts / speaker)] if args.run_dir else []
            done = subprocess.run(
                [sys.executable, __file__, *common, *extra]
                + ["--split", f"speaker:{speaker}", "--out", str(out)],
                check=False,
            )
            if done.returncode:
                kept = f"; the finished speakers' results are in {parts}"
                print(
                    f"error: the bench with {speaker} held out exited with "
                    f"{done.returncode}{kept if args.run_dir else ''}",
                    file=sys.stderr,
                )
                return done.returncode
            results[speaker] = json.loads(out.read_text())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run.write(summarize_speakers(results, args))
    return 0


def _wait_for_idle(max_load: float, limit_s: float = 600.0) -> None:
    """Sleeps until the 1-minute load is at most ``max_load`` (the limit the
    next speaker's bench checks; the last speaker's training still weighs in
    it), for ``limit_s`` at most (then that bench refuses, or with
    ``--force`` runs flagged)."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        if os.getloadavg()[0] <= max_load:
            return
        time.sleep(5)


def summarize_speakers(results: dict, args) -> dict:
    """The results of the ``speaker:NAME`` benches as one table: each
    contender's accuracy per held-out speaker and their mean."""
    speakers = list(results)
    first = results[speakers[0]]
    ours = f"dltoolkit {first['profile']}"  # as the speaker:NAME bench names it
    names = [ours, *(n for n in first["rows"] if n != ours)]
    rows = {}
    for name in names:
        each = {s: results[s]["rows"][name]["accuracy"] for s in speakers}
        rows[name] = {
            "speaker_accuracy": each,
            "mean_accuracy": sum(each.values()) / len(each),
            "seconds": sum(results[s]["rows"][name]["seconds"] for s in speakers),
        }
    peers = [n for n in names if n != ours]
    best = max(peers, key=lambda n: (rows[n]["mean_accuracy"], -rows[n]["seconds"]))
    leads = [
        s
        for s in speakers
        if all(
            rows[ours]["speaker_accuracy"][s] > rows[p]["speaker_accuracy"][s]
            for p in peers
        )
    ]
    print("\n| held out | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for s in speakers:
        cells = " | ".join(f"{rows[n]['speaker_accuracy'][s]:.4f}" for n in names)
        print(f"| {s} | {cells} |")
    means = " | ".join(f"{rows[n]['mean_accuracy']:.4f}" for n in names)
    print(f"| mean | {means} |")
    ratio = rows[ours]["mean_accuracy"] / rows[best]["mean_accuracy"]
    print(
        f"[bench] ours / best peer ({best}) in mean accuracy: {ratio:.3f}x; ours "
        f"leads every peer on {len(leads)} of {len(speakers)} speakers"
    )
    return {
        "data": results[speakers[0]]["data"],
        "split": {"name": EACH_SPEAKER, "speakers": speakers},
        "train_on": results[speakers[0]]["train_on"],
        "profile": results[speakers[0]]["profile"],
        "overrides": _harness.shown(args.overrides),
        "ours": ours,
        "best_peer": best,
        "ours_over_best_peer_mean_accuracy": ratio,
        "ours_leads_on": leads,
        "rows": rows,
        "per_speaker": {
            s: {
                k: r[k]
                for k in (
                    "split",
                    "profile",
                    "overrides",
                    "rows",
                    "load",
                    "seconds_total",
                )
            }
            for s, r in results.items()
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _harness.add_app_arguments(parser, "an FSDD recordings folder")
    parser.add_argument(
        "--split",
        default="index",
        help="index (FSDD's: recordings 0-4 test), speaker:NAME[+NAME] "
        "(those speakers held out) or each-speaker (leave-one-speaker-out)",
    )
    parser.add_argument(
        "--train-on",
        choices=("recordings", "embedded"),
        default="recordings",
        help="recordings: everyone trains on the folder's training part; "
        "embedded: on the synthetic corpus only (default profile quick), "
        "scored on every recording of the folder",
    )
    parser.add_argument(
        "--with-embedded",
        action="store_true",
        help="recordings: the embedded synthetic corpus joins the training part "
        "(ours: data=embedded,PATH; the peers: its single digits)",
    )
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.data is None and not args.smoke:
        parser.error("--data PATH (an FSDD recordings folder) is required")
    transfer = args.train_on == "embedded"
    if transfer and args.split != "index":
        parser.error("--split is for --train-on recordings (embedded: all are test)")
    if transfer and args.profile is None and not args.smoke:
        args.profile = "quick"
    if args.with_embedded and transfer:
        parser.error(
            "--with-embedded adds the synthetic corpus to the recordings; "
            "--train-on embedded trains on it alone"
        )
    fixed = [o for o in args.overrides if o.split("=")[0] in ("data", "split")]
    if fixed and args.with_embedded:
        parser.error(
            "--with-embedded sets data (embedded,PATH) and --split the split; "
            f"drop --set {fixed[0]}"
        )
    if args.split == EACH_SPEAKER:
        if fixed:
            parser.error(
                "--split each-speaker sets data and split for each speaker's "
                f"run; drop --set {fixed[0]}"
            )
        return each_speaker(args)
    profile = _harness.profile(args)
    name = (
        "asr_transfer"
        if transfer
        else "asr"
        if args.split == "index"
        else "asr_" + args.split.replace(":", "_").replace("+", "_")
    ) + ("_embedded" if args.with_embedded else "")
    run = _harness.Run(name, args)
    tf = run.tensorflow()
    tf.keras.utils.set_random_seed(0)

    from dltoolkit.apps.asr.app import APP
    from dltoolkit.apps.asr.stage import feature_config
    from dltoolkit.audio.features import FeatureConfig
    from dltoolkit.data.spoken_digits import DIGIT_WORDS, load_fsdd_folder
    from dltoolkit.errors import UserError

    scratch = Path(tempfile.mkdtemp(prefix="bench-asr-"))
    # A GMM-HMM stage cached by an earlier run would be reused with the
    # seconds it cost then: a cache of the run's own times its stage here.
    os.environ["DLTOOLKIT_CACHE"] = str(scratch / "cache")
    try:
        data_path = args.data or str(write_smoke_folder(scratch / "recordings"))
        overrides = (
            [*args.overrides]
            if transfer
            else [
                f"data={'embedded,' if args.with_embedded else ''}{data_path}",
                f"split={args.split}",
                *args.overrides,
            ]
        )
        if profile == "smoke" and not any(o.startswith("epochs=") for o in overrides):
            # The smoke profile's two epochs leave the hybrid untrained (WER
            # 1.0); eight learn the toy tones, for a few seconds more.
            overrides.append("epochs=8")
        try:
            config = APP.resolve(profile, overrides)
            corpus = APP.load_data(config).corpus
        except UserError as err:  # a bad folder or split: one line, as the app
            print(f"error: {err}", file=sys.stderr)
            return 2
        splits = {"train": corpus.train, "val": corpus.val, "test": corpus.test}
        if args.with_embedded and config.oh:
            print(
                '[bench] note: this profile keeps "oh" in the synthetic corpus: '
                "ours decodes it as an eleventh word, the peers classify the "
                "folder's digits (--set oh=false to match)"
            )
        if args.with_embedded:
            # Everyone is scored on the folder's recordings only.
            splits = _single_words(corpus, [u for u in corpus.test if _from_folder(u)])
        if transfer:
            # Every recording of the folder is the test set, for all three.
            try:
                folder = load_fsdd_folder(data_path)
            except UserError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            splits = _single_words(corpus, folder.train + folder.val + folder.test)
        digits = [w for w in DIGIT_WORDS if w in {u.text for u in splits["train"]}]
        splits["val"] = [u for u in splits["val"] if u.text in digits]
        labels = {k: [u.text for u in v] for k, v in splits.items()}
        print(f"[bench] data: {corpus.source}; {corpus.sizes}; {corpus.splits}")
        run.print_threads()

        rows = {}
        run_dir = Path(args.run_dir) if args.run_dir else scratch / "run"
        ours_name = f"dltoolkit {profile}"  # the profile is a setting here
        rows[ours_name] = run_ours(config, profile, run_dir, splits["test"])

        seconds, mfcc = _harness.timed(
            lambda: {k: features(v, feature_config(config)) for k, v in splits.items()}
        )
        rows["hmmlearn GMM-HMM"] = run_hmmlearn(
            mfcc["train"], labels["train"], mfcc["test"], digits, args.smoke
        )
        rows["hmmlearn GMM-HMM"]["feature_seconds"] = seconds
        mel_config = FeatureConfig(kind="logmel", num_mel_bins=CNN_MEL_BINS, deltas=0)
        seconds, mels = _harness.timed(
            lambda: {k: features(v, mel_config) for k, v in splits.items()}
        )
        rows["Keras CNN"] = run_cnn(mels, labels, digits, args.smoke)
        rows["Keras CNN"]["feature_seconds"] = seconds
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    truth, test = labels["test"], splits["test"]
    held_out = (
        sorted({u.speaker for u in test}) if transfer or args.split != "index" else []
    )
    for row in rows.values():
        predicted = row.pop("predicted")
        row["accuracy"] = _accuracy(predicted, truth)
        if held_out:
            row["speaker_accuracy"] = {
                s: _accuracy(
                    [p for p, u in zip(predicted, test) if u.speaker == s],
                    [t for t, u in zip(truth, test) if u.speaker == s],
                )
                for s in held_out
            }
    peers = {k: v for k, v in rows.items() if k != ours_name}
    best_name = max(peers, key=lambda k: (peers[k]["accuracy"], -peers[k]["seconds"]))
    best = peers[best_name]
    for row in rows.values():
        row["ratio_to_best_peer"] = row["accuracy"] / best["accuracy"]
    ours = rows[ours_name]
    ratios = {
        "accuracy": ours["accuracy"] / best["accuracy"],
        "seconds": ours["seconds"] / best["seconds"],
    }
    print(
        "\n| contender | isolated accuracy | train seconds | test seconds | "
        "accuracy / best peer |\n|---|---|---|---|---|"
    )
    for row_name, row in rows.items():
        print(
            f"| {row_name} | {row['accuracy']:.4f} | {row['seconds']:.1f} | "
            f"{row['test_seconds']:.1f} | {row['ratio_to_best_peer']:.3f} |"
        )
    if held_out:
        for row_name, row in rows.items():
            each = ", ".join(f"{s} {a:.4f}" for s, a in row["speaker_accuracy"].items())
            print(f"[bench] {row_name}: {each}")
    print(
        f"[bench] ours / best peer ({best_name}): accuracy {ratios['accuracy']:.3f}x, "
        f"train seconds {ratios['seconds']:.2f}x"
    )
    if transfer:
        split = {
            "name": "train on embedded, test on every recording",
            "train": len(splits["train"]),
            "val": len(splits["val"]),
            "test": len(test),
            "ours_train": len(corpus.train),
            "speakers": held_out,
        }
    else:
        split = {"name": args.split, **corpus.sizes, "held_out": held_out}
        if args.with_embedded:
            split["peers_train"] = len(splits["train"])
            split["test"] = len(test)
            split["app_metrics"] = (
                "the app's own, on its whole test part (the synthetic corpus's too)"
            )
    run.write(
        {
            "data": f"FSDD folder {Path(data_path).name}",
            "train_on": _train_on(args),
            "split": split,
            "profile": profile,
            "overrides": _harness.shown(args.overrides),
            "digits": digits,
            "best_peer": best_name,
            "best_peer_accuracy": best["accuracy"],
            "ours_over_best_peer": ratios,
            "rows": rows,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
