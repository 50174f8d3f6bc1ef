"""keras.applications backbones in classify and captioning: weights files,
frozen transfer, fine-tuning across a resume, exports that reload without
dltoolkit, and one-line errors."""

import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.apps.captioning.app import APP as CAPTION_APP
from dltoolkit.apps.classify.app import APP as CLASSIFY_APP
from dltoolkit.layers import ImagePreprocessing
from dltoolkit.models.backbones import preprocessing_mode
from dltoolkit.training.runner import load_trained_model
from tests.apps.app_helpers import run_fresh_process, train_error

SPEC = "keras:MobileNetV2(alpha=0.35)"  # the smallest application at 32x32
SHAPE = (32, 32, 3)


def _calibrate(model, rng):
    """Sets each batch norm's moving statistics to its input's on random images,
    so a randomly initialized backbone gives features that are not ~0."""
    x = rng.uniform(-1, 1, (16, *SHAPE)).astype("float32")
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            probe = keras.Model(model.inputs[0], layer.input)
            h = np.asarray(probe(x, training=False))
            axes = tuple(range(h.ndim - 1))
            gamma, beta, _, _ = layer.get_weights()
            layer.set_weights([gamma, beta, h.mean(axes), h.var(axes)])


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A MobileNetV2 weights file saved from random initialization, and one of
    another backbone (a mismatch)."""
    root = tmp_path_factory.mktemp("backbone_weights")
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=SHAPE, alpha=0.35
    )
    _calibrate(model, np.random.default_rng(0))
    model.save_weights(root / "mobilenet_v2.weights.h5")
    other = keras.applications.MobileNet(
        include_top=False, weights=None, input_shape=SHAPE, alpha=0.25
    )
    other.save_weights(root / "mobilenet.weights.h5")
    return root / "mobilenet_v2.weights.h5", root / "mobilenet.weights.h5"


def _png(array) -> bytes:
    return tf.io.encode_png(np.asarray(array, dtype="uint8")).numpy()


def _run_without_dltoolkit(script: str, cwd) -> str:
    """Runs ``script`` in a fresh Python that must not import dltoolkit."""
    return run_fresh_process(script + '\nassert "dltoolkit" not in sys.modules\n', cwd)


@pytest.mark.parametrize(
    "name", ["MobileNetV2", "ResNet50", "DenseNet121", "EfficientNetB0"]
)
def test_preprocessing_layer_is_the_networks_own(name):
    """[0, 1] images through the layer == keras's preprocess_input on 0-255."""
    mode = preprocessing_mode(f"keras:{name}")
    assert (
        mode
        == {
            "MobileNetV2": "tf",
            "ResNet50": "caffe",
            "DenseNet121": "torch",
            "EfficientNetB0": "none",
        }[name]
    )
    x = np.random.default_rng(1).uniform(0, 1, (2, 5, 5, 3)).astype("float32")
    module = sys.modules[getattr(keras.applications, name).__module__]
    want = module.preprocess_input(x * 255.0)
    got = ImagePreprocessing(mode)(x)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-4)


def _backbone(model):
    return model.get_layer("backbone_features").get_layer("backbone")


@pytest.mark.slow  # 35 s: keeps the default suite under 15 minutes
def test_classify_frozen_then_fine_tuned_across_resume(weights, tmp_path):
    """Epoch 1 frozen (batch norm statistics included); raising epochs resumes
    into epoch 2, which fine-tunes the top layers only; the export reads PNG
    bytes without dltoolkit and matches the model."""
    path, _ = weights
    run_dir = tmp_path / "run"
    reference = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=SHAPE, alpha=0.35
    )
    reference.load_weights(path)
    overrides = [
        f"backbone={SPEC}",
        f"backbone_weights={path}",
        "fine_tune_at_epoch=2",
        "fine_tune_layers=10",
    ]

    def diff(model, name):
        got = _backbone(model).get_layer(name).get_weights()
        want = reference.get_layer(name).get_weights()
        return max(float(np.abs(a - b).max()) for a, b in zip(got, want))

    config = CLASSIFY_APP.resolve("smoke", [*overrides, "epochs=1"])
    CLASSIFY_APP.train(config, run_dir, profile="smoke", verbose=0)
    first = load_trained_model(run_dir)
    for name in ("Conv1", "Conv_1", "block_16_project", "Conv_1_bn", "bn_Conv1"):
        assert diff(first, name) == 0.0, name  # frozen, moving statistics too

    config = CLASSIFY_APP.resolve("smoke", [*overrides, "epochs=2"])
    CLASSIFY_APP.train(config, run_dir, profile="smoke", verbose=0)
    model = load_trained_model(run_dir)  # the best epoch's weights
    last = load_trained_model(run_dir)
    with warnings.catch_warnings():  # the backup also holds optimizer state
        warnings.simplefilter("ignore")
        last.load_weights(run_dir / "backup" / "latest.weights.h5")  # epoch 2
    assert diff(last, "Conv_1") > 1e-6 and diff(last, "block_16_project") > 1e-6
    for name in ("Conv1", "block_15_project", "Conv_1_bn", "block_16_project_BN"):
        assert diff(last, name) == 0.0, name  # below the top 10, or batch norm
    gate = last.get_layer("backbone_features").get_layer("fine_tune_gate")
    assert float(gate.get_weights()[0]) == 1.0

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (8, 8, 1)), rng.integers(0, 256, (40, 30, 3))]
    for i, image in enumerate(images):
        (tmp_path / f"{i}.png").write_bytes(_png(image))
    probs = _run_without_dltoolkit(
        textwrap.dedent(
            f"""
            import sys
            import tensorflow as tf
            serve = tf.saved_model.load({str(run_dir / "export")!r}).signatures[
                "serving_default"]
            blobs = [open(f"{{i}}.png", "rb").read() for i in range(2)]
            out = serve(images=tf.constant(blobs))
            print(" ".join(str(float(p)) for p in out["probabilities"].numpy().ravel()))
            """
        ),
        tmp_path,
    )
    from dltoolkit.data.images import decode_image_batch

    x = decode_image_batch(tf.constant([_png(i) for i in images]), 32, 3)
    want = model.predict(x, verbose=0).ravel()
    np.testing.assert_allclose(np.array(probs.split(), float), want, atol=1e-5)


