"""The autoencode app: contract files, the variants' measured effects, export
in a fresh process, predict, evaluate, resume, tuning, bad input."""

import json
import textwrap

import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf
from app_helpers import run_fresh_process, train_error
from PIL import Image

from dltoolkit.apps.autoencode.app import APP, VARIANTS
from dltoolkit.apps.autoencode.evaluation import mask
from dltoolkit.data.images import decode_image, prepare_image
from dltoolkit.training.app import main
from dltoolkit.training.runner import load_trained_model, read_state
from dltoolkit.tuning.runner import run_search
from dltoolkit.tuning.spaces import search_space


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("autoencode_run")
    # Four epochs: the denoiser beats the identity by 1.43 dB (seed 1: 1.78;
    # two epochs: 0.21) and the digit-0 detector reaches AUC 0.84 (0.87).
    config = APP.resolve("smoke", ["epochs=4"])
    metrics = APP.train(config, run_dir, profile="smoke", verbose=0)
    return run_dir, config, metrics


def _png(array) -> bytes:
    return tf.io.encode_png(np.asarray(array, dtype="uint8")).numpy()


def test_train_writes_the_contract_files(ae_run):
    run_dir, _, metrics = ae_run
    for name in (
        "config.json",
        "metrics.json",
        "report.md",
        "history.csv",
        "model.keras",
        "denoising.png",
        "anomaly_scores.png",
        "vae_samples.png",
        "vae_latent_map.png",
        "export/saved_model.pb",
    ):
        assert (run_dir / name).exists(), name
    for name in ("plain", "tied", "sparse", "contractive", "vae", "anomaly"):
        assert (run_dir / "companions" / name / "model.keras").is_file(), name
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["profile"] == "smoke" and saved["train_seconds"] > 0
    # The companion models train in the prepare stage, counted in train_seconds.
    assert 0 < saved["prepare_seconds"] < saved["train_seconds"]
    assert saved["test_examples"] == 360
    assert 5 < saved["psnr_noisy"] < 20 and np.isfinite(saved["psnr_denoised"])
    assert saved["psnr_gain_db"] == pytest.approx(
        saved["psnr_denoised"] - saved["psnr_noisy"]
    )
    # Learned: the denoised images beat the masked input itself (the identity;
    # an untrained network is far worse: 7.4 dB) ...
    assert saved["psnr_denoised"] > saved["psnr_noisy"] + 0.5
    assert saved["anomaly_auc_noise"] > 0.9  # digits vs uniform noise
    # ... and a held-out digit reconstructs worse than the trained ones
    # (chance AUC 0.5).
    assert saved["anomaly_auc_class"] > 0.7 and saved["anomaly_class"] == 0
    # Each regularizer's effect, even after two epochs.
    assert saved["sparse_mean_activation"] < 0.5 * saved["plain_mean_activation"]
    assert saved["contractive_jacobian_norm"] < saved["plain_jacobian_norm"]
    assert saved["vae_kl"] > 0 and saved["vae_negative_elbo"] > saved["vae_kl"]
    report = (run_dir / "report.md").read_text()
    for text in ("Sparsity reached", "Contraction measured", "## Autoencoder variants"):
        assert text in report
    assert f"{saved['psnr_denoised']:.2f} dB" in report


def test_psnr_metrics_recomputed_from_the_model(ae_run):
    run_dir, config, metrics = ae_run
    data = APP.load_data(config)
    model = load_trained_model(run_dir)
    x = data.x_test
    noisy = mask(x, config.test_noise, config.seed + 1)
    assert np.mean(noisy == 0) >= np.mean(x == 0)
    out = np.clip(model.predict(noisy, verbose=0), 0, 1)
    mse = np.mean((out.astype("float64") - x) ** 2)
    assert metrics["psnr_denoised"] == pytest.approx(10 * np.log10(1 / mse), rel=1e-4)


