"""The template app: contract files, export parity, predict, evaluate, errors."""

import json
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from app_helpers import run_fresh_process
from PIL import Image

from dltoolkit.apps.classify.app import APP
from dltoolkit.data.images import decode_image, prepare_image
from dltoolkit.training.app import main
from dltoolkit.training.runner import load_trained_model


def _png(array) -> bytes:
    return tf.io.encode_png(np.asarray(array, dtype="uint8")).numpy()


def test_train_writes_the_contract_files(classify_run):
    run_dir, _, metrics = classify_run
    for name in (
        "config.json",
        "metrics.json",
        "report.md",
        "history.csv",
        "model.keras",
        "learning_curves.png",
        "confusion_matrix.png",
        "export/saved_model.pb",
    ):
        assert (run_dir / name).exists(), name
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["profile"] == "smoke"
    # 10 classes, chance 0.1: measured 0.93 after the fixture's two epochs.
    assert saved["accuracy"] > 0.6
    assert saved["train_seconds"] > 0
    report = (run_dir / "report.md").read_text()
    assert "Learning-curve diagnosis" in report
    assert "](confusion_matrix.png)" in report  # linked relative to report.md
    assert f"{saved['accuracy']:.4g}" in report


def test_export_matches_model_in_fresh_process(classify_run, tmp_path):
    """The SavedModel, loaded without dltoolkit, gives the model's probabilities."""
    run_dir, config, _ = classify_run
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (8, 8, 1)) for _ in range(3)]
    images.append(rng.integers(0, 256, (40, 30, 3)))  # color, other size
    blobs = [_png(img) for img in images]
    for i, blob in enumerate(blobs):
        (tmp_path / f"{i}.png").write_bytes(blob)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load({str(run_dir / "export")!r}).signatures[
            "serving_default"]
        blobs = [open({str(tmp_path)!r} + f"/{{i}}.png", "rb").read()
                 for i in range({len(blobs)})]
        out = serve(images=tf.constant(blobs))
        assert "dltoolkit" not in sys.modules
        np.save({str(tmp_path / "probs.npy")!r}, out["probabilities"].numpy())
        print("\\n".join(s.decode() for s in out["label"].numpy()))
        """
    )
    stdout = run_fresh_process(script, tmp_path)
    exported = np.load(tmp_path / "probs.npy")
    model = load_trained_model(run_dir)
    inputs = np.stack(
        [prepare_image(decode_image(b), config.image_size, 1).numpy() for b in blobs]
    )
    expected = model.predict(inputs, verbose=0)
    assert exported.shape == (4, 10)
    assert np.max(np.abs(exported - expected)) <= 1e-5
    labels = stdout.split()
    assert labels == [str(i) for i in expected.argmax(axis=1)]


def test_export_takes_jpeg(classify_run):
    run_dir, _, _ = classify_run
    serve = tf.saved_model.load(str(run_dir / "export")).signatures["serving_default"]
    jpeg = tf.io.encode_jpeg(np.full((20, 20, 3), 200, dtype="uint8")).numpy()
    out = serve(images=tf.constant([jpeg]))
    assert out["probabilities"].shape == (1, 10)
    np.testing.assert_allclose(out["probabilities"].numpy().sum(), 1.0, rtol=1e-5)


def test_predict_prints_label_per_image(classify_run, tmp_path, capsys):
    run_dir, _, _ = classify_run
    path = tmp_path / "digit.png"
    Image.fromarray(np.zeros((8, 8), dtype="uint8")).save(path)
    assert main(APP, ["predict", "--run-dir", str(run_dir), str(path)]) == 0
    name, label, prob = capsys.readouterr().out.strip().split("\t")
    assert name == str(path)
    assert label in [str(d) for d in range(10)]
    # The predicted class's probability, the largest of 10: at least 0.1.
    assert 0.1 <= float(prob) <= 1.0


def test_evaluate_recomputes_metrics(classify_run):
    run_dir, _, metrics = classify_run
    (run_dir / "metrics.json").unlink()
    assert main(APP, ["evaluate", "--run-dir", str(run_dir)]) == 0
    again = json.loads((run_dir / "metrics.json").read_text())
    assert again["accuracy"] == pytest.approx(metrics["accuracy"])
    assert again["profile"] == "smoke"


def test_export_command_rewrites_export(classify_run):
    run_dir, _, _ = classify_run
    before = (run_dir / "export" / "saved_model.pb").stat().st_mtime_ns
    assert main(APP, ["export", "--run-dir", str(run_dir)]) == 0
    assert (run_dir / "export" / "saved_model.pb").stat().st_mtime_ns >= before
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".export")]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--profile", "huge"], "Unknown profile 'huge'"),
        (
            ["train", "--profile", "smoke", "--set", "nope=1"],
            "Unknown config key 'nope'",
        ),
        (
            ["train", "--profile", "smoke", "--set", "epochs=x"],
            "epochs takes an integer",
        ),
        (["train", "--profile", "smoke", "--set", "model=vgg99"], "Unknown builder"),
        (
            ["train", "--profile", "smoke", "--set", "data=/no/such/folder"],
            "Image folder not found: /no/such/folder",
        ),
        (
            [
                "train",
                "--profile",
                "smoke",
                "--set",
                "model=mlp",
                "--set",
                "optimizer=x",
            ],
            "Valid",
        ),
        (["evaluate", "--run-dir", "/no/such/run"], "No config found"),
    ],
)
def test_bad_input_exits_with_one_line(argv, message, capsys, tmp_path):
    if argv[0] == "train":
        argv = [*argv, "--run-dir", str(tmp_path / "run")]
    assert main(APP, argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_predict_missing_and_unreadable_image(classify_run, tmp_path, capsys):
    run_dir, _, _ = classify_run
    assert main(APP, ["predict", "--run-dir", str(run_dir), "/no/such.png"]) == 2
    assert "Image not found: /no/such.png" in capsys.readouterr().err
    # The messages of dltoolkit.data.inputs.read_image_files, as in every app.
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(APP, ["predict", "--run-dir", str(run_dir), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"Not an image (PNG, JPEG, GIF or BMP expected): {bad}" in err
    cut = tmp_path / "cut.png"
    cut.write_bytes(_png(np.zeros((8, 8, 1)))[:40])  # corrupt inside
    assert main(APP, ["predict", "--run-dir", str(run_dir), str(cut)]) == 2
    assert f"Unreadable image: {cut}" in capsys.readouterr().err


def test_trains_on_tfds_by_name(tmp_path):
    """The TFDS path end to end (the dataset is mocked: nothing is downloaded)."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=16):
        config = APP.resolve(
            "smoke", ["data=mnist", f"data_dir={tmp_path}", "batch_size=8"]
        )
        metrics = APP.train(config, tmp_path / "run", profile="smoke", verbose=0)
    assert metrics["test_examples"] == 16
    report = (tmp_path / "run" / "report.md").read_text()
    assert "TFDS mnist" in report


