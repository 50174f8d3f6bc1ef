"""ASR evaluation: WER/SER/isolated accuracy, per-voice tables, plots.

With several data sources, ``metrics.json`` breaks the figures down by
source (``sources``: sizes, WER, accuracy); with a speaker split, by held-out
speaker (``speaker_accuracy``). Accuracy is the share of utterances
transcribed exactly (FSDD's recordings are single digits: its isolated
accuracy).
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from dltoolkit.apps.asr.model import WAVEFORM
from dltoolkit.audio.features import log_mel_spectrogram
from dltoolkit.data.spoken_digits import DIGIT_WORDS, held_out_speakers
from dltoolkit.hmm.graph import decode_batch
from dltoolkit.metrics import wer
from dltoolkit.plotting import new_figure, save_figure
from dltoolkit.training.app import Evaluation
from dltoolkit.training.config import write_text_atomic
from dltoolkit.training.report import markdown_table

BATCH = 32


def decode_scores(graph, scores, beam=None) -> list[str]:
    """Transcripts of utterances given their ``(T, A)`` acoustic scores."""
    out = []
    for start in range(0, len(scores), BATCH):
        chunk = scores[start : start + BATCH]
        lengths = np.array([len(s) for s in chunk])
        padded = np.zeros((len(chunk), lengths.max(), chunk[0].shape[1]), np.float32)
        for b, s in enumerate(chunk):
            padded[b, : len(s)] = s
        out += decode_batch(graph, padded, lengths, beam)[0]
    return out


def hybrid_transcripts(recognizer, features) -> list[str]:
    scores = [recognizer.scores(tf.constant(f, tf.float32)).numpy() for f in features]
    return decode_scores(recognizer.graph, scores, recognizer.beam)


def gmm_transcripts(recognizer, gmm, features) -> list[str]:
    with threadpool_limits(1, user_api="blas"):  # small matrices
        scores = [gmm.log_likelihoods(f).astype(np.float32) for f in features]
    return decode_scores(recognizer.graph, scores, recognizer.beam)


class WerCallback(keras.callbacks.Callback):
    """Decodes validation utterances each epoch; logs ``val_wer`` (a fraction)."""

    def __init__(self, make_recognizer, features, references, name="val_wer"):
        super().__init__()
        self.make_recognizer = make_recognizer
        self.features = features
        self.references = references
        self.name = name
        self._recognizer = None

    def on_epoch_end(self, epoch, logs=None):
        if self._recognizer is None:
            self._recognizer = self.make_recognizer()
        hyps = hybrid_transcripts(self._recognizer, self.features)
        score = wer(self.references, hyps)
        if logs is not None:
            logs[self.name] = score
        print(f" - {self.name}: {score:.4f}", flush=True)


def rates(refs, hyps) -> dict:
    """WER, SER and the accuracy on single-digit utterances."""
    isolated = [h == r for r, h in zip(refs, hyps) if len(r.split()) == 1]
    return {
        "wer": round(wer(refs, hyps), 4),
        "ser": round(float(np.mean([h != r for r, h in zip(refs, hyps)])), 4),
        "isolated_accuracy": round(float(np.mean(isolated)), 4) if isolated else None,
    }


def accuracy(refs, hyps) -> float | None:
    """Share of utterances transcribed exactly (None: no utterances)."""
    if not refs:
        return None
    return round(float(np.mean([h == r for r, h in zip(refs, hyps)])), 4)


def source_sizes(corpus) -> dict[str, dict[str, int]]:
    """Utterances per split of each source (``info["source"]``), in order."""
    sizes = {}
    for split in ("train", "val", "test"):
        for u in getattr(corpus, split):
            label = u.info.get("source", corpus.source)
            counts = sizes.setdefault(label, {"train": 0, "val": 0, "test": 0})
            counts[split] += 1
    return sizes


def by_source(corpus, refs, hyb, gmm) -> dict[str, dict]:
    """Sizes, WER (hybrid and GMM-HMM) and accuracy of each source."""
    out = {}
    for label, sizes in source_sizes(corpus).items():
        idx = [i for i, u in enumerate(corpus.test) if u.info.get("source") == label]
        r = [refs[i] for i in idx]
        h = [hyb[i] for i in idx]
        out[label] = {
            **sizes,
            "wer": round(wer(r, h), 4) if r else None,
            "wer_gmm": round(wer(r, [gmm[i] for i in idx]), 4) if r else None,
            "accuracy": accuracy(r, h),
        }
    return out


def by_speaker(utts, refs, hyps, speakers) -> dict[str, float | None]:
    """Accuracy on the test utterances of each of ``speakers``."""
    out = {}
    for name in speakers:
        idx = [i for i, u in enumerate(utts) if u.speaker == name]
        out[name] = accuracy([refs[i] for i in idx], [hyps[i] for i in idx])
    return out


def _breakdown(utts, refs, hyb, gmm, key) -> list[list]:
    groups = collections.defaultdict(list)
    for i, u in enumerate(utts):
        groups[key(u)].append(i)
    rows = []
    for name in sorted(groups, key=str):
        idx = groups[name]
        r = [refs[i] for i in idx]
        rows.append(
            [
                name,
                len(idx),
                round(wer(r, [hyb[i] for i in idx]), 4),
                round(wer(r, [gmm[i] for i in idx]), 4),
            ]
        )
    return rows


def evaluate(rec, st, data, config, run_dir: Path) -> Evaluation:
    utts = data.corpus.test
    refs = [u.text for u in utts]
    hyb = [
        rec.recognize(tf.constant(u.samples))["transcript"].numpy().decode()
        for u in utts
    ]  # the export's own function
    gmm = gmm_transcripts(rec, st.gmm, st.features["test"])
    h, g = rates(refs, hyb), rates(refs, gmm)
    metrics = {
        **h,
        "wer_hybrid": h["wer"],
        "wer_gmm": g["wer"],
        "ser_gmm": g["ser"],
        "isolated_accuracy_gmm": g["isolated_accuracy"],
        "test_utterances": len(utts),
        "acoustic_states": st.gmm.n_states,
        "gmm_seconds": round(st.gmm_seconds, 2),
        "split": config.split,
    }
    held_out = held_out_speakers(config.split)
    if held_out is not None:
        metrics["held_out_speakers"] = list(held_out)
        metrics["speaker_accuracy"] = by_speaker(utts, refs, hyb, held_out)
        metrics["speaker_accuracy_gmm"] = by_speaker(utts, refs, gmm, held_out)
    sources = by_source(data.corpus, refs, hyb, gmm)
    if len(sources) > 1:
        metrics["sources"] = sources
    write_text_atomic(
        run_dir / "test_transcripts.tsv",
        "speaker\treference\thybrid\tgmm\n"
        + "".join(
            f"{u.speaker}\t{r}\t{a}\t{b}\n" for u, r, a, b in zip(utts, refs, hyb, gmm)
        ),
    )
    header = ["", "utterances", "WER hybrid", "WER GMM-HMM"]
    sections = [
        (
            "Results by voice",
            markdown_table(
                ["voice", *header[1:]],
                _breakdown(utts, refs, hyb, gmm, lambda u: u.speaker),
            ),
        ),
    ]
    if len(sources) > 1:
        sections.insert(
            0,
            (
                "Results by source",
                markdown_table(
                    ["source", "train", "val", "test", *header[2:], "accuracy"],
                    [[label, *row.values()] for label, row in sources.items()],
                ),
            ),
        )
    # The synthetic utterances' variant and SNR (with several sources, the
    # others' utterances are left out of these two tables).
    synthetic = [i for i, u in enumerate(utts) if "variant" in u.info]
    if synthetic:
        parts = [[x[i] for i in synthetic] for x in (utts, refs, hyb, gmm)]
        sections.append(
            (
                "Results by voice variant (synthetic utterances)",
                markdown_table(
                    ["variant", *header[1:]],
                    _breakdown(*parts, lambda u: u.info["variant"]),
                ),
            )
        )
        sections.append(
            (
                "Results by signal-to-noise ratio (synthetic utterances)",
                markdown_table(
                    ["SNR dB", *header[1:]],
                    _breakdown(*parts, lambda u: u.info["snr_db"] or "clean"),
                ),
            )
        )
    rows = [[r, a, b] for r, a, b in zip(refs, hyb, gmm)][:12]
    sections.append(
        (
            "Sample transcripts (test)",
            markdown_table(["reference", "hybrid", "GMM-HMM"], rows)
            + "\n\nAll of them: `test_transcripts.tsv`.",
        )
    )
    sections.append(
        (
            "Bad input (through the export's function)",
            markdown_table(["input", "transcript"], bad_inputs(rec, utts)),
        )
    )
    shown = max(utts, key=lambda u: len(u.words))
    plot = plot_alignment(rec, st, shown, run_dir / "alignment.png")
    sections.append(
        (
            "Spectrogram and Viterbi alignment",
            f"`alignment.png`: "
            f"`{shown.text}` ({shown.speaker}), log-mel spectrogram and "
            "the hybrid's Viterbi path through the decoding graph.",
        )
    )
    return Evaluation(metrics=metrics, sections=sections, plots=[plot])


def score_export(serve, utts, out_dir: Path, about: dict) -> dict:
    """Runs an exported recognizer (its serving signature) on ``utts``.

    Writes ``out_dir/metrics.json`` (``about``, utterances, WER, SER,
    accuracy, isolated accuracy, accuracy by speaker and by spoken digit,
    seconds), ``out_dir/transcripts.tsv`` and, when single-digit utterances
    are among them, ``out_dir/confusion_matrix.png`` (rows: the digit said,
    columns: the transcript, ``other`` for anything but one digit word).
    """
    from dltoolkit.training.plots import plot_confusion_matrix
    from dltoolkit.training.report import write_metrics

    out_dir.mkdir(parents=True, exist_ok=True)
    refs = [u.text for u in utts]
    start = time.perf_counter()
    hyps = [
        serve(**{WAVEFORM: tf.constant(u.samples)})["transcript"].numpy().decode()
        for u in tqdm(utts, desc="scoring", unit="utt", leave=False)
    ]
    seconds = time.perf_counter() - start
    speakers = sorted({u.speaker for u in utts})
    isolated = [i for i, r in enumerate(refs) if len(r.split()) == 1]
    words = sorted({refs[i] for i in isolated}, key=_word_order)
    metrics = {
        **about,
        "utterances": len(utts),
        **rates(refs, hyps),
        "accuracy": accuracy(refs, hyps),
        "speaker_accuracy": by_speaker(utts, refs, hyps, speakers),
        "digit_accuracy": {
            w: accuracy(*zip(*[(refs[i], hyps[i]) for i in isolated if refs[i] == w]))
            for w in words
        },
        "seconds": round(seconds, 2),
    }
    write_text_atomic(
        out_dir / "transcripts.tsv",
        "file\tspeaker\treference\ttranscript\n"
        + "".join(
            f"{u.info.get('file', '')}\t{u.speaker}\t{r}\t{h}\n"
            for u, r, h in zip(utts, refs, hyps)
        ),
    )
    if isolated:
        columns = [*words, "other"]
        matrix = np.zeros((len(words), len(columns)), np.int64)
        for i in isolated:
            h = hyps[i] if hyps[i] in words else "other"
            matrix[words.index(refs[i]), columns.index(h)] += 1
        square = np.zeros((len(columns), len(columns)), np.int64)
        square[: len(words)] = matrix
        plot_confusion_matrix(
            square,
            columns,
            out_dir / "confusion_matrix.png",
            title=f"single digits: accuracy {metrics['isolated_accuracy']:.3f}",
        )
    write_metrics(out_dir, metrics)
    return metrics


def _word_order(word: str) -> int:
    return DIGIT_WORDS.index(word) if word in DIGIT_WORDS else len(DIGIT_WORDS)


def bad_inputs(rec, utts) -> list[list[str]]:
    """Transcripts of empty, silent, clipped and noise-only input."""
    speech = max(utts, key=lambda u: len(u.words)).samples
    rng = np.random.default_rng(0)
    cases = [
        ("empty (0 samples)", np.zeros(0, np.float32)),
        ("1 s of digital silence", np.zeros(16000, np.float32)),
        (
            f"clipped x10: `{max(utts, key=lambda u: len(u.words)).text}`",
            np.clip(speech * 10, -1, 1),
        ),
        (
            "1 s of faint noise (-80 dBFS)",
            rng.normal(0, 1e-4, 16000).astype(np.float32),
        ),
        ("1 s of white noise", rng.normal(0, 0.1, 16000).astype(np.float32)),
    ]
    rows = []
    for name, x in cases:
        out = rec.recognize(tf.constant(x, tf.float32))["transcript"].numpy()
        rows.append([name, f"`{out.decode()}`"])
    return rows


def plot_alignment(rec, st, utt, path: Path) -> Path:
    """Log-mel spectrogram above the Viterbi path (acoustic state per frame)."""
    out = rec.recognize(tf.constant(utt.samples))
    states = out["frame_states"].numpy()
    spec = log_mel_spectrogram(utt.samples, st.feature_config).numpy()
    fig, axes = new_figure(2, 1, width=9.0, height=6.0)
    axes = np.ravel(axes)
    axes[0].imshow(spec.T, origin="lower", aspect="auto", cmap="magma")
    axes[0].set_ylabel("mel bin")
    axes[0].set_title(f"{utt.text}  ->  {out['transcript'].numpy().decode()}")
    axes[1].plot(states, drawstyle="steps-mid", lw=1)
    axes[1].set_xlim(0, len(spec))
    axes[1].set_xlabel("frame (10 ms)")
    axes[1].set_ylabel("acoustic state")
    gmm = st.gmm
    sil = gmm.silence_states
    words = np.where(states >= sil, (states - sil) // gmm.states_per_word, -1)
    start = 0
    for t in range(1, len(words) + 1):
        if t == len(words) or words[t] != words[start]:
            label = "sil" if words[start] < 0 else gmm.words[words[start]]
            for ax in axes:
                ax.axvline(start, color="white" if ax is axes[0] else "grey", lw=0.6)
            axes[1].text(
                (start + t) / 2,
                1.01,
                label,
                ha="center",
                fontsize=8,
                transform=axes[1].get_xaxis_transform(),
            )
            start = t
    return Path(save_figure(fig, path))
