"""Spoken digit strings: the embedded synthetic corpus.

The embedded corpus speaks digit strings ("zero" ... "nine" and "oh", or
without "oh" as most recorded digit sets do), single
digits and connected strings of 2-7 digits, with eSpeak NG
(:mod:`dltoolkit.audio.espeak`) across voices (accent + voice variant),
speaking rates, pitches and word gaps, then adds white or pink noise at
several signal-to-noise ratios; a share of the training utterances may be
spoken by Flite instead (:mod:`dltoolkit.audio.flite`, voices made from
recordings of people). Voice variants are split between train,
validation and test, so both held-out splits are spoken by unseen voices.
Every utterance is drawn from its own seeded generator, so a corpus is the
same on every machine; it is cached under :func:`cache_dir` keyed by its
settings, and read back from there on later runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from dltoolkit.audio import espeak, flite
from dltoolkit.audio.wav import SAMPLE_RATE, resample
from dltoolkit.data.spoken_digits.core import (
    DIGIT_WORDS,
    SpokenDigits,
    Utterance,
    cache_dir,
)
from dltoolkit.errors import ConfigError, DataError

ACCENTS = (
    "en-us",
    "en",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
)
# Voice variants (eSpeak NG's "!v" files) per split: held-out splits hear
# speakers never seen in training.
VARIANTS = {
    "train": (
        "m1",
        "m2",
        "m4",
        "m6",
        "m7",
        "f1",
        "f3",
        "f4",
        "klatt",
        "klatt2",
        "klatt4",
    ),
    "val": ("m5", "f5", "klatt6"),
    "test": ("m3", "f2", "klatt3"),
}
# The "wide" voice set: every voice variant eSpeak NG 1.52 ships (but one
# whose name has a space) trains, but the held-out ones above; prosody is
# drawn from wider ranges (see PROSODY).
_HELD_OUT = {v for split in ("val", "test") for v in VARIANTS[split]}
WIDE_TRAIN = tuple(
    v
    for v in (
        "Alex Alicia Andrea Andy Annie AnxiousAndy Demonic Denis Diogo Gene "
        "Gene2 Henrique Hugo Jacky Lee Marco Mario Michael Mike Nguyen Reed "
        "RicishayMax RicishayMax2 RicishayMax3 Storm Tweaky UniRobot adam anika "
        "anikaRobot announcer antonio aunty belinda benjamin boris caleb croak "
        "david ed edward edward2 f1 f2 f3 f4 f5 fast grandma grandpa gustave ian "
        "iven iven2 iven3 iven4 john kaukovalta klatt klatt2 klatt3 klatt4 "
        "klatt5 klatt6 linda m1 m2 m3 m4 m5 m6 m7 m8 marcelo max michel miguel "
        "mike2 norbert pablo paul pedro quincy rob robert robosoft robosoft2 "
        "robosoft3 robosoft4 robosoft5 robosoft6 robosoft7 robosoft8 sandro "
        "shelby steph steph2 steph3 travis victor whisper whisperf zac"
    ).split()
    if v not in _HELD_OUT
)
VOICE_SETS = {
    "classic": VARIANTS,
    "wide": {"train": WIDE_TRAIN, "val": VARIANTS["val"], "test": VARIANTS["test"]},
}
# Ranges (low, high inclusive) of eSpeak's speaking rate (words per minute),
# pitch, pitch range (0-100) and word gap (10 ms units) per voice set.
PROSODY = {
    "classic": {
        "rate": (140, 210),
        "pitch": (25, 75),
        "pitch_range": (30, 80),
        "word_gap": (0, 3),
    },
    "wide": {
        "rate": (110, 240),
        "pitch": (10, 90),
        "pitch_range": (10, 90),
        "word_gap": (0, 8),
    },
}
# Silence before and after the speech, in seconds (uniform). The wide set
# starts at none, as recordings trimmed to the speech are (FSDD's are).
SILENCE_S = {"classic": (0.1, 0.4), "wide": (0.0, 0.4)}
SNRS_DB = (None, 30.0, 20.0, 15.0)  # None: clean
# Flite's prosody for the training utterances it speaks (``flite_share``):
# duration stretch (>1: slower), the intonation's mean pitch in Hz (slt is a
# woman's voice, the others men's) and its spread in Hz; uniform.
FLITE_PROSODY = {
    "duration_stretch": (0.75, 1.4),
    "f0_mean": {"male": (75.0, 150.0), "female": (140.0, 230.0)},
    "f0_stddev": (3.0, 35.0),
}
GENERATOR_VERSION = 2
_CHUNK = 200  # utterances per synthesis worker


# === Synthesis ===


# The words of a corpus without "oh" (``oh=False``), in DIGIT_WORDS order.
WITHOUT_OH = tuple(w for w in DIGIT_WORDS if w != "oh")


def _draw(
    rng,
    split: str,
    isolated_fraction: float,
    max_digits: int,
    voices="classic",
    flite_share=0.0,
    oh=True,
) -> dict:
    """The words and voice settings of one utterance (``flite``: Flite's
    voice and prosody when Flite speaks it; ``oh``: whether "oh" is one of
    the words drawn)."""
    if rng.random() < isolated_fraction:
        n = 1
    else:
        n = int(rng.integers(2, max_digits + 1))
    vocabulary = DIGIT_WORDS if oh else WITHOUT_OH
    words = [vocabulary[i] for i in rng.integers(0, len(vocabulary), n)]
    variants = VOICE_SETS[voices][split]
    prosody = PROSODY[voices]
    snr = SNRS_DB[int(rng.integers(0, len(SNRS_DB)))]
    spec = {
        "text": " ".join(words),
        "accent": ACCENTS[int(rng.integers(0, len(ACCENTS)))],
        "variant": variants[int(rng.integers(0, len(variants)))],
        **{k: int(rng.integers(lo, hi + 1)) for k, (lo, hi) in prosody.items()},
        "snr_db": snr,
        "noise": "white" if rng.random() < 0.5 else "pink",
        "lead_s": round(float(rng.uniform(*SILENCE_S[voices])), 3),
        "tail_s": round(float(rng.uniform(*SILENCE_S[voices])), 3),
        "gain": round(float(rng.uniform(0.2, 0.9)), 3),
    }
    # Drawn last, and only with a share, so corpora without Flite stay as
    # they were.
    if split == "train" and flite_share > 0 and rng.random() < flite_share:
        voice = flite.VOICES[int(rng.integers(0, len(flite.VOICES)))]
        stretch, f0_spread = (
            FLITE_PROSODY[k] for k in ("duration_stretch", "f0_stddev")
        )
        f0_mean = FLITE_PROSODY["f0_mean"]["female" if voice == "slt" else "male"]
        spec["flite"] = {
            "voice": voice,
            "duration_stretch": round(float(rng.uniform(*stretch)), 3),
            "f0_mean": round(float(rng.uniform(*f0_mean)), 1),
            "f0_stddev": round(float(rng.uniform(*f0_spread)), 1),
        }
    return spec


def _pink_noise(n: int, rng) -> np.ndarray:
    """1/f noise by shaping white noise's spectrum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    spectrum /= np.sqrt(np.maximum(freqs, 1.0))
    return np.fft.irfft(spectrum, n)


