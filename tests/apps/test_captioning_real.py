"""The captioning app's real-photo path: concept pretraining in the prepare
stage, every caption per epoch, no repeated n-grams through the export, the
constant-caption floor, and the ``real`` profile on a tiny Flickr8k folder."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from dltoolkit.apps.captioning.app import APP, bleu_metrics, constant_caption
from dltoolkit.apps.captioning.concepts import (
    CNN_FILE,
    concept_targets,
    concept_words,
)
from dltoolkit.data.captions import CaptionData, CaptionSplit
from dltoolkit.data.captions.scenes import generate_scenes
from dltoolkit.training.export import load_export


def test_concept_words_and_targets():
    refs = [
        ["a dog runs on the grass", "the dog plays", "a brown dog"],
        ["a man on the grass", "a man stands"],
    ]
    # By how many images use a word (function words left out), then by name.
    assert concept_words(refs, 3) == ["grass", "brown", "dog"]
    targets = concept_targets(refs, ["dog", "grass", "man", "zebra"])
    np.testing.assert_allclose(
        targets, [[1.0, 1 / 3, 0.0, 0.0], [0.0, 0.5, 1.0, 0.0]], rtol=1e-6
    )


def test_constant_caption_is_the_best_frequent_one_on_validation():
    dog, cat = "a dog runs on the grass", "a cat sits on the mat"
    split = CaptionSplit(images=["x"] * 2, references=[[dog, "a dog"], [cat, dog]])
    val = CaptionSplit(images=["y"], references=[[f"{cat} today"]])
    data = CaptionData(train=split, val=val, test=val, source="toy")
    assert constant_caption(data) == cat
    assert constant_caption(data, candidates=1) == dog  # the most frequent


def _flickr(root, n=24, seed=4):
    """A Flickr8k folder of generated shape scenes with their references."""
    (root / "Images").mkdir(parents=True)
    scenes = generate_scenes(n, seed=seed, size=48)
    lines = ["image,caption"]
    for i, (image, refs) in enumerate(zip(scenes.images, scenes.references)):
        Image.fromarray(image).save(root / "Images" / f"{i}.jpg")
        lines += [f"{i}.jpg,{ref.capitalize()} ." for ref in refs]
    (root / "captions.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The real profile at toy sizes: concept CNN, captioner, export."""
    root = _flickr(tmp_path_factory.mktemp("flickr") / "flickr")
    run_dir = tmp_path_factory.mktemp("real_run")
    overrides = [
        f"data={root}",
        "image_size=32",
        "encoder=lenet5",
        "concept_epochs=2",
        "concepts=8",
        "epochs=2",
        "units=16",
        "feature_dim=8",
        "batch_size=16",
        "val_bleu_size=4",
    ]
    config = APP.resolve("real", overrides)
    metrics = APP.train(config, run_dir, profile="real", verbose=0)
    return run_dir, config, metrics


def test_real_profile_pretrains_concepts_then_freezes_the_cnn(real_run):
    run_dir, config, metrics = real_run
    assert config.captions_per_image == 5 and config.no_repeat_ngram == 3
    cnn_file = run_dir / CNN_FILE
    assert cnn_file.is_file()
    concept_cnn = keras.models.load_model(cnn_file)
    model = keras.models.load_model(run_dir / "model.keras")
    cnn = model.get_layer("encoder").get_layer("cnn")
    assert not cnn.trainable  # frozen under the captioner
    for trained, pretrained in zip(cnn.get_weights(), concept_cnn.get_weights()):
        np.testing.assert_array_equal(trained, pretrained)  # frozen: unchanged
    assert metrics["prepare_seconds"] > 0
    prepare = json.loads((run_dir / "prepare.json").read_text())
    assert prepare["complete"] is True
    saved = json.loads((run_dir / "metrics.json").read_text())
    refs = APP.load_data(config).test.references
    assert (
        saved["bleu4_constant"]
        == bleu_metrics([saved["constant_caption"]] * len(refs), refs)["bleu4"]
    )


def test_real_export_captions_raw_bytes_without_repeated_trigrams(real_run):
    run_dir, config, _ = real_run
    serve = load_export(run_dir / "export")
    data = APP.load_data(config)
    blobs = [open(p, "rb").read() for p in data.test.images]
    out = serve(images=tf.constant(blobs))
    captions = [c.decode() for c in out["caption"].numpy()]
    assert len(captions) == len(blobs) and all(captions)
    for caption in captions:
        words = caption.split()
        trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
        assert len(trigrams) == len(set(trigrams)), caption
