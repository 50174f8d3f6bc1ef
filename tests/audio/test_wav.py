"""WAV reading: formats, channels, rates, clipping, lying headers, bad files."""

import io
import struct

import numpy as np
import pytest
from scipy.io import wavfile

from dltoolkit.audio import read_wav, resample, to_float, write_wav
from dltoolkit.errors import DataError


def _tone(rate, seconds=0.5, freq=440.0, amp=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_int16_mono_round_trip(tmp_path):
    x = _tone(16000)
    write_wav(tmp_path / "a.wav", x)
    audio = read_wav(tmp_path / "a.wav")
    assert audio.rate == 16000 and audio.channels == 1 and audio.notes == []
    np.testing.assert_allclose(audio.samples, x, atol=1 / 32000)


def test_stereo_is_averaged_to_mono(tmp_path):
    left, right = _tone(16000, amp=0.4), np.zeros(8000, np.float32)
    pcm = (np.stack([left, right], axis=1) * 32767).astype(np.int16)
    wavfile.write(tmp_path / "s.wav", 16000, pcm)
    audio = read_wav(tmp_path / "s.wav")
    assert audio.channels == 2 and audio.samples.shape == (8000,)
    np.testing.assert_allclose(audio.samples, left / 2, atol=1e-4)
    assert "2 channels averaged to mono" in audio.notes


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_other_rates_are_resampled_keeping_the_pitch(tmp_path, rate):
    write_wav(tmp_path / "r.wav", _tone(rate, seconds=1.0), rate)
    audio = read_wav(tmp_path / "r.wav")
    assert audio.source_rate == rate and audio.rate == 16000
    assert len(audio.samples) == 16000
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second
    assert f"resampled from {rate} Hz to 16000 Hz" in audio.notes


def test_uint8_and_float_files(tmp_path):
    wavfile.write(tmp_path / "u8.wav", 16000, np.array([0, 128, 255], np.uint8))
    np.testing.assert_allclose(
        read_wav(tmp_path / "u8.wav").samples, [-1.0, 0.0, 127 / 128]
    )
    wavfile.write(tmp_path / "f.wav", 16000, np.array([0.5, 1.5, -3.0], np.float32))
    audio = read_wav(tmp_path / "f.wav")
    np.testing.assert_allclose(audio.samples, [0.5, 1.0, -1.0])  # clipped to range
    assert any("clipped" in n for n in audio.notes)


def test_clipped_audio_is_read_and_reported(tmp_path):
    x = np.clip(_tone(16000, amp=3.0), -1, 1)
    write_wav(tmp_path / "c.wav", x)
    audio = read_wav(tmp_path / "c.wav")
    share = np.mean(np.abs(x) >= 0.999)
    assert share > 0.5
    assert f"{share:.1%} of samples clipped" in audio.notes
    assert np.abs(audio.samples).max() <= 1.0


def _lying(tmp_path, declared_bytes):
    buf = io.BytesIO()
    wavfile.write(buf, 16000, (np.arange(1000) % 100).astype(np.int16))
    raw = bytearray(buf.getvalue())
    at = raw.find(b"data")
    struct.pack_into("<I", raw, at + 4, declared_bytes)
    path = tmp_path / "lie.wav"
    path.write_bytes(bytes(raw))
    return path


def test_header_claiming_more_data_reads_what_is_there(tmp_path):
    audio = read_wav(_lying(tmp_path, 10**6))
    assert len(audio.samples) == 1000
    assert any("claims more data" in n for n in audio.notes)


def test_header_claiming_less_data_reads_the_declared_samples(tmp_path):
    audio = read_wav(_lying(tmp_path, 400))
    assert len(audio.samples) == 200
    np.testing.assert_allclose(audio.samples * 32768, np.arange(200) % 100)


def test_empty_and_broken_files_are_data_errors(tmp_path):
    wavfile.write(tmp_path / "empty.wav", 16000, np.zeros(0, np.int16))
    with pytest.raises(DataError, match="holds no audio samples"):
        read_wav(tmp_path / "empty.wav")
    (tmp_path / "text.wav").write_text("not audio at all")
    with pytest.raises(DataError, match="not a readable WAV file"):
        read_wav(tmp_path / "text.wav")
    with pytest.raises(DataError, match="no such file"):
        read_wav(tmp_path / "missing.wav")


def test_resample_and_to_float_checks():
    assert resample(np.ones(10), 16000, 16000).shape == (10,)
    assert resample(np.ones(160), 16000, 8000).shape == (80,)
    with pytest.raises(ValueError, match="source_rate must be a positive integer"):
        resample(np.ones(4), 0, 16000)
    with pytest.raises(ValueError, match="samples must be 1-D"):
        resample(np.ones((2, 2)), 8000, 16000)
    with pytest.raises(DataError, match="NaN or infinite"):
        to_float(np.array([0.1, np.nan], np.float32))
    np.testing.assert_allclose(to_float(np.array([-32768, 16384], np.int16)), [-1, 0.5])
