"""Audio: WAV reading, resampling and speech features (log-mel, MFCC, CMVN)."""

from dltoolkit.audio.features import (
    FeatureConfig,
    cmvn,
    compute_features,
    deltas,
    log_mel_spectrogram,
    mfcc,
    num_frames,
)
from dltoolkit.audio.wav import (
    SAMPLE_RATE,
    Audio,
    clipped_fraction,
    read_wav,
    resample,
    to_float,
    write_wav,
)

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
