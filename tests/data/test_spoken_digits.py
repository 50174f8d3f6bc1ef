"""Spoken digits: the synthetic corpus, its cache, FSDD folders and TFDS."""

import numpy as np
import pytest
from scipy.io import wavfile

from dltoolkit.audio import flite
from dltoolkit.data import spoken_digits
from dltoolkit.data.spoken_digits import (
    DIGIT_WORDS,
    VARIANTS,
    embedded_corpus,
    synthesize_split,
)
from dltoolkit.data.spoken_digits.files import load_fsdd_folder, load_tfds_digits
from dltoolkit.errors import ConfigError, DataError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOLKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_synthesis_is_deterministic_and_varied():
    a = synthesize_split("train", 6, seed=3)
    b = synthesize_split("train", 6, seed=3)
    for x, y in zip(a, b):
        assert x.text == y.text and x.speaker == y.speaker
        np.testing.assert_array_equal(x.samples, y.samples)
    c = synthesize_split("train", 6, seed=4)
    assert [u.text for u in a] != [u.text for u in c]
    for u in a:
        assert 1 <= len(u.words) <= 7 and set(u.words) <= set(DIGIT_WORDS)
        assert u.samples.dtype == np.float32 and np.abs(u.samples).max() <= 1.0
        assert 0.3 < len(u.samples) / 16000 < 8  # 16 kHz, plausible durations
        assert u.info["variant"] in VARIANTS["train"]
    # Utterance i does not depend on how many come after it.
    np.testing.assert_array_equal(
        synthesize_split("train", 2, seed=3)[1].samples, a[1].samples
    )


def test_held_out_voices_and_cache(cache):
    data = embedded_corpus({"train": 5, "val": 3, "test": 4}, seed=1, progress=False)
    assert data.sizes == {"train": 5, "val": 3, "test": 4}
    seen = {u.info["variant"] for u in data.train}
    for split in ("val", "test"):
        assert not seen & {u.info["variant"] for u in getattr(data, split)}
    files = sorted((cache / "spoken_digits").glob("*.npz"))
    assert len(files) == 3
    again = embedded_corpus({"train": 5, "val": 3, "test": 4}, seed=1)
    for x, y in zip(data.test, again.test):  # read back from the cache
        assert x.text == y.text and x.info == y.info
        # Bit for bit: a model trained on a fresh corpus is evaluated on the cache.
        np.testing.assert_array_equal(x.samples, y.samples)
    other = embedded_corpus({"train": 5, "val": 3, "test": 4}, seed=2)
    assert len(list((cache / "spoken_digits").glob("*.npz"))) == 6
    assert [u.text for u in other.train] != [u.text for u in data.train]


def test_wide_voices_draw_every_training_variant_and_keep_held_out_ones(cache):
    from dltoolkit.data.spoken_digits.synthetic import PROSODY, VOICE_SETS, _draw

    wide = VOICE_SETS["wide"]
    assert len(wide["train"]) == 97 and len(set(wide["train"])) == 97
    assert set(VARIANTS["train"]) < set(wide["train"])
    held_out = {*VARIANTS["val"], *VARIANTS["test"]}
    assert not held_out & set(wide["train"])
    assert wide["val"] == VARIANTS["val"] and wide["test"] == VARIANTS["test"]
    rng = np.random.default_rng(0)
    specs = [_draw(rng, "train", 0.4, 7, "wide") for _ in range(3000)]
    assert {s["variant"] for s in specs} == set(wide["train"])
    for key, (lo, hi) in PROSODY["wide"].items():
        values = [s[key] for s in specs]
        assert min(values) == lo and max(values) == hi, key
    for key in ("lead_s", "tail_s"):  # from none, as in trimmed recordings
        values = [s[key] for s in specs]
        assert min(values) < 0.002 and 0.398 < max(values) <= 0.4, key
    # The classic draws are those of the generator before voice sets.
    rng = np.random.default_rng(0)
    classic = [_draw(rng, "train", 0.4, 7) for _ in range(500)]
    assert (
        max(s["rate"] for s in classic)
        == 210
        <= min(max(s["rate"] for s in specs), 240)
    )
    data = embedded_corpus(
        {"train": 4, "val": 2, "test": 2}, seed=1, voices="wide", progress=False
    )
    assert "wide voices" in data.source and "97 training voice variants" in data.splits
    assert {u.info["variant"] for u in data.test} <= set(VARIANTS["test"])
    assert {u.info["variant"] for u in data.train} <= set(wide["train"])
    plain = embedded_corpus({"train": 4, "val": 2, "test": 2}, seed=1)
    assert [u.info["rate"] for u in plain.train] != [u.info["rate"] for u in data.train]
    assert len(list((cache / "spoken_digits").glob("*.npz"))) == 6  # own keys


