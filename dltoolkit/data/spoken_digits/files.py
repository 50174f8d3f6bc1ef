"""Real spoken-digit data: the FSDD folder layout and TFDS datasets.

- Free Spoken Digit Dataset: WAV files named ``{digit}_{speaker}_{index}.wav``
  (8 kHz mono; any rate is resampled to 16 kHz). FSDD's own split (``index``)
  puts recordings 0-4 of every digit and speaker in the test set; recordings
  5-9 here form the validation set, the rest train. The speaker split
  (``speaker:NAME[+NAME]``) holds out whole speakers as the test set, which
  measures what the index split cannot (every test speaker is also heard in
  training there); validation is then recordings 5-9 of the other speakers,
  and their recordings 0-4 train.
- TFDS ``spoken_digit`` (FSDD itself; split by the file name's index as above)
  and ``speech_commands`` (its ``train`` / ``validation`` / ``test`` splits,
  keeping the examples whose label is a digit word), read from the TFDS data
  dir; nothing is downloaded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from dltoolkit.audio.wav import SAMPLE_RATE, read_wav, resample, to_float
from dltoolkit.data.spoken_digits.core import DIGIT_WORDS, SpokenDigits, Utterance
from dltoolkit.data.tfds_source import tfds_data_dir, tfds_required
from dltoolkit.errors import ConfigError, DataError

FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$")
FSDD_SPEAKER = re.compile(r"^[A-Za-z0-9-]+$")  # the speaker part of FSDD_NAME
TFDS_RATES = {"spoken_digit": 8000, "speech_commands": 16000}
SPLIT_FORMS = "index or speaker:NAME[+NAME...]"


def _fsdd_split(index: int) -> str:
    return "test" if index < 5 else "val" if index < 10 else "train"


def _speaker_split(index: int, speaker: str, held_out) -> str:
    """The split of one recording: ``held_out`` None is FSDD's index split."""
    if held_out is None:
        return _fsdd_split(index)
    if speaker in held_out:
        return "test"
    return "val" if 5 <= index < 10 else "train"


def held_out_speakers(split: str) -> tuple[str, ...] | None:
    """The speakers a ``split`` setting holds out: None for ``index``.

    Raises:
        ConfigError: neither ``index`` nor ``speaker:NAME[+NAME...]``, an empty
            or badly formed name, or a name given twice.
    """
    if split == "index":
        return None
    prefix, _, names = split.partition(":")
    speakers = tuple(names.split("+")) if prefix == "speaker" else ()
    if not speakers or not all(FSDD_SPEAKER.match(s) for s in speakers):
        raise ConfigError(f"split must be {SPLIT_FORMS}. Received: split={split}")
    if len(set(speakers)) < len(speakers):
        raise ConfigError(f"split names a speaker twice. Received: split={split}")
    return speakers


def check_held_out(held_out, known, where: str) -> None:
    """Refuses held-out speakers that ``known`` (the data's speakers) lacks.

    Raises:
        ConfigError: naming the unknown speakers and listing the known ones.
    """
    unknown = [s for s in held_out if s not in known]
    if unknown:
        raise ConfigError(
            f"split: unknown speaker {', '.join(unknown)} in {where}. Known "
            f"speakers: {', '.join(sorted(known))}."
        )
    if set(known) <= set(held_out):
        raise ConfigError(
            f"split: holding out every speaker of {where} leaves nothing to "
            f"train on. Known speakers: {', '.join(sorted(known))}."
        )


def _fsdd_files(path: Path) -> tuple[list, int]:
    """``[(file, match)]`` of the FSDD-named files, and how many other WAVs."""
    if not path.is_dir():
        raise DataError(f"{path}: no such folder (expected FSDD recordings)")
    files, skipped = [], 0
    for file in sorted(path.iterdir()):
        match = FSDD_NAME.match(file.name)
        if match:
            files.append((file, match))
        else:
            skipped += file.suffix.lower() == ".wav"
    if not files:
        raise DataError(
            f"{path}: no FSDD recordings named {{digit}}_{{speaker}}_{{index}}.wav"
        )
    return files, skipped


