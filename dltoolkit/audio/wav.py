"""WAV files in, 16 kHz mono float32 waveforms out.

:func:`read_wav` accepts PCM (8, 16, 24, 32-bit) and float WAV files with any
sample rate and channel count, through :mod:`scipy.io.wavfile`. The defined
behaviour on awkward files:

- stereo (or more channels): averaged to mono;
- another sample rate: resampled to ``rate`` (polyphase, :func:`resample`);
- a header that claims more data than the file holds: the samples present are
  read and a note says so; a header that claims less: only the declared
  samples are read (trailing bytes are not audio as far as the file says);
- clipped audio (samples at full scale): read as is; the note gives the
  clipped share. Float files with samples beyond [-1, 1] are clipped to it;
- empty files (no samples) and files that are not WAV: :class:`DataError`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings

import numpy as np

from dltoolkit.errors import DataError

SAMPLE_RATE = 16000


@dataclasses.dataclass
class Audio:
    """A decoded file: mono float32 samples in [-1, 1] at ``rate`` Hz.

    Attributes:
        samples: ``(n,)`` float32.
        rate: the sample rate of ``samples``.
        source_rate: the file's own sample rate.
        channels: the file's channel count.
        notes: what was done to the file (resampled, truncated header, clipping).
    """

    samples: np.ndarray
    rate: int
    source_rate: int
    channels: int
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def resample(samples, source_rate: int, target_rate: int) -> np.ndarray:
    """Resamples a 1-D signal by a rational factor (polyphase, Kaiser window).

    Args:
        samples: ``(n,)`` signal.
        source_rate: its sample rate in Hz.
        target_rate: the wanted rate in Hz.

    Returns:
        float32 ``(round(n * target_rate / source_rate),)``.
    """
    from scipy.signal import resample_poly

    for name, value in (("source_rate", source_rate), ("target_rate", target_rate)):
        if int(value) != value or value <= 0:
            raise ValueError(f"{name} must be a positive integer. Received: {value}")
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be 1-D. Received shape: {samples.shape}")
    if source_rate == target_rate or len(samples) == 0:
        return samples
    g = math.gcd(int(source_rate), int(target_rate))
    out = resample_poly(samples, int(target_rate) // g, int(source_rate) // g)
    return out.astype(np.float32)


def to_float(samples: np.ndarray) -> np.ndarray:
    """Integer PCM or float samples -> float32 in [-1, 1]."""
    if samples.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (samples.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(samples.dtype, np.integer):
        scale = float(np.iinfo(samples.dtype).max) + 1.0
        return (samples.astype(np.float64) / scale).astype(np.float32)
    out = samples.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise DataError("the audio holds NaN or infinite samples")
    return np.clip(out, -1.0, 1.0)


def clipped_fraction(samples: np.ndarray, threshold: float = 0.999) -> float:
    """The share of samples at or beyond ``threshold`` of full scale."""
    if len(samples) == 0:
        return 0.0
    return float(np.mean(np.abs(samples) >= threshold))


def read_wav(path: os.PathLike, *, rate: int = SAMPLE_RATE) -> Audio:
    """Reads a WAV file as mono float32 at ``rate`` Hz (see the module notes).

    Raises:
        DataError: the file is not a readable WAV file or holds no samples.
    """
    from scipy.io import wavfile

    path = os.fspath(path)
    notes = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            source_rate, data = wavfile.read(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (ValueError, OSError, EOFError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise DataError(f"{path}: not a readable WAV file ({first})") from None
    declared, present = _data_chunk_sizes(path)
    if declared > present or any("prematurely" in str(w.message) for w in caught):
        notes.append(
            f"header claims more data than the file holds ({declared} bytes, "
            f"{present} present); read the samples present"
        )
    channels = 1 if data.ndim == 1 else data.shape[1]
    if data.size == 0:
        raise DataError(f"{path}: the file holds no audio samples")
    samples = to_float(data)
    if channels > 1:
        samples = samples.mean(axis=1)
        notes.append(f"{channels} channels averaged to mono")
    clipped = clipped_fraction(samples)
    if clipped >= 0.001:
        notes.append(f"{clipped:.1%} of samples clipped")
    if source_rate != rate:
        samples = resample(samples, source_rate, rate)
        notes.append(f"resampled from {source_rate} Hz to {rate} Hz")
    return Audio(samples, rate, int(source_rate), channels, notes)


def _data_chunk_sizes(path: str) -> tuple[int, int]:
    """The ``data`` chunk's declared size and the bytes the file holds after it."""
    import struct

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(12)  # RIFF header
        while True:
            head = f.read(8)
            if len(head) < 8:
                return 0, 0
            chunk, length = head[:4], struct.unpack("<I", head[4:])[0]
            if chunk == b"data":
                return length, size - f.tell()
            f.seek(length + (length & 1), 1)


def write_wav(path: os.PathLike, samples, rate: int = SAMPLE_RATE) -> None:
    """Writes float samples in [-1, 1] as a 16-bit PCM WAV file."""
    from scipy.io import wavfile

    samples = np.asarray(samples, dtype=np.float32)
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    wavfile.write(os.fspath(path), int(rate), pcm)
