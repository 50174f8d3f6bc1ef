"""t-SNE of scikit-learn's digits: dltoolkit against scikit-learn's TSNE.

    .venv/bin/python bench/tsne.py [--points 1797] [--perplexity 30]
                                   [--n-iter 1000] [--seed 0] [--sne]
                                   [--out FILE.json] [--smoke]

Embeds the first ``points`` digits (64 features) in 2-D in the same run with
scikit-learn's ``TSNE`` (``method="exact"`` and ``"barnes_hut"``, PCA init,
``learning_rate="auto"``) and with ``dltoolkit.embed.tsne`` (exact, the same
defaults; ``backend="numpy"`` in float64 and ``backend="tensorflow"`` in
float32 under XLA, whose first call, with TensorFlow's import and the
compilation, is timed apart as ``first``), and prints for each: seconds, the
final KL divergence, trustworthiness (k = 5) and

- ``ratio`` = scikit-learn time / our time (above 1: ours is faster), for
  each of our backends;
- ``dtrust`` = our trustworthiness - theirs (goal: within 0.01).

``--sne`` adds plain SNE (Gaussian Q) as a reference for the crowding problem.
``--out`` also writes the figures as JSON; ``--smoke`` runs tiny sizes (150
points, perplexity 10, 300 iterations: the 250 of early exaggeration and 50
after it) for the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.manifold import TSNE, trustworthiness  # noqa: E402

from dltoolkit.embed import sne, tsne  # noqa: E402


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1797)
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--n-iter", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sne", action="store_true", help="also run plain SNE")
    parser.add_argument("--out", default=None, help="also write the figures here")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (overrides the others)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.points, args.perplexity, args.n_iter = 150, 10.0, 300

    X = load_digits().data[: args.points]
    print(
        f"t-SNE of {len(X)} digits x {X.shape[1]} features, perplexity "
        f"{args.perplexity:g}, {args.n_iter} iterations; scikit-learn "
        f"{sklearn.__version__}, NumPy {np.__version__}, {os.cpu_count()} CPUs"
    )

    rows = {}
    for method in ("exact", "barnes_hut"):
        model = TSNE(
            perplexity=args.perplexity,
            max_iter=args.n_iter,
            method=method,
            random_state=args.seed,
        )
        seconds, Y = _timed(lambda model=model: model.fit_transform(X))
        rows[f"scikit-learn {method}"] = (seconds, model.kl_divergence_, Y)
    first = {}
    for backend in ("numpy", "tensorflow"):

        def run(backend=backend):
            return tsne(
                X,
                perplexity=args.perplexity,
                n_iter=args.n_iter,
                random_state=args.seed,
                backend=backend,
            )

        if backend == "tensorflow":
            first[backend], _ = _timed(run)
        seconds, result = _timed(run)
        name = f"dltoolkit tsne {backend}"
        rows[name] = (seconds, result.kl_divergence, result.embedding)
    if args.sne:
        seconds, result = _timed(
            lambda: sne(
                X,
                perplexity=args.perplexity,
                n_iter=args.n_iter,
                random_state=args.seed,
            )
        )
        rows["dltoolkit sne"] = (seconds, result.kl_divergence, result.embedding)

    trust = {name: trustworthiness(X, r[2], n_neighbors=5) for name, r in rows.items()}
    print(
        f"\n{'implementation':<26} {'seconds':>8} {'first':>8} {'KL':>8} {'trust@5':>8}"
    )
    for name, (seconds, kl, _) in rows.items():
        backend = name.rsplit(" ", 1)[-1]
        first_text = f"{first[backend]:8.2f}" if backend in first else f"{'':>8}"
        print(f"{name:<26} {seconds:8.2f} {first_text} {kl:8.4f} {trust[name]:8.4f}")
    print(f"\n{'ours':<26} {'against':<24} {'ratio':>7} {'dtrust':>8}")
    for backend in ("numpy", "tensorflow"):
        ours = f"dltoolkit tsne {backend}"
        for method in ("exact", "barnes_hut"):
            name = f"scikit-learn {method}"
            ratio = rows[name][0] / rows[ours][0]
            dtrust = trust[ours] - trust[name]
            print(f"{ours:<26} {name:<24} {ratio:7.2f} {dtrust:+8.4f}")
    print(
        "\nratio = scikit-learn time / our time (above 1: ours is faster); "
        "dtrust = our trustworthiness - theirs (goal: |dtrust| <= 0.01); "
        "'first' = call with TensorFlow's import and XLA compilation"
    )
    if args.out:
        figures = {
            "points": len(X),
            "perplexity": args.perplexity,
            "n_iter": args.n_iter,
            "rows": {
                name: {
                    "seconds": seconds,
                    "first": first.get(name.rsplit(" ", 1)[-1]),
                    "kl": float(kl),
                    "trustworthiness": float(trust[name]),
                }
                for name, (seconds, kl, _) in rows.items()
            },
        }
        with open(args.out, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