def test_flite_draws_its_share_and_leaves_corpora_without_it_as_they_were():
    from dltoolkit.data.spoken_digits.synthetic import FLITE_PROSODY, _draw

    rng = np.random.default_rng(0)
    specs = [_draw(rng, "train", 0.4, 7, "wide", 0.5) for _ in range(2000)]
    by_flite = [s["flite"] for s in specs if "flite" in s]
    assert 0.45 < len(by_flite) / len(specs) < 0.55
    assert {f["voice"] for f in by_flite} == set(flite.VOICES)
    for key in ("duration_stretch", "f0_stddev"):
        lo, hi = FLITE_PROSODY[key]
        values = [f[key] for f in by_flite]
        assert lo <= min(values) < lo + 0.05 * (hi - lo) < hi - 0.05 * (hi - lo)
        assert max(values) <= hi
    for f in by_flite:  # a woman's pitch for slt, a man's for the others
        lo, hi = FLITE_PROSODY["f0_mean"]["female" if f["voice"] == "slt" else "male"]
        assert lo <= f["f0_mean"] <= hi
    assert not any(
        "flite" in _draw(rng, "test", 0.4, 7, "wide", 1.0) for _ in range(50)
    )
    # Without a share, the draws are those of the generator before Flite
    # (values printed by the code of before, seed 5).
    rng = np.random.default_rng(5)
    first = _draw(rng, "train", 0.4, 7, "wide", 0.0)
    assert first == {
        "text": "eight five",
        "accent": "en-029",
        "variant": "adam",
        "rate": 238,
        "pitch": 14,
        "pitch_range": 32,
        "word_gap": 3,
        "snr_db": 20.0,
        "noise": "white",
        "lead_s": 0.018,
        "tail_s": 0.02,
        "gain": 0.899,
    }
    assert _draw(rng, "train", 0.4, 7, "wide")["variant"] == "robosoft3"
    assert rng.random() == pytest.approx(0.8796511733349222)  # nothing more drawn


def test_without_oh_the_corpus_says_zero_to_nine_only(cache):
    from dltoolkit.data.spoken_digits.synthetic import _draw

    rng = np.random.default_rng(0)
    words = [
        w
        for _ in range(1000)
        for w in _draw(rng, "train", 0.4, 7, "wide", 0.0, oh=False)["text"].split()
    ]
    assert set(words) == set(DIGIT_WORDS) - {"oh"} and len(DIGIT_WORDS) == 11
    rng = np.random.default_rng(0)
    said = {w for _ in range(1000) for w in _draw(rng, "train", 0.4, 7)["text"].split()}
    assert "oh" in said  # the default keeps it
    sizes = {"train": 12, "val": 6, "test": 6}
    plain = embedded_corpus(sizes, seed=1, progress=False)
    data = embedded_corpus(sizes, seed=1, oh=False, progress=False)
    assert 'no "oh"' in data.source and "oh" not in plain.source
    for split in ("train", "val", "test"):
        assert not any("oh" in u.words for u in getattr(data, split)), split
    assert any(
        "oh" in u.words
        for split in ("train", "val", "test")
        for u in getattr(plain, split)
    )
    # Every split its own key (all three draw other words), read back after;
    # the corpus with "oh" keeps the file names it had before the setting
    # (printed by the code of before).
    names = sorted(p.name for p in (cache / "spoken_digits").glob("*.npz"))
    assert len(names) == 6
    assert {
        "test-af8ff255c623860a.npz",
        "train-3880b64a5d8d152f.npz",
        "val-18bd35f92a0026ff.npz",
    } < set(names)
    again = embedded_corpus(sizes, seed=1, oh=False)
    assert [u.text for u in again.test] == [u.text for u in data.test]
    np.testing.assert_array_equal(again.test[0].samples, data.test[0].samples)


@pytest.mark.skipif(
    not flite.wasm_path().is_file(), reason="no Flite module (make fetches it)"
)
def test_flite_speaks_its_share_of_the_training_utterances(cache):
    sizes = {"train": 6, "val": 1, "test": 2}
    data = embedded_corpus(sizes, seed=1, voices="wide", flite_share=1, progress=False)
    assert "Flite speaks 100% of training" in data.source
    assert {u.speaker.split("+")[0] for u in data.train} == {"flite"}
    rate_16k = [u for u in data.train if u.info["flite"]["voice"] != "kal"]
    assert rate_16k and all(0.3 < len(u.samples) / 16000 < 8 for u in data.train)
    assert {u.info["variant"] for u in data.test} <= set(VARIANTS["test"])
    again = embedded_corpus(sizes, seed=1, voices="wide", flite_share=1.0)
    for x, y in zip(data.train, again.train):  # read back from the cache (1 == 1.0)
        np.testing.assert_array_equal(x.samples, y.samples)
    embedded_corpus(sizes, seed=1, voices="wide", progress=False)
    half = embedded_corpus(
        sizes, seed=1, voices="wide", flite_share=0.5, progress=False
    )
    assert "flite" not in {u.speaker.split("+")[0] for u in half.test}
    # Each share its own training key; the held-out splits are shared.
    assert len(list((cache / "spoken_digits").glob("train-*.npz"))) == 3
    assert len(list((cache / "spoken_digits").glob("test-*.npz"))) == 1