def test_export_denoises_in_a_fresh_process(ae_run, tmp_path):
    """Image bytes in, uint8 image out; loads without dltoolkit."""
    run_dir, config, _ = ae_run
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (8, 8, 1)) for _ in range(2)]
    images.append(rng.integers(0, 256, (20, 14, 3)))  # color, another size
    for i, image in enumerate(images):
        (tmp_path / f"{i}.png").write_bytes(_png(image))
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load({str(run_dir / "export")!r}).signatures[
            "serving_default"]
        blobs = [open({str(tmp_path)!r} + f"/{{i}}.png", "rb").read()
                 for i in range(3)]
        out = serve(images=tf.constant(blobs))
        assert "dltoolkit" not in sys.modules
        assert out["denoised"].dtype == tf.uint8
        np.save({str(tmp_path / "out.npy")!r}, out["denoised"].numpy())
        np.save({str(tmp_path / "score.npy")!r}, out["anomaly_score"].numpy())
        decoded = tf.io.decode_png(out["png"][0]).numpy()
        assert (decoded == out["denoised"][0].numpy()).all()
        """
    )
    run_fresh_process(script, tmp_path)
    exported = np.load(tmp_path / "out.npy")
    assert exported.shape == (3, 8, 8, 1)
    model = load_trained_model(run_dir)
    x = np.stack([prepare_image(decode_image(_png(i)), 8, 1).numpy() for i in images])
    expected = np.clip(model.predict(x, verbose=0), 0, 1)
    assert np.abs(exported / 255.0 - expected).max() <= 0.5 / 255 + 1e-6
    scores = np.mean((expected - x) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(np.load(tmp_path / "score.npy"), scores, rtol=1e-4)


def test_predict_writes_denoised_images(ae_run, tmp_path, capsys):
    run_dir, _, _ = ae_run
    path = tmp_path / "digit.png"
    Image.fromarray(np.full((8, 8), 128, dtype="uint8")).save(path)
    assert main(APP, ["predict", "--run-dir", str(run_dir), str(path)]) == 0
    name, score, out = capsys.readouterr().out.strip().split("\t")
    assert name == str(path) and float(score) >= 0
    assert np.asarray(Image.open(out)).shape == (8, 8)
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


def test_evaluate_recomputes_and_train_resumes(ae_run):
    run_dir, config, metrics = ae_run
    (run_dir / "metrics.json").unlink()
    assert main(APP, ["evaluate", "--run-dir", str(run_dir)]) == 0
    again = json.loads((run_dir / "metrics.json").read_text())
    assert again["psnr_denoised"] == pytest.approx(metrics["psnr_denoised"])
    assert again["sparse_mean_activation"] == pytest.approx(
        metrics["sparse_mean_activation"]
    )
    # Fitting again: nothing retrains, main model or companions.
    states = [read_state(run_dir), read_state(run_dir / "companions" / "vae")]
    APP.fit(config, APP.load_data(config), run_dir, verbose=0)
    assert [read_state(run_dir), read_state(run_dir / "companions" / "vae")] == states


def test_mixed_image_sizes_in_a_folder_are_resized(tmp_path):
    """Documented handling: every image is resized to image_size and converted
    to the channels asked for (a folder's own default is RGB)."""
    rng = np.random.default_rng(0)
    sizes = [(8, 8), (12, 20), (30, 9), (16, 16)]
    for label in ("a", "b"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(8):
            h, w = sizes[i % 4]
            shape = (h, w, 3) if i % 2 else (h, w)
            image = rng.integers(0, 256, shape, dtype="uint8")
            Image.fromarray(image).save(tmp_path / "data" / label / f"{i}.png")
    config = APP.resolve(
        "smoke",
        [f"data={tmp_path / 'data'}", "compare=false", "batch_size=4", "channels=1"],
    )
    data = APP.load_data(config)
    assert data.x_train.shape[1:] == (8, 8, 1)
    metrics = APP.train(config, tmp_path / "run", profile="smoke", verbose=0)
    assert metrics["test_examples"] == len(data.x_test) == 4
    assert "sparse_mean_activation" not in metrics  # compare=false


def test_array_file_with_labels_trains(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((40, 8, 8)).astype("float32")
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(40) % 2)
    config = APP.resolve(
        "smoke",
        [f"data={tmp_path / 'd.npz'}", "variant=vae", "compare=false"],
    )
    data = APP.load_data(config)
    assert data.sizes == {"train": 28, "val": 4, "test": 8}
    np.testing.assert_allclose(
        np.sort(data.x_test.ravel()),
        np.sort(x[np.isin(np.arange(40), _test_rows(data, x))].ravel()),
    )
    metrics = APP.train(config, tmp_path / "run", profile="smoke", verbose=0)
    assert np.isfinite(metrics["psnr_denoised"])


def _test_rows(data, x):
    flat = x.reshape(len(x), -1)
    return [int(np.argmin(np.abs(flat - t.ravel()).sum(1))) for t in data.x_test]


@pytest.mark.parametrize(
    "content, message",
    [
        ("nan", "holds 1 NaN or infinite values (first at index (3, 2, 1))"),
        ("inf", "holds 1 NaN or infinite values"),
        ("range", "values must lie in [0, 1] (floats) or [0, 255] (pixels)"),
        ("shape", "must have shape [n, height, width]"),
        ("few", "at least 10 are needed"),
    ],
)
def test_bad_array_files_exit_with_one_line(content, message, tmp_path, capsys):
    x = np.random.default_rng(0).random((20, 8, 8)).astype("float32")
    if content == "nan":
        x[3, 2, 1] = np.nan
    elif content == "inf":
        x[0, 0, 0] = np.inf
    elif content == "range":
        x[1, 1, 1] = -3.0
    elif content == "shape":
        x = x.reshape(20, 64)
    elif content == "few":
        x = x[:5]
    np.save(tmp_path / "x.npy", x)
    argv = ["train", "--profile", "smoke", "--set", f"data={tmp_path / 'x.npy'}"]
    assert main(APP, [*argv, "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["variant=pca"], "Unknown variant 'pca'. Valid: plain"),
        (["anomaly_class=12"], "anomaly_class must be a class index in [0, 10)"),
        (["test_noise=1.0"], "test_noise must be in [0, 1)"),
        (["variant=denoising", "noise=0"], "noise must be in (0, 1)"),
        (["variant=conv", "image_size=10"], "divisible by 4"),
        (["data=/no/such/folder"], "Image folder not found: /no/such/folder"),
        (["data=/no/such.npz"], "Array file not found: /no/such.npz"),
        (["image_size=2"], "image_size must be >= 4"),
    ],
)
def test_bad_config_exits_with_one_line(overrides, message, tmp_path, capsys):
    assert message in train_error(APP, tmp_path / "run", capsys, overrides)


def test_tuning_space():
    hp = kt.HyperParameters()
    config = APP.resolve("smoke")
    values = search_space("autoencode", hp, config)
    assert values["variant"] == "denoising" and values["noise"] == 0.3
    assert "sparsity" not in values and "latent_dim" not in values
    assert set(hp._hps["variant"][0].values) <= set(VARIANTS)
    hp = kt.HyperParameters()
    hp.Fixed("variant", "sparse")
    values = search_space("autoencode", hp, config)
    assert {"sparsity", "sparsity_weight", "code_size"} <= set(values)
    assert "noise" not in values


@pytest.mark.slow
def test_one_tuning_trial(tmp_path):
    summary = run_search(
        APP,
        tuner_name="random",
        max_trials=1,
        directory=tmp_path,
        profile="smoke",
        overrides=["compare=false"],
        verbose=0,
    )
    assert summary["objective"] == "val_denoise_mse"
    assert summary["completed_trials"] == 1
    assert (tmp_path / "best" / "export" / "saved_model.pb").is_file()
