"""The ASR app's GMM-HMM stage: features, word HMMs, alignments, frame data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from dltoolkit.apps.asr.model import log_priors
from dltoolkit.audio.features import FeatureConfig, compute_features
from dltoolkit.data.spoken_digits import DIGIT_WORDS, GENERATOR_VERSION, cache_dir
from dltoolkit.errors import ConfigError
from dltoolkit.hmm.graph import BigramLM
from dltoolkit.hmm.word_models import WordHMMs, train_word_hmms
from dltoolkit.training.config import write_text_atomic

GMM_FILE = "gmm_hmm.npz"
# Bump when dltoolkit.audio.augment's output for a seed changes (cache keys).
AUGMENT_VERSION = 1


@dataclasses.dataclass
class AsrData:
    """The corpus, the LM, and the acoustic stages computed for configs."""

    corpus: object
    lm: BigramLM
    words: tuple[str, ...]
    stages: dict = dataclasses.field(default_factory=dict)
    features: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Stage:
    """What the GMM-HMM stage gives the hybrid: features, models, alignments."""

    feature_config: FeatureConfig
    features: dict  # split -> list of (T, D) arrays
    gmm: WordHMMs
    alignments: dict  # train / val -> list of (T,) acoustic states
    log_priors: np.ndarray
    gmm_seconds: float


def feature_config(config) -> FeatureConfig:
    """The FeatureConfig of an app config (ConfigError on bad values)."""
    try:
        return FeatureConfig(
            kind=config.features,
            num_mel_bins=config.num_mel_bins,
            num_ceps=config.num_ceps,
            deltas=config.deltas,
            upper_hz=config.upper_hz,
            cmvn_speech_db=config.cmvn_speech_db,
        )
    except ValueError as err:
        raise ConfigError(str(err)) from None


def features_of(data, fc: FeatureConfig) -> dict:
    """Features of every split for ``fc`` (computed once per data object)."""
    if fc not in data.features:
        fn = tf.function(
            lambda x: compute_features(x, fc),
            input_signature=[tf.TensorSpec([None], tf.float32)],
        )
        data.features[fc] = {
            split: [
                fn(u.samples).numpy()
                for u in tqdm(
                    getattr(data.corpus, split),
                    desc=f"features {split}",
                    unit="utt",
                    leave=False,
                )
            ]
            for split in ("train", "val", "test")
        }
    return data.features[fc]


def gmm_key(config, data) -> str:
    """The cache key of the GMM-HMM stage: corpus and acoustic settings."""
    fields = (
        "data",
        "train_size",
        "val_size",
        "test_size",
        "isolated_fraction",
        "seed",
        "features",
        "num_mel_bins",
        "num_ceps",
        "deltas",
        "states_per_word",
        "silence_states",
        "mixtures",
        "gmm_iterations",
    )
    spec = {f: getattr(config, f) for f in fields}
    if config.split != "index":  # so stages cached before the field keep keys
        spec["split"] = config.split
    if config.voices != "classic":  # likewise
        spec["voices"] = config.voices
    if config.flite > 0:  # likewise
        spec["flite"] = config.flite
    if not config.oh and "embedded" in (s.strip() for s in config.data.split(",")):
        spec["oh"] = False  # likewise; and folders alone keep theirs
    if config.cmvn_speech_db is not None:  # likewise
        spec["cmvn_speech_db"] = config.cmvn_speech_db
    if config.upper_hz != 7600.0:  # likewise
        spec["upper_hz"] = config.upper_hz
    if config.augment > 0 and config.augment_copies > 0:  # likewise
        spec["augment"] = config.augment
        spec["augment_copies"] = config.augment_copies
        spec["augment_version"] = AUGMENT_VERSION
        if config.augment_trim > 0:
            spec["augment_trim"] = config.augment_trim
    spec["source"] = data.corpus.source
    spec["generator"] = GENERATOR_VERSION
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def make_stage(config, data, run_dir: Path | None) -> Stage:
    """Features, the GMM-HMMs (trained, or read from the run dir or the cache),
    train and validation alignments, and state priors."""
    key = gmm_key(config, data)
    fc = feature_config(config)
    feats = features_of(data, fc)
    texts = [u.text for u in data.corpus.train]
    cached = cache_dir() / "asr" / f"gmm-{key}.npz"
    local = run_dir / GMM_FILE if run_dir else None
    path = next((p for p in (local, cached) if p and p.is_file()), None)
    if path is not None:
        gmm = WordHMMs.load(path)
        seconds = float(json.loads(path.with_suffix(".json").read_text())["seconds"])
    else:
        start = time.perf_counter()
        energy = [energy_of(f, fc) for f in feats["train"]]
        print(
            f"GMM-HMM: {len(texts)} utterances, {config.states_per_word} states "
            f"per word, up to {config.mixtures} mixtures",
            flush=True,
        )
        gmm, _ = train_word_hmms(
            feats["train"],
            texts,
            DIGIT_WORDS,
            states_per_word=config.states_per_word,
            silence_states=config.silence_states,
            mixtures=config.mixtures,
            iterations=config.gmm_iterations,
            seed=config.seed,
            energy=energy,
            progress=lambda s, ll: print(
                f"  Baum-Welch ({s}): log-likelihood {ll:,.0f}", flush=True
            ),
        )
        seconds = time.perf_counter() - start
    for p in (cached, local):
        if p is not None and p != path:
            _save_gmm(gmm, p, seconds)
    align = {
        "train": gmm.align(feats["train"], texts),
        "val": gmm.align(feats["val"], [u.text for u in data.corpus.val]),
    }
    priors = log_priors(align["train"], gmm.n_states)
    return Stage(fc, feats, gmm, align, priors, seconds)


def energy_of(features, fc: FeatureConfig) -> np.ndarray:
    """A loudness curve: c0 for MFCCs, the mean log-mel otherwise."""
    return features[:, 0] if fc.kind == "mfcc" else features[:, : fc.static_dim].mean(1)


def _save_gmm(gmm: WordHMMs, path: Path, seconds: float) -> None:
    """Writes the models and their seconds, each file through a temporary
    name of this process: a reader (another process sharing the cache) that
    finds the ``.npz`` finds its ``.json`` too, and never half a file."""
    record = json.dumps({"seconds": seconds}) + "\n"
    write_text_atomic(path.with_suffix(".json"), record)  # before the models
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    gmm.save(tmp)
    tmp.replace(path)


def frame_dataset(features, alignments, config, *, shuffle, static_dim=None):
    """Batches of (spliced frames, state) from every frame of every utterance.

    With ``config.freq_mask`` > 0 and ``static_dim`` given (the training
    split), each example has one band of up to ``freq_mask`` consecutive
    static coefficients (mel bins for log-mel) set to 0, the CMVN mean,
    in every frame of its window and at the same place in each block of
    deltas: SpecAugment's frequency masking (Park et al., 2019).
    """
    c = config.context
    padded, centres, labels, offset = [], [], [], 0
    for f, a in zip(features, alignments):
        padded.append(
            np.concatenate([np.repeat(f[:1], c, 0), f, np.repeat(f[-1:], c, 0)])
        )
        centres.append(offset + c + np.arange(len(f)))
        labels.append(a)
        offset += len(f) + 2 * c
    frames = tf.constant(np.concatenate(padded).astype(np.float32))
    window = tf.range(-c, c + 1)
    ds = tf.data.Dataset.from_tensor_slices(
        (
            np.concatenate(centres).astype(np.int32),
            np.concatenate(labels).astype(np.int32),
        )
    )
    if shuffle:
        ds = ds.shuffle(len(ds), seed=config.seed, reshuffle_each_iteration=True)
    ds = ds.batch(config.batch_size)
    ds = ds.map(
        lambda i, y: (tf.gather(frames, i[:, None] + window[None]), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if config.freq_mask and static_dim:
        dim = int(frames.shape[1])
        ds = ds.map(
            lambda x, y: (frequency_mask(x, config.freq_mask, static_dim, dim), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def frequency_mask(x, width: int, static_dim: int, dim: int):
    """``x`` (batch, frames, dim) with one random band of ``0..width`` static
    coefficients zeroed per example, repeated in each delta block."""
    batch = tf.shape(x)[0]
    widths = tf.random.uniform([batch], 0, width + 1, tf.int32)
    starts = tf.random.uniform([batch], 0, 1 << 30, tf.int32) % tf.maximum(
        static_dim - widths + 1, 1
    )
    k = tf.range(dim) % static_dim  # each feature's static coefficient
    inside = (k[None] >= starts[:, None]) & (k[None] < (starts + widths)[:, None])
    return x * tf.cast(~inside, x.dtype)[:, None, :]


def utterance_dataset(features, alignments, config, *, shuffle, static_dim=None):
    """Batches of ``config.utterance_batch`` whole utterances for a sequence
    network: ``(batch, T, D)`` features, ``(batch, T)`` states and
    ``(batch, T)`` frame weights.

    Utterances of similar length share a batch (sorted by length; when
    ``shuffle``, each length scaled by a random factor in [1, 1.1] first, so
    the batches differ from epoch to epoch, then the batch order shuffled).
    Shorter ones are padded by repeating their last frame and its state (the
    trailing silence goes on); padded frames weigh 0 in the loss, so they
    add no gradient (the loss is still divided by every frame of the batch,
    so ``loss`` and ``val_loss`` read up to about 10% low). With
    ``config.freq_mask`` and ``static_dim``, SpecAugment frequency masking as in
    :func:`frame_dataset`, one band per utterance.
    """
    lengths = np.array([len(f) for f in features])
    dim = int(features[0].shape[1])
    size = config.utterance_batch
    rng = np.random.default_rng(config.seed)

    def batches():
        key = lengths.astype(np.float64)
        if shuffle:
            key = key * rng.uniform(1.0, 1.1, len(key))
        order = np.argsort(key, kind="stable")
        groups = [order[i : i + size] for i in range(0, len(order), size)]
        if shuffle:
            rng.shuffle(groups)
        for group in groups:
            t = lengths[group].max()
            x = np.stack([_pad_edge(features[i], t) for i in group])
            y = np.stack([_pad_edge(alignments[i], t) for i in group])
            w = (np.arange(t)[None] < lengths[group][:, None]).astype(np.float32)
            yield x.astype(np.float32), y.astype(np.int32), w

    ds = tf.data.Dataset.from_generator(
        batches,
        output_signature=(
            tf.TensorSpec([None, None, dim], tf.float32),
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None, None], tf.float32),
        ),
    ).apply(tf.data.experimental.assert_cardinality(-(-len(lengths) // size)))
    if config.freq_mask and static_dim:
        ds = ds.map(
            lambda x, y, w: (frequency_mask(x, config.freq_mask, static_dim, dim), y, w)
        )
    return ds.prefetch(2)


def _pad_edge(x: np.ndarray, length: int) -> np.ndarray:
    """``x`` extended to ``length`` along axis 0 by repeating its last row."""
    return np.concatenate([x, np.repeat(x[-1:], length - len(x), 0)])