def _render(spec: dict, rng, pcm, source_rate: int) -> np.ndarray:
    """Adds silences and noise to the speech of ``spec``: float32 at 16 kHz."""
    speech = resample(pcm.astype(np.float32) / 32768.0, source_rate, SAMPLE_RATE)
    peak = float(np.max(np.abs(speech))) if len(speech) else 0.0
    if peak == 0.0:
        who = "Flite" if "flite" in spec else "eSpeak NG"
        raise DataError(f"{who} produced silence for {spec}")
    speech = speech / peak * spec["gain"]
    lead = np.zeros(int(spec["lead_s"] * SAMPLE_RATE), np.float32)
    tail = np.zeros(int(spec["tail_s"] * SAMPLE_RATE), np.float32)
    x = np.concatenate([lead, speech, tail]).astype(np.float64)
    power = float(np.mean(speech.astype(np.float64) ** 2))
    if spec["snr_db"] is None:
        noise = rng.standard_normal(len(x)) * 1e-4  # a faint floor, like a mic
    else:
        noise = (
            rng.standard_normal(len(x))
            if spec["noise"] == "white"
            else (_pink_noise(len(x), rng))
        )
        noise *= np.sqrt(power / 10 ** (spec["snr_db"] / 10) / np.mean(noise**2))
    return np.clip(x + noise, -1.0, 1.0).astype(np.float32)


