"""Audio: WAV reading, resampling, speech features (log-mel, MFCC, CMVN) and
offline speech synthesis with eSpeak NG (:mod:`dltoolkit.audio.espeak`).

The feature functions (:mod:`dltoolkit.audio.features`) are imported on first
use: they need TensorFlow, and the eSpeak worker process
(``python -m dltoolkit.audio.espeak``, which imports this package first) must
start without it.
"""

from dltoolkit.audio.wav import (
    SAMPLE_RATE,
    Audio,
    clipped_fraction,
    read_wav,
    resample,
    to_float,
    write_wav,
)

_FEATURES = (
    "FeatureConfig",
    "cmvn",
    "compute_features",
    "deltas",
    "log_mel_spectrogram",
    "mfcc",
    "num_frames",
)


def __getattr__(name):
    if name in _FEATURES:
        # Lazy: features imports TensorFlow (seconds; threads the forking
        # eSpeak worker must not have).
        from dltoolkit.audio import features

        return getattr(features, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_FEATURES])


__all__ = [
    "SAMPLE_RATE",
    "Audio",
    "FeatureConfig",
    "clipped_fraction",
    "cmvn",
    "compute_features",
    "deltas",
    "log_mel_spectrogram",
    "mfcc",
    "num_frames",
    "read_wav",
    "resample",
    "to_float",
    "write_wav",
]
