"""Speech features in TensorFlow: log-mel, MFCC, deltas, CMVN.

Every function is made of TensorFlow ops on one utterance, so the same code
computes training features and runs inside an exported SavedModel.

References:
    Davis, S. and Mermelstein, P. (1980). Comparison of parametric
    representations for monosyllabic word recognition. IEEE TASSP 28(4).
    Young, S. et al. The HTK Book, sec. 5.6 (delta coefficients).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from dltoolkit.audio.wav import SAMPLE_RATE

KINDS = ("mfcc", "logmel")


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """How waveforms become feature frames.

    Attributes:
        kind: ``"mfcc"`` (cepstra of the log-mel spectrum) or ``"logmel"``.
        num_mel_bins: mel filters.
        num_ceps: MFCCs kept (c0 included), for ``kind="mfcc"``.
        deltas: 0 (static only), 1 (+ deltas) or 2 (+ delta-deltas).
        delta_window: the regression half-window N of the deltas.
        cmvn: normalize each utterance to zero mean and unit variance.
        cmvn_speech_db: with a value, the mean and variance come from the
            frames whose energy is within this many dB of the utterance's
            loudest frame (its speech), so how much silence surrounds the
            speech no longer moves the normalized features; None: all frames.
        frame_ms, hop_ms: analysis window and frame shift.
        fft_length: FFT size (>= the window in samples).
        preemphasis: first-order pre-emphasis coefficient (0: none).
        lower_hz, upper_hz: the mel filterbank's range.
        sample_rate: waveform rate in Hz.
    """

    kind: str = "mfcc"
    num_mel_bins: int = 40
    num_ceps: int = 13
    deltas: int = 2
    delta_window: int = 2
    cmvn: bool = True
    cmvn_speech_db: float | None = None
    frame_ms: float = 25.0
    hop_ms: float = 10.0
    fft_length: int = 512
    preemphasis: float = 0.97
    lower_hz: float = 20.0
    upper_hz: float = 7600.0
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}. Received: {self.kind!r}")
        if self.deltas not in (0, 1, 2):
            raise ValueError(f"deltas must be 0, 1 or 2. Received: {self.deltas}")
        if self.kind == "mfcc" and not 1 <= self.num_ceps <= self.num_mel_bins:
            raise ValueError(
                "num_ceps must be between 1 and num_mel_bins "
                f"({self.num_mel_bins}). Received: {self.num_ceps}"
            )
        if self.cmvn_speech_db is not None and not self.cmvn_speech_db > 0:
            raise ValueError(
                f"cmvn_speech_db must be > 0 or None. Received: {self.cmvn_speech_db}"
            )
        if not 0 <= self.lower_hz < self.upper_hz <= self.sample_rate / 2:
            raise ValueError(
                "the mel range needs 0 <= lower_hz < upper_hz <= "
                f"{self.sample_rate / 2:g} (half the sample rate). Received: "
                f"lower_hz={self.lower_hz}, upper_hz={self.upper_hz}"
            )
        if self.frame_samples > self.fft_length:
            raise ValueError(
                f"fft_length must be >= the window ({self.frame_samples} samples). "
                f"Received: {self.fft_length}"
            )

    @property
    def frame_samples(self) -> int:
        return int(round(self.sample_rate * self.frame_ms / 1000))

    @property
    def hop_samples(self) -> int:
        return int(round(self.sample_rate * self.hop_ms / 1000))

    @property
    def static_dim(self) -> int:
        return self.num_ceps if self.kind == "mfcc" else self.num_mel_bins

    @property
    def dim(self) -> int:
        """Feature size per frame."""
        return self.static_dim * (1 + self.deltas)


def _frames_ready(waveform, config: FeatureConfig):
    """Pre-emphasis, then zero padding up to one window (empty input: 1 frame)."""
    x = tf.convert_to_tensor(waveform, tf.float32)
    x = tf.reshape(x, [-1])
    if config.preemphasis:
        x = tf.concat([x[:1], x[1:] - config.preemphasis * x[:-1]], axis=0)
    short = tf.maximum(config.frame_samples - tf.shape(x)[0], 0)
    return tf.pad(x, [[0, short]])


def log_mel_spectrogram(waveform, config: FeatureConfig = FeatureConfig()):
    """``log(mel power spectrum + 1e-6)``: ``(frames, num_mel_bins)``."""
    x = _frames_ready(waveform, config)
    stft = tf.signal.stft(
        x,
        frame_length=config.frame_samples,
        frame_step=config.hop_samples,
        fft_length=config.fft_length,
        window_fn=tf.signal.hamming_window,
    )
    power = tf.math.square(tf.abs(stft))  # (frames, fft_length // 2 + 1)
    mel = tf.signal.linear_to_mel_weight_matrix(
        config.num_mel_bins,
        config.fft_length // 2 + 1,
        config.sample_rate,
        config.lower_hz,
        config.upper_hz,
    )
    return tf.math.log(tf.matmul(power, mel) + 1e-6)


def mfcc(waveform, config: FeatureConfig = FeatureConfig()):
    """Mel-frequency cepstral coefficients: ``(frames, num_ceps)``."""
    return _cepstra(log_mel_spectrogram(waveform, config), config)


def _cepstra(log_mel, config: FeatureConfig):
    return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[:, : config.num_ceps]


def deltas(features, window: int = 2):
    """Regression deltas ``sum_n n (c[t+n] - c[t-n]) / (2 sum_n n^2)``.

    Edges repeat the first and last frames (HTK's convention).

    Args:
        features: ``(frames, dim)``.
        window: the half-window N.

    Returns:
        ``(frames, dim)``.
    """
    features = tf.convert_to_tensor(features)
    padded = tf.concat(
        [
            tf.repeat(features[:1], window, 0),
            features,
            tf.repeat(features[-1:], window, 0),
        ],
        axis=0,
    )
    t = tf.shape(features)[0]
    total = tf.zeros_like(features)
    for n in range(1, window + 1):
        ahead = padded[window + n : window + n + t]
        behind = padded[window - n : window - n + t]
        total += float(n) * (ahead - behind)
    return total / float(2 * sum(n * n for n in range(1, window + 1)))


def cmvn(features, epsilon: float = 1e-8, weights=None):
    """Cepstral mean and variance normalization over one utterance's frames.

    Constant dimensions (silence) become 0 rather than dividing by zero.
    ``weights`` (frames,), 0 or 1, picks the frames the statistics come from
    (all when None or when it picks none); every frame is normalized.
    """
    if weights is None:
        mean, var = tf.nn.moments(features, axes=[0], keepdims=True)
    else:
        w = tf.cast(weights, features.dtype)
        w = tf.where(tf.reduce_sum(w) > 0, w, tf.ones_like(w))[:, None]
        total = tf.reduce_sum(w)
        mean = tf.reduce_sum(w * features, axis=0, keepdims=True) / total
        var = tf.reduce_sum(w * tf.square(features - mean), 0, keepdims=True) / total
    return (
        (features - mean)
        * tf.math.rsqrt(var + epsilon)
        * tf.cast(var > epsilon, features.dtype)
    )


def compute_features(waveform, config: FeatureConfig = FeatureConfig()):
    """Waveform ``(samples,)`` at ``config.sample_rate`` -> ``(frames, dim)``.

    Static features, then deltas (and delta-deltas), then CMVN. A waveform
    shorter than one window is zero-padded to one frame.
    """
    log_mel = log_mel_spectrogram(waveform, config)
    static = _cepstra(log_mel, config) if config.kind == "mfcc" else log_mel
    parts = [static]
    for _ in range(config.deltas):
        parts.append(deltas(parts[-1], config.delta_window))
    features = tf.concat(parts, axis=-1)
    if not config.cmvn:
        return features
    if config.cmvn_speech_db is None:
        return cmvn(features)
    return cmvn(features, weights=speech_frames(log_mel, config.cmvn_speech_db))


def speech_frames(log_mel, within_db: float):
    """``(frames,)`` bool: frames whose mel power is within ``within_db`` dB
    of the loudest frame's."""
    energy = tf.reduce_logsumexp(log_mel, axis=-1)  # natural log of power
    db = (energy - tf.reduce_max(energy)) * (10.0 / 2.302585092994046)
    return db >= -within_db


def num_frames(num_samples: int, config: FeatureConfig = FeatureConfig()) -> int:
    """Frames :func:`compute_features` returns for ``num_samples`` samples."""
    n = max(num_samples, config.frame_samples)
    return 1 + (n - config.frame_samples) // config.hop_samples
