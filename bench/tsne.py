"""t-SNE: dltoolkit's default call against scikit-learn's default TSNE.

    .venv/bin/python bench/tsne.py [--sizes 1797 5000] [--perplexity 30]
                                   [--n-iter 1000] [--seed 0] [--repeats 1]
                                   [--no-exact] [--sne] [--scale-limit 60]
                                   [--threads T] [--force] [--out FILE]
                                   [--smoke]

Data: scikit-learn's 1,797 digits (8 x 8 = 64 features); larger sizes add the
digits shifted by one pixel (right, down, left, up, then diagonally, zeros
shifted in), so 5,000 points are the digits and two shifted copies and a part
of a third.

For each size, in the same run and with the same threads (see
``bench/_harness.py``): ``sklearn.manifold.TSNE`` with its defaults
(Barnes-Hut, PCA init, ``learning_rate="auto"``) and ``dltoolkit.embed.tsne``
with its defaults (``method="auto"``: FFT-accelerated interpolation from
1,000 points), each called ``1 + repeats`` times: ``first`` (imports, caches)
apart from ``best`` of the repeats. Each row: seconds, the KL divergence each
library reports, trustworthiness (k = 5). ``ratio`` = scikit-learn's time /
ours (above 1: ours is faster), on first calls and on best calls; ``dtrust`` =
our trustworthiness - theirs (goal: within 0.01).

On the digits (unless ``--no-exact``) also the exact O(n^2) methods, once
each: scikit-learn's ``method="exact"``, ours in NumPy (float64) and in
TensorFlow (float32 under XLA; its first call, with TensorFlow's import and
the compilation, timed apart). ``--sne`` adds plain SNE.

Scale: our default call and scikit-learn's on growing sizes (500, 1,000,
2,000, 5,000, 10,000, 20,000, 40,000) until a call takes more than
``--scale-limit`` seconds.

``--smoke``: 150 and 300 points, perplexity 10, 300 iterations, sizes 150
and 300 for the scale table, no file unless ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402

SCALE_SIZES = (500, 1000, 2000, 5000, 10000, 20000, 40000)
_SHIFTS = [(0, 0), (0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1)]
_SHIFTS += [(-1, -1)] + [(dy, dx) for dy in (-2, 2) for dx in (-2, -1, 0, 1, 2)]
_SHIFTS += [(dy, dx) for dy in (-1, 0, 1) for dx in (-2, 2)]


def _span(shift: int, side: int):
    """``(target, source)`` slices of an image axis moved by ``shift`` pixels."""
    return (
        slice(max(0, shift), side + min(0, shift)),
        slice(max(0, -shift), side - max(0, shift)),
    )


def digits(n: int):
    """The first ``n`` of the digits followed by shifted copies ``(n, 64)``."""
    import numpy as np
    from sklearn.datasets import load_digits

    images = load_digits().images
    side = images.shape[1]
    copies = []
    for dy, dx in _SHIFTS:
        if sum(len(c) for c in copies) >= n:
            break
        moved = np.zeros_like(images)  # zeros shifted in
        (to_rows, from_rows), (to_cols, from_cols) = _span(dy, side), _span(dx, side)
        moved[:, to_rows, to_cols] = images[:, from_rows, from_cols]
        copies.append(moved.reshape(len(images), -1))
    X = np.concatenate(copies)
    if len(X) < n:
        raise ValueError(f"at most {len(X)} points ({len(_SHIFTS)} shifts)")
    return X[:n]


def _row(name, timing, kl, trust, **extra):
    return {
        "implementation": name,
        "first": timing["first"],
        "best": timing["best"],
        "calls": timing["calls"],
        "kl": float(kl),
        "trustworthiness": float(trust),
        **extra,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1797, 5000])
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--n-iter", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="calls after the first")
    parser.add_argument("--no-exact", action="store_true", help="skip exact t-SNE")
    parser.add_argument("--sne", action="store_true", help="also run plain SNE")
    parser.add_argument(
        "--scale-limit",
        type=float,
        default=60.0,
        help="scale table: stop growing n once a call takes longer (0: no table)",
    )
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    scale_sizes = SCALE_SIZES
    if args.smoke:
        args.sizes, args.perplexity, args.n_iter = [150, 300], 10.0, 300
        scale_sizes = (150, 300)
    run = _harness.Run("tsne", args)

    import numpy as np
    import sklearn
    from sklearn.manifold import TSNE, trustworthiness

    from dltoolkit.embed import sne, tsne

    threads = run.threads
    print(
        f"t-SNE, perplexity {args.perplexity:g}, {args.n_iter} iterations, seed "
        f"{args.seed}; scikit-learn {sklearn.__version__}, NumPy {np.__version__}"
    )

    def theirs(X, method="barnes_hut"):
        model = TSNE(
            perplexity=args.perplexity,
            max_iter=args.n_iter,
            method=method,
            random_state=args.seed,
            n_jobs=threads,
        )
        Y = model.fit_transform(X)
        return Y, model.kl_divergence_

    def ours(X, **kwargs):
        result = tsne(
            X,
            perplexity=args.perplexity,
            n_iter=args.n_iter,
            random_state=args.seed,
            n_jobs=threads,
            **kwargs,
        )
        return result.embedding, result.kl_divergence, result.gradient

    sizes = {}
    for n in args.sizes:
        X = digits(n)
        rows = []
        timing, (Y, kl) = _harness.first_and_best(lambda X=X: theirs(X), args.repeats)
        trust = trustworthiness(X, Y, n_neighbors=5)
        rows.append(_row("scikit-learn TSNE (default: barnes_hut)", timing, kl, trust))
        timing, (Y, kl, method) = _harness.first_and_best(
            lambda X=X: ours(X), args.repeats
        )
        trust = trustworthiness(X, Y, n_neighbors=5)
        name = f"dltoolkit tsne (default: {method})"
        rows.append(_row(name, timing, kl, trust, method=method))
        if method != "fft":  # small n: the default is exact; show fft too
            timing, (Y, kl, _) = _harness.first_and_best(
                lambda X=X: ours(X, method="fft"), args.repeats
            )
            trust = trustworthiness(X, Y, n_neighbors=5)
            rows.append(_row("dltoolkit tsne method=fft", timing, kl, trust))
        if not args.no_exact and n == min(args.sizes):
            once = 0
            timing, (Y, kl) = _harness.first_and_best(
                lambda X=X: theirs(X, "exact"), once
            )
            trust = trustworthiness(X, Y, n_neighbors=5)
            rows.append(_row("scikit-learn TSNE exact", timing, kl, trust))
            timing, (Y, kl, _) = _harness.first_and_best(
                lambda X=X: ours(X, method="exact"), once
            )
            trust = trustworthiness(X, Y, n_neighbors=5)
            rows.append(_row("dltoolkit tsne exact (NumPy)", timing, kl, trust))
            # TensorFlow's pools are pinned before it runs: its import is
            # timed on its own, the first call (XLA compilation) apart.
            imported, _ = _harness.timed(run.tensorflow)
            timing, (Y, kl, _) = _harness.first_and_best(
                lambda X=X: ours(X, method="exact", backend="tensorflow"), 1
            )
            trust = trustworthiness(X, Y, n_neighbors=5)
            rows.append(
                _row(
                    "dltoolkit tsne exact (TensorFlow)",
                    timing,
                    kl,
                    trust,
                    tensorflow_import=imported,
                )
            )
        if args.sne and n == min(args.sizes):
            timing, result = _harness.first_and_best(
                lambda X=X: sne(
                    X, perplexity=args.perplexity, n_iter=args.n_iter, random_state=0
                ),
                0,
            )
            trust = trustworthiness(X, result.embedding, n_neighbors=5)
            rows.append(
                _row("dltoolkit sne (exact)", timing, result.kl_divergence, trust)
            )
        sklearn_row, our_row = rows[0], rows[1]
        summary = {
            "ratio_first": sklearn_row["first"] / our_row["first"],
            "ratio_best": sklearn_row["best"] / our_row["best"],
            "dtrust": our_row["trustworthiness"] - sklearn_row["trustworthiness"],
        }
        sizes[str(n)] = {"points": n, "rows": rows, **summary}
        _print_size(n, rows, summary)

    scale = []
    if args.scale_limit > 0:
        scale = _scale(scale_sizes, args.scale_limit, theirs, ours)
    run.print_threads()
    run.write(
        {
            "perplexity": args.perplexity,
            "n_iter": args.n_iter,
            "seed": args.seed,
            "repeats": args.repeats,
            "sizes": sizes,
            "scale": scale,
            "scale_limit_seconds": args.scale_limit,
        }
    )
    return 0


def _print_size(n, rows, summary):
    print(
        f"\n{n} points\n{'implementation':<42} {'first':>8} {'best':>8} "
        f"{'KL':>8} {'trust@5':>8}"
    )
    for row in rows:
        print(
            f"{row['implementation']:<42} {row['first']:8.2f} {row['best']:8.2f} "
            f"{row['kl']:8.4f} {row['trustworthiness']:8.4f}"
        )
    print(
        f"ratio scikit-learn / ours: first calls {summary['ratio_first']:.2f}, "
        f"best calls {summary['ratio_best']:.2f}; dtrust {summary['dtrust']:+.4f} "
        "(above 1: ours is faster; goal |dtrust| <= 0.01)",
        flush=True,
    )


def _scale(sizes, limit, theirs, ours):
    """Seconds of one call per size, each side until a call exceeds ``limit``."""
    print(f"\nscale (one call each, until one takes over {limit:g} s)")
    print(f"{'points':>8} {'dltoolkit':>10} {'scikit-learn':>13}")
    table, going = [], {"dltoolkit": True, "scikit-learn": True}
    for n in sizes:
        if not any(going.values()):
            break
        try:
            X = digits(n)
        except ValueError:
            break
        row = {"points": n, "dltoolkit": None, "scikit-learn": None}
        for side, fn in (("dltoolkit", ours), ("scikit-learn", theirs)):
            if going[side]:
                seconds, _ = _harness.timed(lambda X=X, fn=fn: fn(X))
                row[side] = seconds
                going[side] = seconds <= limit
        table.append(row)
        cells = [
            f"{row[s]:10.2f}" if row[s] is not None else f"{'-':>10}"
            for s in ("dltoolkit", "scikit-learn")
        ]
        print(f"{n:8d} {cells[0]} {cells[1]:>13}", flush=True)
    return table


if __name__ == "__main__":
    sys.exit(main())