def synthesize_split(
    split: str,
    size: int,
    *,
    seed: int = 0,
    isolated_fraction: float = 0.4,
    max_digits: int = 7,
    voices: str = "classic",
    flite_share: float = 0.0,
    oh: bool = True,
    progress: bool = False,
) -> list[Utterance]:
    """``size`` utterances of ``split``; utterance i depends on (seed, split, i),
    the voice set (``classic`` or ``wide``, :data:`VOICE_SETS`), the share
    of training utterances Flite speaks (``flite_share``; the speaker is then
    ``flite+VOICE``) and whether "oh" is a word (``oh``)."""
    if split not in VARIANTS:
        raise ConfigError(
            f"split must be one of {tuple(VARIANTS)}. Received: {split!r}"
        )
    check_voices(voices)
    split_id = tuple(VARIANTS).index(split)
    out = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=size, desc=f"synthesizing {split}", unit="utt", leave=False)
    for start in range(0, size, _CHUNK):
        items = range(start, min(size, start + _CHUNK))
        rngs = [
            np.random.default_rng([seed, split_id, i, GENERATOR_VERSION]) for i in items
        ]
        specs = [
            _draw(rng, split, isolated_fraction, max_digits, voices, flite_share, oh)
            for rng in rngs
        ]
        specs, sounds = _speak(specs)
        for rng, spec, (rate, pcm) in zip(rngs, specs, sounds):
            samples = _render(spec, rng, pcm, rate)
            info = {k: v for k, v in spec.items() if k != "text"}
            if "flite" in spec:
                speaker = f"flite+{spec['flite']['voice']}"
            else:
                speaker = f"{spec['accent']}+{spec['variant']}"
            out.append(Utterance(samples, spec["text"], speaker, info))
        if bar is not None:
            bar.update(len(items))
    if bar is not None:
        bar.close()
    return out


def _speak(specs: list[dict]) -> tuple[list[dict], list[tuple[int, np.ndarray]]]:
    """``(specs, [(sample rate, int16 samples)])``: eSpeak NG speaks the
    specs without ``flite`` in one worker (a spec it crashes on falls back,
    :func:`_fallback`), Flite the others."""
    by_espeak = [i for i, s in enumerate(specs) if "flite" not in s]
    specs, sounds = list(specs), [None] * len(specs)
    if by_espeak:
        rate, speech = espeak.synthesize_many(
            [_request(specs[i]) for i in by_espeak], failures="return"
        )
        for i, pcm in zip(by_espeak, speech):
            if isinstance(pcm, str):
                specs[i], pcm = _fallback(specs[i], pcm)
            sounds[i] = (rate, pcm)
    for i, spec in enumerate(specs):
        if "flite" in spec:
            sounds[i] = flite.get().synthesize(spec["text"], **spec["flite"])
    return specs, sounds


# Changes tried in turn when eSpeak NG crashes on a request (it does on rare
# settings: a low pitch with a wide range and long word gaps, for one).
FALLBACKS = ({"word_gap": 0}, {"word_gap": 0, "pitch_range": 50, "pitch": 50})


def _fallback(spec: dict, error: str) -> tuple[dict, np.ndarray]:
    """``spec`` with the first of :data:`FALLBACKS` eSpeak NG speaks, noted in
    ``spec["fallback"]``, and its samples (DataError when none works)."""
    for change in FALLBACKS:
        changed = {**spec, **change}
        _, (pcm,) = espeak.synthesize_many([_request(changed)], failures="return")
        if not isinstance(pcm, str):
            return {**changed, "fallback": change}, pcm
    raise DataError(f"{error}; and with every fallback {FALLBACKS}")


def check_voices(voices: str) -> None:
    """Refuses an unknown voice set (ConfigError naming the known ones)."""
    if voices not in VOICE_SETS:
        raise ConfigError(
            f"voices must be one of {tuple(VOICE_SETS)}. Received: voices={voices}"
        )


def _request(spec: dict) -> dict:
    return {
        "text": spec["text"],
        "voice": f"{spec['accent']}+{spec['variant']}",
        "rate": spec["rate"],
        "pitch": spec["pitch"],
        "pitch_range": spec["pitch_range"],
        "word_gap": spec["word_gap"],
    }


# === Cache ===


def _pcm16(samples: np.ndarray) -> np.ndarray:
    return np.round(samples * 32767).astype(np.int16)


def _as_pcm16(utterances: list[Utterance]) -> list[Utterance]:
    return [
        dataclasses.replace(u, samples=_pcm16(u.samples).astype(np.float32) / 32767.0)
        for u in utterances
    ]


def _save(path: Path, utterances: list[Utterance]) -> None:
    lengths = np.array([len(u.samples) for u in utterances], np.int64)
    pcm = (
        np.concatenate([_pcm16(u.samples) for u in utterances])
        if utterances
        else np.zeros(0, np.int16)
    )
    meta = [{"text": u.text, "speaker": u.speaker, "info": u.info} for u in utterances]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.npz")
    np.savez(tmp, pcm=pcm, lengths=lengths, meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)


