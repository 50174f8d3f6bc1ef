"""dltk tsne."""

import numpy as np
from PIL import Image
from sklearn.manifold import trustworthiness

from dltoolkit.cli import main


def _blobs(n=60):
    rng = np.random.default_rng(0)
    centers = np.repeat(np.eye(3) * 10, n // 3, axis=0)
    return centers + rng.normal(size=(n, 3)), np.repeat([0, 1, 2], n // 3)


def test_npy_with_labels(tmp_path, capsys):
    X, y = _blobs()
    np.save(tmp_path / "x.npy", X)
    (tmp_path / "y.txt").write_text("\n".join(f"c{v}" for v in y) + "\n")
    out, emb = tmp_path / "plot.png", tmp_path / "emb.npy"
    code = main(
        [
            "tsne",
            str(tmp_path / "x.npy"),
            "-o",
            str(out),
            "--labels",
            str(tmp_path / "y.txt"),
            "--perplexity",
            "10",
            "--n-iter",
            "300",
            "--save-embedding",
            str(emb),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    Y = np.load(emb)
    assert Y.shape == (60, 2)
    trust = trustworthiness(X, Y, n_neighbors=5)
    assert f"trustworthiness (k=5) {trust:.4f}" in printed
    assert "t-SNE: 60 points x 3 features, perplexity 10" in printed
    assert trust > 0.9
    with Image.open(out) as image:
        assert image.size[0] > 300


def test_csv_with_header_and_sne(tmp_path, capsys):
    X, _ = _blobs(30)
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in X))
    out = tmp_path / "s.png"
    assert (
        main(
            [
                "tsne",
                str(path),
                "-o",
                str(out),
                "--sne",
                "--perplexity",
                "5",
                "--n-iter",
                "100",
            ]
        )
        == 0
    )
    assert "SNE: 30 points x 3 features, perplexity 5" in capsys.readouterr().out
    assert out.exists()


def test_errors_are_one_line(tmp_path, capsys):
    X, _ = _blobs()
    np.save(tmp_path / "x.npy", X)
    assert main(["tsne", str(tmp_path / "x.npy"), "-o", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: t-SNE needs at least 3 x perplexity points: got 60 points with "
        "perplexity 30 (needs 90 points); use perplexity <= 20 or more points.\n"
    )
    X[0, 0] = np.nan
    np.save(tmp_path / "nan.npy", X)
    assert main(["tsne", str(tmp_path / "nan.npy"), "--perplexity", "5"]) == 2
    assert "holds 1 NaN and 0 infinite values (first at row 0, column 0)" in (
        capsys.readouterr().err
    )
    assert main(["tsne", str(tmp_path / "missing.npy")]) == 2
    assert "Input file not found" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("1,2\nx,y\n")
    assert main(["tsne", str(tmp_path / "bad.csv")]) == 2
    assert "Cannot read" in capsys.readouterr().err
    np.save(tmp_path / "y.npy", np.arange(5))
    assert (
        main(["tsne", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy")])
        == 2
    )
    assert "has 5 labels but the input has 60 rows" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_digits_with_tensorflow_backend(tmp_path, capsys):
    out = tmp_path / "digits.png"
    args = ["tsne", "-o", str(out), "--n-iter", "50", "--perplexity", "10"]
    assert main([*args, "--backend", "tensorflow", "--limit", "300"]) == 0
    printed = capsys.readouterr().out
    assert "t-SNE: 300 points x 64 features, perplexity 10: KL " in printed
    assert "after 50 iterations" in printed
    assert f"wrote {out}" in printed and out.exists()
    assert main([*args, "--backend", "tensorflow", "--sne"]) == 2
    assert "--backend tensorflow is for t-SNE only" in capsys.readouterr().err


def test_method_fft_and_exact(tmp_path, capsys):
    out = tmp_path / "digits.png"
    args = ["tsne", "-o", str(out), "--n-iter", "50", "--perplexity", "10"]
    assert main([*args, "--limit", "300", "--method", "fft"]) == 0
    assert "(fft gradient)" in capsys.readouterr().out
    assert main([*args, "--limit", "300"]) == 0  # auto: exact below 1,000 points
    assert "(exact gradient)" in capsys.readouterr().out
    assert main([*args, "--method", "exact", "--sne", "--limit", "300"]) == 2
    assert "--method is for t-SNE only" in capsys.readouterr().err