def test_trains_on_image_folder_with_color_images(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("red", "blue"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(10):
            image = rng.integers(0, 60, (12, 12, 3), dtype="uint8")
            image[..., 0 if label == "red" else 2] = 255
            Image.fromarray(image).save(tmp_path / "data" / label / f"{i}.png")
    config = APP.resolve(
        "smoke",
        [f"data={tmp_path / 'data'}", "model=mlp", "image_size=16", "epochs=3"],
    )
    metrics = APP.train(config, tmp_path / "run", profile="smoke", verbose=0)
    assert metrics["test_examples"] == 4
    serve = tf.saved_model.load(str(tmp_path / "run" / "export")).signatures[
        "serving_default"
    ]
    red = np.zeros((30, 20, 3), dtype="uint8")
    red[..., 0] = 255
    out = serve(images=tf.constant([_png(red)]))
    assert out["probabilities"].shape == (1, 2)
    assert out["label"].numpy()[0].decode() in ("red", "blue")


def test_gray_alpha_png_is_accepted(classify_run, tmp_path, capsys):
    run_dir, _, _ = classify_run
    path = tmp_path / "la.png"
    Image.fromarray(np.zeros((9, 9, 2), dtype="uint8"), mode="LA").save(path)
    assert main(APP, ["predict", "--run-dir", str(run_dir), str(path)]) == 0
    assert capsys.readouterr().out.startswith(str(path))


def test_failed_first_attempt_does_not_lock_the_run_dir(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    bad = ["train", "--profile", "smoke", "--run-dir", run_dir, "--set", "model=x"]
    assert main(APP, bad) == 2
    good = ["train", "--profile", "smoke", "--run-dir", run_dir, "--set", "model=mlp"]
    assert main(APP, good) == 0
    # Once trained, other settings are refused with the fields named.
    other = [*good, "--set", "dropout=0.5"]
    assert main(APP, other) == 2
    assert "other settings (dropout)" in capsys.readouterr().err


def test_lr_find_command(tmp_path, capsys):
    out = tmp_path / "lr"
    argv = ["lr-find", "--profile", "smoke", "--out-dir", str(out)]
    argv += ["--set", "model=mlp", "--min-lr", "1e-4", "--max-lr", "1"]
    assert main(APP, argv) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "lr_search.json").read_text())
    assert 1e-4 <= summary["best_lr"] <= 1.0
    assert len(summary["coarse"]) == 5
    assert f"{summary['best_lr']:.3g}" in printed
    assert (out / "lr_search.png").is_file()
