"""The ASR app's data sources: several at once, the speaker split, ``real``.

The FSDD folders here are tiny and written by the tests: each digit a pair of
tones whose pitch the digit sets, each speaker a pitch factor, 8 kHz like
FSDD's recordings.
"""

import json
import os

import numpy as np
import pytest
from app_helpers import train_error

from dltoolkit.apps.asr.app import APP, trained_words
from dltoolkit.audio import write_wav
from dltoolkit.data.spoken_digits import DIGIT_WORDS
from dltoolkit.training.app import main

DIGITS = range(5)  # enough words for the split and the breakdowns
INDEXES = (0, 1, 5, 6, 10, 11, 12)  # test (0-4), validation (5-9), train
SPEAKERS = {"a": ("alice", "bob"), "b": ("carol", "dave")}


def write_fsdd(folder, speakers, *, digits=DIGITS, indexes=INDEXES, seed=0):
    """``{digit}_{speaker}_{index}.wav`` files of two tones per digit."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rate = 8000
    t = np.arange(int(0.3 * rate)) / rate
    for k, speaker in enumerate(speakers):
        pitch = 1.0 + 0.07 * k
        for d in digits:
            for i in indexes:
                f1, f2 = (300 + 90 * d) * pitch, (1100 + 160 * d) * pitch
                tone = np.concatenate(
                    [np.sin(2 * np.pi * f1 * t), np.sin(2 * np.pi * f2 * t)]
                )
                pad = np.zeros(int(0.1 * rate))
                x = 0.4 * np.concatenate([pad, tone, pad])
                x += rng.normal(0, 0.005, len(x))
                write_wav(folder / f"{d}_{speaker}_{i}.wav", x, rate=rate)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("fsdd")
    return {name: write_fsdd(root / name, spk) for name, spk in SPEAKERS.items()}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    previous = os.environ.get("DLTOOLKIT_CACHE")
    os.environ["DLTOOLKIT_CACHE"] = str(tmp_path_factory.mktemp("asr_cache"))
    yield
    if previous is None:
        os.environ.pop("DLTOOLKIT_CACHE", None)
    else:
        os.environ["DLTOOLKIT_CACHE"] = previous


def _load(*overrides):
    return APP.load_data(APP.resolve("smoke", list(overrides))).corpus


def test_sources_combine_split_by_split(folders):
    a, b = folders["a"], folders["b"]
    one, two = _load(f"data={a}"), _load(f"data={b}")
    both = _load(f"data={a},{b}")
    for split in ("train", "val", "test"):
        mixed = getattr(both, split)
        assert len(mixed) == len(getattr(one, split)) + len(getattr(two, split))
        assert {u.info["source"] for u in mixed} == {str(a), str(b)}
    assert [u.info["file"] for u in both.test if u.info["source"] == str(a)] == [
        u.info["file"] for u in one.test
    ]
    assert str(a) in both.source and str(b) in both.source


def test_lexicon_is_the_words_training_holds(folders):
    # Tiny folders say zero..four: no model of the other words is trained,
    # so none of them is in the LM, the decoding graph or a transcript.
    data = APP.load_data(APP.resolve("smoke", [f"data={folders['a']}"]))
    assert data.lm.words == DIGIT_WORDS[: len(DIGITS)]
    assert data.words == DIGIT_WORDS  # the acoustic models: every word
    assert trained_words(["oh two", "nine oh oh"]) == ("two", "nine", "oh")


def test_speaker_split_holds_out_whole_speakers(folders):
    a = folders["a"]
    corpus = _load(f"data={a}", "split=speaker:bob")
    assert {u.speaker for u in corpus.test} == {"bob"}
    assert len(corpus.test) == len(DIGITS) * len(INDEXES)  # all of bob's
    assert {u.speaker for u in corpus.train + corpus.val} == {"alice"}
    # Validation is the others' recordings 5-9; their 0-4 now train.
    index = lambda u: int(u.info["file"].split("_")[2][:-4])  # noqa: E731
    assert {index(u) for u in corpus.val} == {5, 6}
    assert {index(u) for u in corpus.train} == {0, 1, 10, 11, 12}
    # One speaker from each of two folders.
    both = _load(f"data={a},{folders['b']}", "split=speaker:bob+carol")
    assert {u.speaker for u in both.test} == {"bob", "carol"}
    assert {u.speaker for u in both.train} == {"alice", "dave"}


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data="], "data names no source"),
        (["data=embedded,,embedded"], "data has an empty source"),
        (["data=embedded,embedded"], "data names 'embedded' twice"),
        (["data={a},{a}/"], "twice (as '{a}')"),
        (["data=embedded,{a}/missing"], "missing: no such folder"),
        (["data={a}", "split=speaker:zoe"], "unknown speaker zoe in {a}. Known "),
        (["data={a}", "split=speaker:alice+bob"], "holding out every speaker"),
        (["data={a}", "split=speakers"], "split must be index or speaker:NAME"),
        (["data={a}", "split=speaker:bob+bob"], "split names a speaker twice"),
        (["split=speaker:bob"], "data names none"),
    ],
)
def test_bad_sources_and_splits_are_one_line(
    folders, tmp_path, capsys, overrides, message
):
    a = folders["a"]
    err = train_error(APP, tmp_path, capsys, [o.format(a=a) for o in overrides])
    assert message.format(a=a) in err
    if "unknown speaker" in message:
        assert err.endswith("Known speakers: alice, bob.")


def test_real_profile_resolves():
    config = APP.resolve("real", ["data=x", "split=speaker:george"])
    assert config.split == "speaker:george" and config.mixtures == 8
    assert config.gmm_weight == 0.5 and APP.resolve("quick").gmm_weight == 0
    assert config.epochs > APP.resolve("quick").epochs
    assert APP.resolve("quick").split == "index"
    # Half the synthetic training utterances by Flite, wherever embedded trains.
    assert APP.resolve("quick").flite == config.flite == 0.5
    assert APP.resolve("smoke").flite == 0
    # Ten words ("zero" ... "nine") where synthetic voices meet people's.
    assert not APP.resolve("quick").oh and not config.oh
    assert not APP.resolve("full").oh and APP.resolve("smoke").oh


def test_config_lists_split_under_data(capsys):
    assert main(APP, ["config", "--profile", "real"]) == 0
    out = capsys.readouterr().out
    assert "split" in out and "speaker:NAME" in out


def test_two_sources_report_per_source_and_per_speaker(folders, cache, tmp_path):
    """One smoke run on two folders, one speaker of each held out:
    ``metrics.json`` has per-source sizes and accuracy, per-speaker accuracy."""
    a, b = folders["a"], folders["b"]
    config = APP.resolve(
        "smoke", [f"data={a},{b}", "split=speaker:bob+carol", "epochs=3"]
    )
    APP.train(config, tmp_path, profile="smoke", verbose=0)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    n = len(DIGITS) * len(INDEXES)
    assert metrics["split"] == "speaker:bob+carol"
    assert metrics["held_out_speakers"] == ["bob", "carol"]
    assert set(metrics["speaker_accuracy"]) == {"bob", "carol"}
    assert metrics["test_utterances"] == 2 * n
    sources = metrics["sources"]
    assert list(sources) == [str(a), str(b)]
    for row in sources.values():
        assert (row["train"], row["val"], row["test"]) == (
            len(DIGITS) * 5,
            len(DIGITS) * 2,
            n,
        )
        assert 0.0 <= row["accuracy"] <= 1.0 and row["wer"] >= 0.0
    # Each source's test set is one speaker: the two breakdowns agree.
    assert sources[str(a)]["accuracy"] == metrics["speaker_accuracy"]["bob"]
    assert sources[str(b)]["accuracy"] == metrics["speaker_accuracy"]["carol"]
    # The overall accuracy is the sources' weighted by their test sizes.
    overall = 1.0 - metrics["ser"]
    mean = np.mean([row["accuracy"] for row in sources.values()])
    assert overall == pytest.approx(mean, abs=1e-3)
    assert "## Results by source" in (tmp_path / "report.md").read_text()


def test_embedded_and_a_folder_together_report_each(folders, cache, tmp_path):
    """The synthetic corpus beside recordings: the variant and SNR tables keep
    to the synthetic utterances (the recordings have neither)."""
    a = folders["a"]
    config = APP.resolve("smoke", [f"data=embedded,{a}", "epochs=2"])
    APP.train(config, tmp_path, profile="smoke", verbose=0)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["sources"]) == {"embedded", str(a)}
    assert metrics["sources"][str(a)]["test"] == len(DIGITS) * 2 * 2  # 0, 1
    report = (tmp_path / "report.md").read_text()
    variants = report.split("## Results by voice variant (synthetic utterances)")[1]
    table = variants.split("##")[0]
    assert "alice" not in table and "bob" not in table
    assert any(f"| {v} |" in table for v in ("m3", "f2", "klatt3"))  # test voices