def test_flite_share_is_checked_and_a_missing_module_is_named(cache, monkeypatch):
    with pytest.raises(ConfigError, match=r"flite_share must be in \[0, 1\]"):
        embedded_corpus({"train": 1, "val": 1, "test": 1}, flite_share=1.5)
    monkeypatch.setenv("DLTOOLKIT_FLITE_WASM", str(cache / "absent.wasm"))
    with pytest.raises(DataError, match="No Flite module at .*absent.wasm: run"):
        embedded_corpus({"train": 1, "val": 1, "test": 1}, flite_share=0.5)


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match=r"voices must be one of \('classic'"):
        embedded_corpus({"train": 1, "val": 1, "test": 1}, voices="all")
    with pytest.raises(ConfigError, match="split must be one of"):
        synthesize_split("dev", 1)
    with pytest.raises(ConfigError, match="max_digits must be in 1..7"):
        embedded_corpus({"train": 1, "val": 1, "test": 1}, max_digits=9)


def _wav(path, digit_rate=8000, seconds=0.3, channels=1):
    t = np.arange(int(digit_rate * seconds)) / digit_rate
    x = (0.3 * np.sin(2 * np.pi * 300 * t) * 32767).astype(np.int16)
    if channels == 2:
        x = np.stack([x, x // 2], axis=1)
    wavfile.write(path, digit_rate, x)


def test_fsdd_folder_layout(tmp_path):
    for name in (
        "3_jackson_0.wav",
        "3_jackson_7.wav",
        "7_nicolas_12.wav",
        "0_theo_49.wav",
    ):
        _wav(tmp_path / name)
    _wav(tmp_path / "9_yweweler_30.wav", channels=2)
    _wav(tmp_path / "notes_1.wav")  # not FSDD's naming: ignored
    (tmp_path / "README.md").write_text("hello")
    data = load_fsdd_folder(tmp_path)
    assert [u.text for u in data.test] == ["three"]
    assert [u.text for u in data.val] == ["three"]
    assert sorted(u.text for u in data.train) == ["nine", "seven", "zero"]
    assert {u.speaker for u in data.train} == {"nicolas", "theo", "yweweler"}
    assert all(len(u.samples) == 4800 for u in data.train)  # 8 kHz -> 16 kHz
    stereo = next(u for u in data.train if u.text == "nine")
    assert "2 channels averaged to mono" in stereo.info["notes"]
    assert "1 other WAV files ignored" in data.source


def test_fsdd_errors(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load_fsdd_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="no FSDD recordings"):
        load_fsdd_folder(tmp_path)
    (tmp_path / "1_bob_20.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(DataError, match="1_bob_20.wav: not a readable WAV file"):
        load_fsdd_folder(tmp_path)


def test_tfds_spoken_digit_by_name(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        data = load_tfds_digits("spoken_digit", data_dir=str(tmp_path))
    utts = data.train + data.val + data.test
    assert len(utts) == 6
    assert all(u.text in DIGIT_WORDS and u.samples.dtype == np.float32 for u in utts)


def test_tfds_errors(tmp_path):
    with pytest.raises(DataError, match="is not in the TFDS data dir"):
        load_tfds_digits("spoken_digit", data_dir=str(tmp_path))
    with pytest.raises(DataError, match="Unknown spoken-digit TFDS dataset"):
        load_tfds_digits("mnist", data_dir=str(tmp_path))


def test_cache_dir_default(monkeypatch):
    monkeypatch.delenv("DLTOOLKIT_CACHE", raising=False)
    assert spoken_digits.cache_dir().parts[-2:] == (".cache", "dltoolkit")


def test_tfds_speech_commands_without_digit_labels_is_a_clear_error(tmp_path):
    """TFDS's speech_commands folds the digit words into _unknown_."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=4):
        with pytest.raises(DataError, match="has no digit labels"):
            load_tfds_digits("speech_commands", data_dir=str(tmp_path))


# eSpeak NG 1.52 (espeakng-loader 0.2.x) dies on this request: a low pitch with
# a wide range and long word gaps (found synthesizing the wide voice set).
CRASHING = {
    "text": "five six five nine five one",
    "voice": "en-029+rob",
    "rate": 123,
    "pitch": 12,
    "pitch_range": 85,
    "word_gap": 8,
}


def test_a_crash_inside_espeak_is_named_and_the_corpus_falls_back():
    from dltoolkit.audio import espeak
    from dltoolkit.data.spoken_digits.synthetic import _fallback

    with pytest.raises(DataError, match=r"eSpeak NG crashed \(signal \d+\) speaking"):
        espeak.synthesize_many([{**CRASHING, "text": "one"}, CRASHING])
    rate, (ok, failed) = espeak.synthesize_many(
        [{**CRASHING, "text": "one"}, CRASHING], failures="return"
    )
    assert rate == 22050 and len(ok) > 1000 and "en-029+rob" in failed
    spec = {**CRASHING, "accent": "en-029", "variant": "rob"}
    fixed, pcm = _fallback(spec, failed)
    assert fixed["fallback"] == {"word_gap": 0} and fixed["word_gap"] == 0
    assert fixed["pitch"] == 12 and len(pcm) > 1000