def _load(path: Path) -> list[Utterance]:
    with np.load(path) as f:
        pcm, lengths, meta = f["pcm"], f["lengths"], json.loads(str(f["meta"]))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return [
        Utterance(
            pcm[s : s + n].astype(np.float32) / 32767.0,
            m["text"],
            m["speaker"],
            m["info"],
        )
        for s, n, m in zip(starts, lengths, meta)
    ]


def embedded_corpus(
    sizes: dict[str, int],
    *,
    seed: int = 0,
    isolated_fraction: float = 0.4,
    max_digits: int = 7,
    voices: str = "classic",
    flite_share: float = 0.0,
    oh: bool = True,
    cache: bool = True,
    progress: bool = True,
) -> SpokenDigits:
    """The synthetic corpus, from the cache when it was made before.

    Args:
        sizes: utterances per split, ``{"train": n, "val": n, "test": n}``.
        seed: the generation seed.
        isolated_fraction: share of single-digit utterances.
        max_digits: the longest string (2 to 7 digits otherwise).
        voices: the voice set: ``classic`` (18 voice variants, 11 of them
            training) or ``wide`` (every variant eSpeak NG ships, 97 training,
            wider ranges of rate, pitch and word gap, and silences around
            the speech from none, as in trimmed recordings).
        flite_share: the share of training utterances Flite speaks
            (:mod:`dltoolkit.audio.flite`: five voices made from recordings
            of people, prosody from :data:`FLITE_PROSODY`) instead of eSpeak
            NG; validation and test stay eSpeak's held-out voices.
        oh: whether the corpus says "oh" (for 0) beside "zero"; without it
            the vocabulary is "zero" ... "nine", as in FSDD, AudioMNIST and
            Speech Commands (TIDIGITS says both).
        cache: read and write the on-disk cache.
        progress: show a progress bar while synthesizing.
    """
    if not 1 <= max_digits <= 7 or not 0.0 <= isolated_fraction <= 1.0:
        raise ConfigError(
            "max_digits must be in 1..7 and isolated_fraction in [0, 1]. Received: "
            f"max_digits={max_digits}, isolated_fraction={isolated_fraction}"
        )
    check_voices(voices)
    if not 0.0 <= flite_share <= 1.0:
        raise ConfigError(f"flite_share must be in [0, 1]. Received: {flite_share}")
    flite_share = float(flite_share)  # 1 and 1.0 share a cache key
    if flite_share > 0:
        flite.check_available()
    splits = {}
    for split in ("train", "val", "test"):
        settings = {
            "split": split,
            "size": int(sizes[split]),
            "seed": seed,
            "isolated_fraction": isolated_fraction,
            "max_digits": max_digits,
            "variants": VOICE_SETS[voices][split],
            "accents": ACCENTS,
            "snrs": SNRS_DB,
            "generator": GENERATOR_VERSION,
        }
        if voices != "classic":  # classic corpora keep their cache keys
            settings["prosody"] = PROSODY[voices]
            settings["silence_s"] = SILENCE_S[voices]
        if flite_share > 0 and split == "train":  # held-out splits are shared
            settings["flite"] = [flite_share, flite.module_digest(), FLITE_PROSODY]
        if not oh:  # corpora with "oh" keep their cache keys
            settings["oh"] = False
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        path = cache_dir() / "spoken_digits" / f"{split}-{key[:16]}.npz"
        if cache and path.is_file():
            splits[split] = _load(path)
            continue
        # Rounded to 16-bit PCM as the cache stores it, so a fresh corpus and
        # a cached one hold the very same samples.
        splits[split] = _as_pcm16(
            synthesize_split(
                split,
                int(sizes[split]),
                seed=seed,
                isolated_fraction=isolated_fraction,
                max_digits=max_digits,
                voices=voices,
                flite_share=flite_share,
                oh=oh,
                progress=progress,
            )
        )
        if cache:
            _save(path, splits[split])
    return SpokenDigits(
        splits["train"],
        splits["val"],
        splits["test"],
        source=f"embedded: eSpeak NG synthesized digit strings (seed {seed}, "
        f"{voices} voices"
        + (f"; Flite speaks {flite_share:.0%} of training" if flite_share else "")
        + ("" if oh else '; no "oh"')
        + ")",
        splits=f"{len(VOICE_SETS[voices]['train'])} training voice variants; "
        "held out: val "
        + ", ".join(VARIANTS["val"])
        + "; test "
        + ", ".join(VARIANTS["test"]),
    )
