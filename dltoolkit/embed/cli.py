"""``dltk tsne``: embed a .npy / .csv file or scikit-learn's digits, save a scatter PNG.

Only argparse is imported here; NumPy and the embedding code load when the
command runs.
"""

from __future__ import annotations

import os
import time

from dltoolkit.errors import DataError


def add_tsne_parser(sub) -> None:
    """Registers ``dltk tsne`` on an argparse subparsers object."""
    p = sub.add_parser(
        "tsne",
        help="t-SNE (or SNE) of a .npy/.csv file or the digits: scatter PNG",
        description="Embeds the rows of INPUT in 2-D with t-SNE (FFT-accelerated "
        "from 1,000 points, exact below; see --method) and saves a "
        "scatter plot. INPUT is 'digits' (scikit-learn's 1,797 8x8 digits, "
        "colored by digit), a .npy file (2-D, or N-D flattened per row) or a "
        "comma-separated .csv file (a non-numeric first line is a header).",
    )
    p.add_argument("input", nargs="?", default="digits", help="(default: digits)")
    p.add_argument("-o", "--out", default="tsne.png", help="PNG (default: tsne.png)")
    p.add_argument("--labels", help="class of each row: .npy, or text, one a line")
    p.add_argument("--limit", type=int, help="embed only the first LIMIT rows")
    p.add_argument("--perplexity", type=float, default=30.0, help="(default: 30)")
    p.add_argument("--n-iter", type=int, default=1000, help="(default: 1000)")
    p.add_argument(
        "--early-exaggeration", type=float, default=None, help="(default: 12; SNE 4)"
    )
    p.add_argument("--learning-rate", default="auto", help="number or auto")
    p.add_argument("--init", choices=["pca", "random"], default="pca")
    p.add_argument("--seed", type=int, default=0, help="for --init random")
    p.add_argument("--sne", action="store_true", help="plain SNE (Gaussian Q)")
    p.add_argument(
        "--backend",
        choices=["numpy", "tensorflow"],
        default="numpy",
        help="t-SNE steps in NumPy float64 (default) or TensorFlow XLA float32",
    )
    p.add_argument(
        "--method",
        choices=["auto", "fft", "exact"],
        default="auto",
        help="t-SNE gradient: fft (interpolated repulsion, sparse P), exact "
        "(every pair), auto (fft from 1,000 points; default)",
    )
    p.add_argument("--save-embedding", metavar="NPY", help="also save the coordinates")
    p.add_argument("--verbose", action="store_true", help="progress bar")
    p.set_defaults(run=run_tsne)


def _read_matrix(path: str):
    import numpy as np

    if not os.path.isfile(path):
        raise DataError(f"Input file not found: {path} (or use 'digits').")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy":
            X = np.load(path, allow_pickle=False)
            return X.reshape(len(X), -1) if X.ndim > 2 else X
        if ext in (".csv", ".txt"):
            try:
                return np.loadtxt(path, delimiter=",", ndmin=2)
            except ValueError:
                return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
    except (ValueError, OSError) as err:
        raise DataError(f"Cannot read {path} as a numeric matrix: {err}") from None
    raise DataError(f"Unsupported input {path}: expected .npy or .csv, or 'digits'.")


def _read_labels(path: str, n: int):
    import numpy as np

    if not os.path.isfile(path):
        raise DataError(f"Labels file not found: {path}")
    if path.lower().endswith(".npy"):
        labels = np.load(path, allow_pickle=False).reshape(-1)
    else:
        with open(path, encoding="utf-8") as f:
            labels = np.array([line.strip() for line in f if line.strip()])
    if len(labels) != n:
        raise DataError(f"{path} has {len(labels)} labels but the input has {n} rows.")
    return labels


def run_tsne(args) -> int:
    from sklearn.manifold import trustworthiness

    from dltoolkit.embed.neighbor_embedding import sne, tsne
    from dltoolkit.embed.plots import save_scatter

    if args.input == "digits":
        from sklearn.datasets import load_digits

        data = load_digits()
        X, labels = data.data, data.target
    else:
        X, labels = _read_matrix(args.input), None
    if args.labels:
        labels = _read_labels(args.labels, len(X))
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"--limit must be positive. Received: {args.limit}")
        X = X[: args.limit]
        labels = None if labels is None else labels[: args.limit]
    rate = args.learning_rate
    if rate != "auto":
        try:
            rate = float(rate)
        except ValueError:
            raise ValueError(
                f"--learning-rate must be a number or auto. Received: {rate!r}"
            ) from None
    kwargs = {}
    if args.early_exaggeration is not None:
        kwargs["early_exaggeration"] = args.early_exaggeration
    if args.backend != "numpy":
        if args.sne:
            raise ValueError("--backend tensorflow is for t-SNE only, not --sne.")
        kwargs["backend"] = args.backend
    if args.method != "auto":
        if args.sne:
            raise ValueError("--method is for t-SNE only: SNE is exact.")
        kwargs["method"] = args.method
    method = sne if args.sne else tsne
    start = time.perf_counter()
    result = method(
        X,
        perplexity=args.perplexity,
        n_iter=args.n_iter,
        learning_rate=rate,
        init=args.init,
        random_state=args.seed,
        verbose=args.verbose,
        **kwargs,
    )
    seconds = time.perf_counter() - start
    name = "SNE" if args.sne else "t-SNE"
    trust = trustworthiness(X, result.embedding, n_neighbors=5)
    title = (
        f"{name} of {os.path.basename(args.input)} ({len(X)} points), "
        f"perplexity {args.perplexity:g}, KL {result.kl_divergence:.3f}"
    )
    save_scatter(args.out, result.embedding, labels, title=title)
    if args.save_embedding:
        import numpy as np

        np.save(args.save_embedding, result.embedding)
    print(
        f"{name}: {X.shape[0]} points x {X.shape[1]} features, perplexity "
        f"{args.perplexity:g}: KL {result.kl_divergence:.4f} after {result.n_iter} "
        f"iterations in {seconds:.1f} s ({result.gradient} gradient); "
        f"trustworthiness (k=5) {trust:.4f}"
    )
    print(f"wrote {args.out}")
    return 0
