"""Waveform augmentation for speech: speed, pitch, VTLP, reverb, band, noise, gain.

Pure NumPy/SciPy. Every transform takes a float32 mono waveform and its
sample rate and returns float32 at the same rate. Only
:func:`speed_perturb` changes the length (by ``1 / factor``); every other
transform returns exactly ``len(wave)`` samples. Random transforms draw
from a ``numpy.random.Generator`` given by the caller, so a seeded
generator gives the same output every time. :func:`random_augment` chains a
random subset of them with random parameters, scaled by ``strength``.

Bad parameters raise ``ValueError`` naming the parameter and its value.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal

NOISE_COLORS = ("white", "pink", "brown")
BANDS = ("telephone", "8k")
_N_FFT = 512  # at 16 kHz: 32 ms frames
_HOP = 128


def _check_wave(wave, rate) -> np.ndarray:
    x = np.asarray(wave, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"wave must be mono (1-D). Received shape: {x.shape}")
    if not rate or rate <= 0:
        raise ValueError(f"rate must be a positive sample rate. Received: {rate}")
    return x


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` cut or zero-padded to ``n`` samples, as float32."""
    if len(x) >= n:
        return x[:n].astype(np.float32)
    return np.pad(x, (0, n - len(x))).astype(np.float32)


def _ratio(factor: float) -> tuple[int, int]:
    f = Fraction(float(factor)).limit_denominator(200)
    return f.numerator, f.denominator


# === Speed and pitch ===


def speed_perturb(wave, rate: int, factor: float) -> np.ndarray:
    """Plays ``wave`` ``factor`` times faster (Kaldi/ESPnet speed perturbation).

    Duration and pitch change together: the output has
    ``round(len(wave) / factor)`` samples at the same ``rate``, and a tone of
    frequency f comes out at ``factor * f``. ``factor`` is approximated by a
    fraction with denominator <= 200 (polyphase resampling).
    """
    x = _check_wave(wave, rate)
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"speed factor must be in [0.5, 2]. Received: {factor}")
    if len(x) == 0 or factor == 1:
        return x.copy()
    p, q = _ratio(factor)
    y = signal.resample_poly(x, q, p)  # n * q / p samples
    return _fit(y, int(round(len(x) / factor)))


def _stft(x):
    _, _, z = signal.stft(
        x, nperseg=_N_FFT, noverlap=_N_FFT - _HOP, window="hann", padded=True
    )
    return z  # (bins, frames)


def _istft(z, n):
    _, y = signal.istft(z, nperseg=_N_FFT, noverlap=_N_FFT - _HOP, window="hann")
    return _fit(y, n)


def _phase_advance(z):
    """Per-frame true phase increment of every bin (phase vocoder), (bins, T)."""
    bins = z.shape[0]
    expected = 2 * np.pi * _HOP * np.arange(bins) / _N_FFT
    phase = np.angle(z)
    d = np.diff(phase, axis=1, prepend=phase[:, :1]) - expected[:, None]
    d = (d + np.pi) % (2 * np.pi) - np.pi  # wrapped deviation
    return expected[:, None] + d


def time_stretch(wave, rate: int, factor: float) -> np.ndarray:
    """Phase-vocoder time stretch: ``factor`` times faster, pitch kept.

    The output has ``round(len(wave) / factor)`` samples (STFT frames read
    at ``factor`` frames per output frame, magnitudes interpolated, phases
    accumulated from each bin's true frequency).
    """
    x = _check_wave(wave, rate)
    if not 0.25 <= factor <= 4.0:
        raise ValueError(f"stretch factor must be in [0.25, 4]. Received: {factor}")
    n_out = int(round(len(x) / factor))
    if len(x) == 0 or factor == 1:
        return _fit(x, n_out)
    z = _stft(_fit(x, max(len(x), _N_FFT)))  # one frame at least
    advance = _phase_advance(z)
    z = np.concatenate([z, np.zeros_like(z[:, :1])], axis=1)
    steps = np.arange(0, z.shape[1] - 1, factor)
    i = np.floor(steps).astype(int)
    frac = (steps - i)[None]
    mag = (1 - frac) * np.abs(z[:, i]) + frac * np.abs(z[:, i + 1])
    adv = advance[:, np.minimum(i + 1, advance.shape[1] - 1)]
    phase = np.angle(z[:, :1]) + np.cumsum(
        np.concatenate([np.zeros_like(adv[:, :1]), adv[:, :-1]], axis=1), axis=1
    )
    return _istft(mag * np.exp(1j * phase), n_out)


