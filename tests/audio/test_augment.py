"""Waveform augmentation: each transform does what it says, seeded, checked."""

import numpy as np
import pytest

from dltoolkit.audio import augment as A

RATE = 16000


def _tone(freq, seconds=0.5, rate=RATE):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x, rate=RATE):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spec) * rate / len(x)


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_speed_shortens_and_raises_a_tone():
    x = _tone(1000)
    y = A.speed_perturb(x, RATE, 1.1)
    assert y.dtype == np.float32
    assert len(y) == round(len(x) / 1.1)
    assert _peak_hz(y) == pytest.approx(1100, abs=5)
    slow = A.speed_perturb(x, RATE, 0.9)
    assert len(slow) == round(len(x) / 0.9)
    assert _peak_hz(slow) == pytest.approx(900, abs=5)


def test_pitch_shift_keeps_length_and_moves_the_tone():
    x = _tone(1000)
    y = A.pitch_shift(x, RATE, 2)
    assert len(y) == len(x) and y.dtype == np.float32
    assert _peak_hz(y) == pytest.approx(1000 * 2 ** (2 / 12), abs=10)
    assert _peak_hz(A.pitch_shift(x, RATE, -2)) == pytest.approx(
        1000 * 2 ** (-2 / 12), abs=10
    )


def test_time_stretch_keeps_the_tone():
    y = A.time_stretch(_tone(1000), RATE, 1.25)
    assert len(y) == round(8000 / 1.25)
    assert _peak_hz(y) == pytest.approx(1000, abs=10)


@pytest.mark.parametrize("alpha", [0.9, 1.1])
def test_vtlp_moves_a_tone_by_alpha_and_keeps_length(alpha):
    x = _tone(1000)
    y = A.vtlp(x, RATE, alpha)
    assert len(y) == len(x) and y.dtype == np.float32
    assert _peak_hz(y) == pytest.approx(1000 * alpha, abs=10)


def test_telephone_band_removes_3800_hz_and_keeps_1_khz():
    kept = A.band_limit(_tone(1000), RATE, "telephone")
    cut = A.band_limit(_tone(3800), RATE, "telephone")
    low = A.band_limit(_tone(150), RATE, "telephone")
    inner = slice(1000, -1000)  # away from the FIR's edge effects
    assert len(kept) == len(cut) == 8000
    assert _rms(kept[inner]) / _rms(_tone(1000)) == pytest.approx(1, abs=0.02)
    assert _rms(cut[inner]) < 0.01 * _rms(_tone(3800))
    assert _rms(low[inner]) < 0.01 * _rms(_tone(150))


def test_8k_band_is_a_4_khz_low_pass():
    inner = slice(1000, -1000)
    assert _rms(A.band_limit(_tone(3000), RATE, "8k")[inner]) == pytest.approx(
        _rms(_tone(3000)), rel=0.02
    )
    assert _rms(A.band_limit(_tone(5000), RATE, "8k")[inner]) < 0.01 * _rms(_tone(5000))


@pytest.mark.parametrize("color", A.NOISE_COLORS)
@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_noise_at_snr(color, snr):
    x = _tone(440)
    y = A.add_noise(x, RATE, snr, np.random.default_rng(0), color)
    measured = 10 * np.log10(_rms(x) ** 2 / _rms(y - x) ** 2)
    assert measured == pytest.approx(snr, abs=0.5)
    assert len(y) == len(x) and y.dtype == np.float32


def test_noise_colors_tilt_the_spectrum():
    rng = np.random.default_rng(1)
    low_share = {}
    for color in A.NOISE_COLORS:
        spec = np.abs(np.fft.rfft(A.colored_noise(RATE, color, rng))) ** 2
        low_share[color] = spec[: len(spec) // 8].sum() / spec.sum()
    assert low_share["white"] < low_share["pink"] < low_share["brown"]


def test_reverb_keeps_length_and_lengthens_the_decay():
    rng = np.random.default_rng(2)
    x = np.zeros(RATE, np.float32)
    x[:1600] = rng.standard_normal(1600).astype(np.float32) * 0.3  # 0.1 s burst
    y = A.reverberate(x, RATE, 0.5, np.random.default_rng(3))
    assert len(y) == len(x) and y.dtype == np.float32
    assert _rms(y) == pytest.approx(_rms(x), rel=1e-3)
    tail = slice(3200, 8000)  # 0.1 to 0.4 s after the burst ends
    assert _rms(x[tail]) == 0 and _rms(y[tail]) > 1e-3
    longer = A.reverberate(x, RATE, 1.0, np.random.default_rng(3))
    assert _rms(longer[tail]) > _rms(y[tail])


def test_gain_scales_rms():
    x = _tone(500)
    assert _rms(A.gain(x, RATE, 6)) == pytest.approx(_rms(x) * 10 ** (6 / 20))
    assert _rms(A.gain(x, RATE, -20)) == pytest.approx(_rms(x) / 10)


def test_random_augment_is_seeded_and_keeps_the_contract():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(RATE) * 0.1).astype(np.float32)
    outs = []
    for seed in range(12):
        a = A.random_augment(x, RATE, np.random.default_rng(seed), 0.8)
        b = A.random_augment(x, RATE, np.random.default_rng(seed), 0.8)
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32 and a.ndim == 1
        assert np.all(np.isfinite(a)) and np.max(np.abs(a)) <= 1
        assert 0.85 * len(x) <= len(a) <= 1.15 * len(x)
        outs.append(a)
    assert not all(np.array_equal(outs[0], o) for o in outs[1:])
    np.testing.assert_array_equal(A.random_augment(x, RATE, rng, 0.0), x)


