"""Features against NumPy/SciPy references: log-mel, MFCC, deltas, CMVN."""

import numpy as np
import pytest
import scipy.fft
import tensorflow as tf

from dltoolkit.audio import (
    FeatureConfig,
    cmvn,
    compute_features,
    deltas,
    log_mel_spectrogram,
    mfcc,
    num_frames,
)


def _signal(n=4000, seed=0):
    return np.random.default_rng(seed).normal(0, 0.1, n).astype(np.float32)


def test_log_mel_equals_numpy_reference():
    config = FeatureConfig()
    x = _signal()
    ours = log_mel_spectrogram(x, config).numpy()
    emph = np.concatenate([x[:1], x[1:] - 0.97 * x[:-1]])
    n = num_frames(len(x), config)
    frames = np.stack([emph[i * 160 : i * 160 + 400] for i in range(n)])
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(400) / 400)  # periodic
    power = np.abs(np.fft.rfft(frames * window, 512)) ** 2
    mel = tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 7600.0).numpy()
    np.testing.assert_allclose(ours, np.log(power @ mel + 1e-6), atol=2e-3)
    assert ours.shape == (n, 40)


def test_mfcc_is_the_orthonormal_dct_of_log_mel():
    x = _signal()
    log_mel = log_mel_spectrogram(x).numpy()
    ref = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=-1)[:, :13]
    ref[:, 0] *= np.sqrt(2)  # TensorFlow leaves c0 unscaled by 1/sqrt(2)
    np.testing.assert_allclose(mfcc(x).numpy(), ref, rtol=1e-4, atol=1e-3)


def test_deltas_follow_the_regression_formula():
    c = np.random.default_rng(1).normal(size=(9, 3)).astype(np.float32)
    padded = np.concatenate([c[:1], c[:1], c, c[-1:], c[-1:]])
    ref = sum(n * (padded[2 + n : 11 + n] - padded[2 - n : 11 - n]) for n in (1, 2))
    np.testing.assert_allclose(deltas(c, 2).numpy(), ref / 10, atol=1e-6)
    ramp = np.arange(10, dtype=np.float32)[:, None] * 3.0
    np.testing.assert_allclose(deltas(ramp, 2).numpy()[2:-2], 3.0)


def test_cmvn_normalizes_and_zeroes_constant_dimensions():
    x = np.random.default_rng(2).normal(5, 3, (50, 4)).astype(np.float32)
    x[:, 3] = 7.0
    y = cmvn(x).numpy()
    np.testing.assert_allclose(y[:, :3].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y[:, :3].std(0), 1, atol=1e-4)
    assert np.all(y[:, 3] == 0)


def test_weighted_cmvn_takes_its_statistics_from_the_chosen_frames():
    x = np.random.default_rng(3).normal(5, 3, (60, 4)).astype(np.float32)
    w = np.arange(60) % 3 == 0
    y = cmvn(x, weights=w).numpy()
    chosen = x[w]
    want = (x - chosen.mean(0)) / chosen.std(0)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
    # No frame chosen: every frame's statistics.
    np.testing.assert_allclose(
        cmvn(x, weights=np.zeros(60, bool)).numpy(), cmvn(x).numpy(), atol=1e-6
    )


def test_speech_cmvn_ignores_the_silence_around_the_speech():
    """With the statistics from the speech frames, padding the speech with
    quiet noise barely moves its normalized frames; plain CMVN moves them."""
    rng = np.random.default_rng(4)
    t = np.arange(8000) / 16000
    speech = rng.normal(0, 0.05, 8000)
    for f in (300, 900, 2500):  # tones whose loudness changes over time
        speech += 0.2 * np.sin(2 * np.pi * f * t) * rng.uniform(0.2, 1, 1)
        speech *= 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 6) * t)
    speech = (0.5 * speech / np.abs(speech).max()).astype("float32")
    quiet = rng.normal(0, 1e-5, 4800).astype("float32")
    padded = np.concatenate([quiet, speech, quiet])
    offset = 4800 // 160  # frames of the leading pad (hop 10 ms)
    gaps = {}
    for db in (30.0, None):  # static MFCCs: deltas at the edges see the pads
        config = FeatureConfig(cmvn_speech_db=db, deltas=0)
        alone = compute_features(speech, config).numpy()
        within = compute_features(padded, config).numpy()[offset:]
        mid = slice(5, len(alone) - 5)  # frames the pads' windows never reach
        gaps[db] = np.abs(within[mid] - alone[mid]).mean()
    # Measured: 0.12 and 0.94 (the frames that straddle the speech's edges
    # join the speech's statistics when padded).
    assert gaps[30.0] < 0.2 < 0.5 < gaps[None], gaps
    assert gaps[30.0] < gaps[None] / 5, gaps
    with pytest.raises(ValueError, match="cmvn_speech_db must be > 0 or None"):
        FeatureConfig(cmvn_speech_db=0)


@pytest.mark.parametrize("kind, dim", [("mfcc", 39), ("logmel", 120)])
def test_compute_features_shapes_and_edge_cases(kind, dim):
    config = FeatureConfig(kind=kind)
    assert config.dim == dim
    assert compute_features(_signal(16000), config).shape == (98, dim)
    fn = tf.function(
        lambda w: compute_features(w, config),
        input_signature=[tf.TensorSpec([None], tf.float32)],
    )
    empty = fn(tf.zeros([0])).numpy()  # shorter than a window: one frame
    assert empty.shape == (1, dim) and np.all(np.isfinite(empty))
    silent = fn(tf.zeros([8000])).numpy()
    assert silent.shape == (num_frames(8000, config), dim)
    assert np.all(silent == 0)  # constant frames normalize to 0, not NaN
    loud = fn(tf.constant(np.clip(_signal(8000) * 50, -1, 1))).numpy()
    assert np.all(np.isfinite(loud))


def test_feature_config_names_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        FeatureConfig(kind="plp")
    with pytest.raises(ValueError, match="deltas must be 0, 1 or 2"):
        FeatureConfig(deltas=3)
    with pytest.raises(ValueError, match="num_ceps must be between 1 and"):
        FeatureConfig(num_ceps=41)
    with pytest.raises(ValueError, match="fft_length must be >="):
        FeatureConfig(fft_length=256)
