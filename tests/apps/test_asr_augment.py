"""The ASR app's waveform augmentation: training split only, seeded, keyed."""

import types

import numpy as np
import pytest

from dltoolkit.apps.asr.app import APP
from dltoolkit.apps.asr.stage import gmm_key
from dltoolkit.errors import ConfigError

AUGMENTED = ["augment=0.6", "augment_copies=2"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("asr_augment_cache")
        mp.setenv("DLTOOLKIT_CACHE", str(path))
        yield path


def _data():
    return types.SimpleNamespace(corpus=types.SimpleNamespace(source="src"))


def test_gmm_key_unchanged_with_augmentation_off():
    """Configs without augmentation keep the key they had before the option."""
    # The smoke config's key as computed before the augment and split
    # fields existed (sha256 of its acoustic settings, source "src").
    old = "d5764402b317cc72"
    config = APP.resolve("smoke")
    assert gmm_key(config, _data()) == old
    for off in (["augment_copies=3"], ["augment=0.5", "augment_copies=0"]):
        assert gmm_key(APP.resolve("smoke", off), _data()) == old
    keys = {
        gmm_key(APP.resolve("smoke", s), _data())
        for s in (AUGMENTED, ["augment=0.3", "augment_copies=2"], ["augment=0.6"])
    }
    assert len(keys) == 3 and old not in keys
    # Each Flite share its own GMM stage, even with the same source text.
    flite = {gmm_key(APP.resolve("smoke", [f"flite={v}"]), _data()) for v in (0.3, 0.5)}
    assert len(flite) == 2 and old not in flite
    assert gmm_key(APP.resolve("smoke", ["flite=0"]), _data()) == old
    # Without "oh", its own stage where the embedded corpus trains; a folder
    # alone keeps its key (and cached stage) whatever oh says.
    assert gmm_key(APP.resolve("smoke", ["oh=false"]), _data()) != old
    assert gmm_key(APP.resolve("smoke", ["oh=true"]), _data()) == old
    folder = ["data=/recordings"]
    assert gmm_key(APP.resolve("smoke", [*folder, "oh=false"]), _data()) == gmm_key(
        APP.resolve("smoke", folder), _data()
    )
    mixed = ["data=embedded,/recordings"]
    assert gmm_key(APP.resolve("smoke", [*mixed, "oh=false"]), _data()) != gmm_key(
        APP.resolve("smoke", mixed), _data()
    )


@pytest.mark.parametrize(
    "override, message",
    [("augment=1.5", "augment must be in"), ("augment_copies=-1", "augment_copies")],
)
def test_bad_augment_settings(override, message):
    with pytest.raises(ConfigError, match=message):
        APP.load_data(APP.resolve("smoke", [override]))


def test_augmented_training_split(cache, tmp_path):
    plain = APP.load_data(APP.resolve("smoke"))
    config = APP.resolve("smoke", AUGMENTED)
    data = APP.load_data(config)
    n = len(plain.corpus.train)
    assert len(data.corpus.train) == 3 * n
    for split in ("val", "test"):  # never augmented
        assert len(getattr(data.corpus, split)) == len(getattr(plain.corpus, split))
        assert not any("augmented" in u.info for u in getattr(data.corpus, split))
    for a, b in zip(plain.corpus.train, data.corpus.train[:n]):
        np.testing.assert_array_equal(a.samples, b.samples)
    copies = data.corpus.train[n:]
    assert [u.info["augmented"] for u in copies] == [1] * n + [2] * n
    assert [u.text for u in copies] == 2 * [u.text for u in plain.corpus.train]
    assert all(u.samples.dtype == np.float32 for u in copies)
    assert not np.array_equal(copies[0].samples, plain.corpus.train[0].samples)
    # The LM is estimated from the original transcripts.
    np.testing.assert_array_equal(plain.lm.log_probs, data.lm.log_probs)
    # Seeded: the same copies again.
    again = APP.load_data(config)
    for a, b in zip(copies, again.corpus.train[n:]):
        np.testing.assert_array_equal(a.samples, b.samples)
    assert "augmented copies" in APP.describe_data(data)

    metrics = APP.train(config, tmp_path / "run", profile="smoke", verbose=0)
    assert 0 <= metrics["wer"] <= 1.5
    APP.run_prepare(config, data, tmp_path / "run")  # the run's stage, reused
    stage = APP.stage(config, data)
    assert len(stage.features["train"]) == 3 * n
    assert len(stage.alignments["train"]) == 3 * n
