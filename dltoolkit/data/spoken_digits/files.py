"""Real spoken-digit data: the FSDD folder layout and TFDS datasets.

- Free Spoken Digit Dataset: WAV files named ``{digit}_{speaker}_{index}.wav``
  (8 kHz mono; any rate is resampled to 16 kHz). FSDD's own split puts
  recordings 0-4 of every digit and speaker in the test set; recordings 5-9
  here form the validation set, the rest train.
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
from dltoolkit.errors import DataError

FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$")
TFDS_RATES = {"spoken_digit": 8000, "speech_commands": 16000}


def _fsdd_split(index: int) -> str:
    return "test" if index < 5 else "val" if index < 10 else "train"


def load_fsdd_folder(path: os.PathLike) -> SpokenDigits:
    """Reads an FSDD ``recordings`` folder (see the module notes).

    Raises:
        DataError: the folder is missing, holds no ``{digit}_{speaker}_{index}.wav``
            file, or a file is not readable audio (named in the message).
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: no such folder (expected FSDD recordings)")
    splits = {"train": [], "val": [], "test": []}
    skipped = 0
    for file in sorted(path.iterdir()):
        match = FSDD_NAME.match(file.name)
        if not match:
            skipped += file.suffix.lower() == ".wav"
            continue
        digit, speaker, index = int(match[1]), match[2], int(match[3])
        audio = read_wav(file)
        info = {"file": file.name, "notes": audio.notes}
        splits[_fsdd_split(index)].append(
            Utterance(audio.samples, DIGIT_WORDS[digit], speaker, info)
        )
    if not any(splits.values()):
        raise DataError(
            f"{path}: no FSDD recordings named {{digit}}_{{speaker}}_{{index}}.wav"
        )
    note = f"; {skipped} other WAV files ignored" if skipped else ""
    return SpokenDigits(
        splits["train"],
        splits["val"],
        splits["test"],
        source=f"FSDD folder {path}{note}",
        splits="FSDD's: recordings 0-4 test, 5-9 validation, the rest train",
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