def test_trim_silence_cuts_quiet_edges_at_the_threshold():
    """A 40 dB-down fricative-like lead, then a tone, then silence: a 50 dB
    threshold keeps the lead, 30 dB cuts it, and the margin adds back."""
    rng = np.random.default_rng(0)
    silence = np.zeros(1600, np.float32)  # 100 ms
    weak = (rng.standard_normal(800) * 0.005).astype(np.float32)  # 50 ms, -40 dB
    tone = _tone(500, 0.2)
    x = np.concatenate([silence, weak, tone, silence])
    kept = A.trim_silence(x, RATE, 50)
    assert len(kept) == len(weak) + len(tone)
    np.testing.assert_array_equal(kept, x[1600 : 1600 + len(kept)])
    cut = A.trim_silence(x, RATE, 30)
    assert len(cut) == len(tone)
    np.testing.assert_array_equal(cut, tone)
    margin = A.trim_silence(x, RATE, 30, margin_s=0.01)
    assert len(margin) == len(tone) + 2 * 160
    # Silent, empty and sub-frame waves come back whole.
    for wave in (np.zeros(500, np.float32), np.zeros(0, np.float32), tone[:100]):
        np.testing.assert_array_equal(A.trim_silence(wave, RATE, 30), wave)


def test_random_augment_trims_only_when_asked_and_keeps_other_draws():
    rng = np.random.default_rng(6)
    lead = np.zeros(3200, np.float32)
    x = np.concatenate([lead, (rng.standard_normal(RATE) * 0.1).astype("float32")])
    lengths = []
    for seed in range(20):
        plain = A.random_augment(x, RATE, np.random.default_rng(seed), 0.5)
        again = A.random_augment(x, RATE, np.random.default_rng(seed), 0.5, trim=0.0)
        np.testing.assert_array_equal(plain, again)  # trim=0 draws nothing
        always = A.random_augment(x, RATE, np.random.default_rng(seed), 0.5, trim=1)
        lengths.append((len(plain), len(always)))
    # Trimming removes the 200 ms lead every time, but for the margin (up to
    # 30 ms) and what a band filter or reverberation spread into it.
    for plain, trimmed in lengths:
        assert trimmed <= plain - 1900, (plain, trimmed)
    with pytest.raises(ValueError, match=r"trim must be in \[0, 1\]"):
        A.random_augment(x, RATE, rng, 0.5, trim=2)


def test_seeded_transforms_repeat():
    x = _tone(300)
    for fn in (
        lambda r: A.add_noise(x, RATE, 10, r, "pink"),
        lambda r: A.reverberate(x, RATE, 0.3, r),
    ):
        np.testing.assert_array_equal(
            fn(np.random.default_rng(7)), fn(np.random.default_rng(7))
        )


def test_empty_and_silent_waves():
    empty = np.zeros(0, np.float32)
    silent = np.zeros(4000, np.float32)
    rng = np.random.default_rng(0)
    assert len(A.speed_perturb(empty, RATE, 1.1)) == 0
    assert len(A.random_augment(empty, RATE, rng, 1.0)) == 0
    np.testing.assert_array_equal(A.add_noise(silent, RATE, 10, rng), silent)
    assert len(A.vtlp(silent[:100], RATE, 1.1)) == 100
    assert len(A.pitch_shift(silent[:100], RATE, 1)) == 100


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, r: A.speed_perturb(x, RATE, 3.0), "speed factor"),
        (lambda x, r: A.pitch_shift(x, RATE, 20), "semitones"),
        (lambda x, r: A.vtlp(x, RATE, 1.5), "vtlp alpha"),
        (lambda x, r: A.reverberate(x, RATE, 0, r), "rt60"),
        (lambda x, r: A.band_limit(x, RATE, "radio"), "band must be one of"),
        (lambda x, r: A.band_limit(x, 8000, "8k"), "sample rate above 8000"),
        (lambda x, r: A.add_noise(x, RATE, 10, r, "blue"), "noise color"),
        (lambda x, r: A.add_noise(x, RATE, 200, r), "snr_db"),
        (lambda x, r: A.gain(x, RATE, 90), "gain must be"),
        (lambda x, r: A.random_augment(x, RATE, r, 1.5), "strength"),
        (lambda x, r: A.gain(np.zeros((2, 3)), RATE, 1), "mono"),
        (lambda x, r: A.gain(x, 0, 1), "sample rate"),
    ],
)
def test_bad_parameters_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(_tone(200), np.random.default_rng(0))