def pitch_shift(wave, rate: int, semitones: float) -> np.ndarray:
    """Raises the pitch by ``semitones`` keeping the duration.

    Speed perturbation by ``2 ** (semitones / 12)`` (pitch and duration
    move together), then a phase-vocoder :func:`time_stretch` back to the
    original length. Formants move with the pitch (as in speed perturbation).
    """
    x = _check_wave(wave, rate)
    if not -12 <= semitones <= 12:
        raise ValueError(f"semitones must be in [-12, 12]. Received: {semitones}")
    if semitones == 0 or len(x) == 0:
        return x.copy()
    factor = 2.0 ** (semitones / 12)
    y = speed_perturb(x, rate, factor)
    return _fit(time_stretch(y, rate, 1 / factor), len(x))


def vtlp(wave, rate: int, alpha: float, boundary: float = 0.8) -> np.ndarray:
    """Vocal tract length perturbation: frequency axis warped by ``alpha``.

    Piecewise-linear warp (Jaitly & Hinton 2013): f -> alpha * f up to
    ``f0 = boundary * nyquist * min(1, 1 / alpha)``, then linear to the
    Nyquist frequency, applied to each STFT frame's magnitudes by
    interpolation between bins; phases are re-accumulated at the warped
    frequencies (phase vocoder), and the inverse STFT gives ``len(wave)``
    samples. A tone of f < f0 comes out at ``alpha * f``. Waves shorter
    than one STFT frame (512 samples) come back unchanged.
    """
    x = _check_wave(wave, rate)
    if not 0.7 <= alpha <= 1.3:
        raise ValueError(f"vtlp alpha must be in [0.7, 1.3]. Received: {alpha}")
    if not 0 < boundary < 1:
        raise ValueError(f"vtlp boundary must be in (0, 1). Received: {boundary}")
    if alpha == 1 or len(x) < _N_FFT:
        return x.copy()
    z = _stft(x)
    bins = z.shape[0]
    k = np.arange(bins, dtype=np.float64)
    nyq = bins - 1
    k0 = boundary * nyq * min(1.0, 1.0 / alpha)
    warped = np.where(
        k <= k0, alpha * k, alpha * k0 + (nyq - alpha * k0) * (k - k0) / (nyq - k0)
    )
    source = np.interp(k, warped, k)  # output bin k reads input bin source[k]
    lo = np.clip(np.floor(source).astype(int), 0, nyq)
    hi = np.minimum(lo + 1, nyq)
    frac = (source - lo)[:, None]
    mag = np.abs(z)
    out_mag = (1 - frac) * mag[lo] + frac * mag[hi]
    # Each output bin's phase advances at its source bin's true frequency,
    # scaled by the warp's local slope (k / source for the linear part).
    advance = _phase_advance(z)
    near = np.clip(np.rint(source).astype(int), 0, nyq)
    scale = np.where(source > 0, k / np.maximum(source, 1e-9), 1.0)[:, None]
    adv = advance[near] * scale
    phase = np.angle(z[near, :1]) + np.cumsum(
        np.concatenate([np.zeros_like(adv[:, :1]), adv[:, 1:]], axis=1), axis=1
    )
    return _istft(out_mag * np.exp(1j * phase), len(x))


# === Room, channel, noise, gain ===