@pytest.mark.slow  # 24 s: keeps the default suite under 15 minutes
def test_captioning_backbone_trains_and_exports(weights, tmp_path):
    path, _ = weights
    run_dir = tmp_path / "run"
    config = CAPTION_APP.resolve(
        "smoke",
        [
            f"backbone={SPEC}",
            f"backbone_weights={path}",
            "feature_layer=block_13_expand_relu",  # a 2x2 map at 32x32
            "epochs=1",
            "train_images=32",
        ],
    )
    CAPTION_APP.train(config, run_dir, profile="smoke", verbose=0)
    model = load_trained_model(run_dir)
    cnn = model.get_layer("encoder").get_layer("cnn")
    assert tuple(cnn.output.shape[1:3]) == (2, 2)
    assert not cnn.trainable_weights  # frozen
    (tmp_path / "a.png").write_bytes(_png(np.full((20, 20, 3), 200)))
    out = _run_without_dltoolkit(
        textwrap.dedent(
            f"""
            import sys
            import tensorflow as tf
            serve = tf.saved_model.load({str(run_dir / "export")!r}).signatures[
                "serving_default"]
            out = serve(images=tf.constant([open("a.png", "rb").read(), b"xx"]))
            print("|".join(s.decode() for s in out["status"].numpy()))
            print(type(out["caption"].numpy()[0]).__name__)
            """
        ),
        tmp_path,
    )
    assert out.split() == ["ok|not", "an", "image", "bytes"]


def test_missing_weights_file(tmp_path, capsys):
    err = train_error(
        CLASSIFY_APP,
        tmp_path / "run",
        capsys,
        [f"backbone={SPEC}", f"backbone_weights={tmp_path / 'none.weights.h5'}"],
    )
    assert "no file" in err and "none.weights.h5" in err


def test_mismatched_weights_file(weights, tmp_path, capsys):
    _, other = weights
    err = train_error(
        CAPTION_APP,
        tmp_path / "run",
        capsys,
        [f"backbone={SPEC}", f"backbone_weights={other}"],
    )
    assert str(other) in err and "does not hold the weights of" in err


def test_imagenet_offline(tmp_path, capsys, monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception(  # what get_file raises without network
            "URL fetch failure on https://storage.googleapis.com/x.h5: None -- "
            "[Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(file_utils, "get_file", offline)
    err = train_error(
        CLASSIFY_APP,
        tmp_path / "run",
        capsys,
        ["backbone=keras:MobileNetV2", "backbone_weights=imagenet"],
    )
    assert err == (
        "error: backbone_weights=imagenet needs network access to download "
        "MobileNetV2's weights; offline, pass a weights file: --set "
        "backbone_weights=PATH (save one elsewhere with keras.applications."
        "MobileNetV2(weights='imagenet').save_weights('MobileNetV2.weights.h5'))."
    )


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["backbone=keras:NoSuchNet"], "keras.applications has no model"),
        ([f"backbone={SPEC}", "image_size=16"], "at least 32x32"),
        ([f"backbone={SPEC}", "fine_tune_at_epoch=2"], "needs pretrained weights"),
        (["backbone_weights=imagenet"], "needs a backbone"),
    ],
)
def test_bad_settings_one_line(tmp_path, capsys, overrides, expected):
    err = train_error(CLASSIFY_APP, tmp_path / "run", capsys, overrides)
    assert expected in err