def fsdd_speakers(path: os.PathLike) -> set[str]:
    """The speakers of an FSDD folder, from the file names alone (no audio is
    read, so a bad split is refused before the slow part).

    Raises:
        DataError: as :func:`load_fsdd_folder`, for a missing or empty folder.
    """
    return {match[2] for _, match in _fsdd_files(Path(path))[0]}


def load_fsdd_folder(path: os.PathLike, held_out=None) -> SpokenDigits:
    """Reads an FSDD ``recordings`` folder (see the module notes).

    Args:
        path: the folder.
        held_out: None for FSDD's index split, or the speakers held out as the
            test set (:func:`held_out_speakers`); a name absent here holds
            nothing out of this folder (several folders may share a split).

    Raises:
        DataError: the folder is missing, holds no ``{digit}_{speaker}_{index}.wav``
            file, or a file is not readable audio (named in the message).
    """
    path = Path(path)
    files, skipped = _fsdd_files(path)
    splits = {"train": [], "val": [], "test": []}
    for file, match in files:
        digit, speaker, index = int(match[1]), match[2], int(match[3])
        audio = read_wav(file)
        info = {"file": file.name, "notes": audio.notes}
        splits[_speaker_split(index, speaker, held_out)].append(
            Utterance(audio.samples, DIGIT_WORDS[digit], speaker, info)
        )
    note = f"; {skipped} other WAV files ignored" if skipped else ""
    if held_out is None:
        described = "FSDD's: recordings 0-4 test, 5-9 validation, the rest train"
    else:
        described = (
            f"speakers held out as the test set: {', '.join(held_out)}; the "
            "others' recordings 5-9 validation, the rest train"
        )
    return SpokenDigits(
        splits["train"],
        splits["val"],
        splits["test"],
        source=f"FSDD folder {path}{note}",
        splits=described,
    )


def load_tfds_digits(name: str, data_dir: str | None = None) -> SpokenDigits:
    """TFDS ``spoken_digit`` or ``speech_commands`` from the data dir.

    Raises:
        DataError: the dataset is unknown here or not prepared in the data dir,
            or it has no digit labels.
    """

    if name not in TFDS_RATES:
        raise DataError(
            f"Unknown spoken-digit TFDS dataset {name!r}. Known: "
            f"{', '.join(TFDS_RATES)}."
        )
    with tfds_required(name, data_dir) as tfds:
        builder = tfds.builder(name, data_dir=data_dir)
        info = builder.info
        split_names = (
            ["train"] if name == "spoken_digit" else ["train", "validation", "test"]
        )
        datasets = tfds.load(name, split=split_names, data_dir=data_dir, download=False)
    labels = info.features["label"].names
    digit_of = {i: n for i, n in enumerate(labels) if n in DIGIT_WORDS}
    if name == "spoken_digit":
        digit_of = {i: DIGIT_WORDS[int(n)] for i, n in enumerate(labels)}
    if not digit_of:
        raise DataError(
            f"TFDS {name!r} has no digit labels (its labels: {', '.join(labels)})"
        )
    rate = TFDS_RATES[name]
    splits = {"train": [], "val": [], "test": []}
    for split_name, ds in zip(split_names, datasets):
        for i, ex in enumerate(tfds.as_numpy(ds)):
            label = int(ex["label"])
            if label not in digit_of:
                continue
            samples = to_float(np.asarray(ex["audio"]).astype(np.int16))
            samples = resample(samples, rate, SAMPLE_RATE)
            if name == "spoken_digit":
                filename = ex.get("audio/filename", b"").decode()
                match = FSDD_NAME.match(os.path.basename(filename))
                speaker = match[2] if match else "unknown"
                split = _fsdd_split(int(match[3])) if match else "train"
            else:
                speaker = "unknown"
                split = {"validation": "val"}.get(split_name, split_name)
            splits[split].append(
                Utterance(samples, digit_of[label], speaker, {"index": i})
            )
    return SpokenDigits(
        splits["train"],
        splits["val"],
        splits["test"],
        source=f"TFDS {name} ({tfds_data_dir(data_dir)})",
        splits="FSDD's by file index" if name == "spoken_digit" else "the dataset's",
    )