def reverberate(wave, rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Convolution with a synthetic room impulse response of the given RT60.

    The response is Gaussian noise under an exponential envelope that falls
    60 dB in ``rt60`` seconds (length ``rt60`` seconds), with a unit direct
    path at time 0. The output keeps ``len(wave)`` samples (the tail past
    the end is cut) and the input's RMS.
    """
    x = _check_wave(wave, rate)
    if not 0 < rt60 <= 3:
        raise ValueError(f"rt60 must be in (0, 3] seconds. Received: {rt60}")
    if len(x) == 0:
        return x.copy()
    n = max(2, int(rt60 * rate))
    t = np.arange(n) / rate
    ir = rng.standard_normal(n) * np.exp(-3 * np.log(10) * t / rt60)
    ir[0] = 1.0
    ir /= np.sqrt(np.sum(ir**2))
    y = signal.fftconvolve(x.astype(np.float64), ir)[: len(x)]
    return _fit(y * _rms(x) / max(_rms(y), 1e-12), len(x))


def band_limit(wave, rate: int, band: str = "telephone") -> np.ndarray:
    """A channel's band: ``telephone`` (300-3400 Hz) or ``8k`` (< 4 kHz).

    Zero-phase linear-phase FIR (Hamming window, 32 ms of taps: about 100 Hz
    transitions and over 50 dB stopband attenuation at 16 kHz); ``8k`` is a
    low-pass at 4 kHz, i.e. what 8 kHz sampling keeps. Length and rate kept.
    """
    x = _check_wave(wave, rate)
    if band not in BANDS:
        raise ValueError(f"band must be one of {BANDS}. Received: {band!r}")
    edges = [300.0, 3400.0] if band == "telephone" else [4000.0]
    if edges[-1] >= rate / 2:
        raise ValueError(
            f"band {band!r} needs a sample rate above {2 * edges[-1]:g} Hz. "
            f"Received: rate={rate}"
        )
    if len(x) == 0:
        return x.copy()
    taps = int(0.032 * rate) | 1
    h = signal.firwin(taps, edges, pass_zero=band == "8k", fs=rate)
    return _fit(signal.fftconvolve(x, h, mode="same"), len(x))


def _rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def colored_noise(n: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise: ``white`` (flat), ``pink`` (1/f power), ``brown`` (1/f^2)."""
    if color not in NOISE_COLORS:
        raise ValueError(
            f"noise color must be one of {NOISE_COLORS}. Received: {color!r}"
        )
    white = rng.standard_normal(n)
    if color != "white" and n > 1:
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = f[1]  # no infinite DC
        spec /= f ** (0.5 if color == "pink" else 1.0)
        white = np.fft.irfft(spec, n)
    return white / max(_rms(white), 1e-12)


def add_noise(
    wave, rate: int, snr_db: float, rng: np.random.Generator, color: str = "white"
) -> np.ndarray:
    """Adds ``color`` noise at exactly ``snr_db`` (signal power over noise
    power over the whole waveform). A silent waveform comes back unchanged."""
    x = _check_wave(wave, rate)
    if not -20 <= snr_db <= 100:
        raise ValueError(f"snr_db must be in [-20, 100]. Received: {snr_db}")
    noise = colored_noise(len(x), color, rng)
    power = _rms(x)
    if power == 0:
        return x.copy()
    return (x + noise * power * 10 ** (-snr_db / 20)).astype(np.float32)


def gain(wave, rate: int, db: float) -> np.ndarray:
    """Scales by ``db`` decibels (not clipped)."""
    x = _check_wave(wave, rate)
    if not -40 <= db <= 40:
        raise ValueError(f"gain must be in [-40, 40] dB. Received: {db}")
    return (x * np.float32(10 ** (db / 20))).astype(np.float32)


# === Trimming ===


def trim_silence(
    wave, rate: int, threshold_db: float, margin_s: float = 0.0
) -> np.ndarray:
    """Cuts the start and end whose loudness stays ``threshold_db`` below the
    loudest 10 ms frame's, as recordings trimmed by a voice-activity
    threshold are (weak consonants at the edges go with the silence when
    the threshold is high); ``margin_s`` seconds around the kept part stay.

    The output is a contiguous part of ``wave`` (at least one 10 ms frame;
    the whole of a silent or shorter wave).
    """
    x = _check_wave(wave, rate)
    if not 0 < threshold_db <= 100:
        raise ValueError(f"threshold_db must be in (0, 100]. Received: {threshold_db}")
    if margin_s < 0:
        raise ValueError(f"margin_s must be >= 0. Received: {margin_s}")
    hop = max(1, int(round(0.01 * rate)))
    n = len(x) // hop
    if n < 1:
        return x.copy()
    rms = np.sqrt(np.mean(np.square(x[: n * hop].reshape(n, hop), dtype=np.float64), 1))
    if rms.max() == 0:
        return x.copy()
    (loud,) = np.nonzero(rms >= rms.max() * 10 ** (-threshold_db / 20))
    margin = int(round(margin_s * rate))
    start = max(0, loud[0] * hop - margin)
    end = min(len(x), (loud[-1] + 1) * hop + margin)
    return x[start:end].copy()


# === Random chains ===


def random_augment(
    wave, rate: int, rng: np.random.Generator, strength: float = 0.5, trim: float = 0.0
) -> np.ndarray:
    """A random chain of the transforms above, ``strength`` in (0, 1].

    Each transform is applied with probability ``strength`` (at least one
    is), in this order: speed (factor 1 +- 0.1 s) or pitch (+- 2 s
    semitones), VTLP (alpha 1 +- 0.1 s), reverberation (RT60 0.1 to
    0.1 + 0.7 s), band (telephone or 8k), noise (white/pink/brown, SNR from
    40 dB down to 40 - 30 s dB), gain (+- 6 s dB); ``s`` is ``strength``.
    With probability ``trim`` (drawn first, and only when ``trim`` > 0, so
    the other draws are those of ``trim=0``), the wave is also cut by
    :func:`trim_silence` after the band and before the noise, at a threshold
    from 10 to 40 dB below its loudest frame with a 0-30 ms margin. Speed
    and trimming change the length; the result is scaled down if its peak
    would pass 1. ``strength == 0`` returns a copy.
    """
    x = _check_wave(wave, rate)
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1]. Received: {strength}")
    if not 0 <= trim <= 1:
        raise ValueError(f"trim must be in [0, 1]. Received: {trim}")
    if strength == 0 or len(x) == 0:
        return x.copy()
    cut = None
    if trim > 0 and rng.random() < trim:
        cut = (rng.uniform(10, 40), rng.uniform(0, 0.03))
    s = strength
    names = ("tempo", "vtlp", "reverb", "band", "noise", "gain")
    chosen = {name for name in names if rng.random() < s}
    if not chosen:
        chosen = {names[rng.integers(len(names))]}
    y = x
    if "tempo" in chosen:
        if rng.random() < 0.5:
            y = speed_perturb(y, rate, 1 + rng.uniform(-0.1, 0.1) * s)
        else:
            y = pitch_shift(y, rate, rng.uniform(-2, 2) * s)
    if "vtlp" in chosen:
        y = vtlp(y, rate, 1 + rng.uniform(-0.1, 0.1) * s)
    if "reverb" in chosen:
        y = reverberate(y, rate, rng.uniform(0.1, 0.1 + 0.7 * s), rng)
    if "band" in chosen and rate > 8000:
        y = band_limit(y, rate, BANDS[rng.integers(len(BANDS))])
    if cut is not None:
        y = trim_silence(y, rate, *cut)
    if "noise" in chosen:
        snr = rng.uniform(40 - 30 * s, 40)
        y = add_noise(y, rate, snr, rng, NOISE_COLORS[rng.integers(3)])
    if "gain" in chosen:
        y = gain(y, rate, rng.uniform(-6, 6) * s)
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 1:
        y = y / peak
    return np.asarray(y, dtype=np.float32)
