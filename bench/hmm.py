"""Batched HMM decoding: dltoolkit (TensorFlow, NumPy) against hmmlearn.

    .venv/bin/python bench/hmm.py [--batch 256] [--states 64] [--frames 200]
                                  [--features 13] [--repeats 3]
                                  [--out FILE.json] [--smoke]

Samples ``batch`` sequences of ``frames`` frames from a random diagonal-Gaussian
HMM (``features``-dimensional, MFCC-like), then in the same run:

- hmmlearn decodes them one by one: ``decode`` (Viterbi) and ``score``
  (forward), its emission log-likelihoods included;
- dltoolkit computes the emission log-likelihoods of all frames at once and
  runs batched Viterbi and forward: ``tf_impl`` in a graph and through XLA
  (float64 and float32) and ``numpy_impl`` (float64).

Each row reports the best of ``repeats`` timed calls; the first call of a
TensorFlow variant (tracing, XLA compilation) is timed apart as ``first``.
``ratio`` is hmmlearn_time / our_time (above 1: ours is faster); ``agree`` is
the fraction of sequences whose Viterbi path equals hmmlearn's (Viterbi) or
the largest log-likelihood difference (forward). ``--out`` also writes the
rows as JSON; ``--smoke`` runs tiny sizes (4 sequences x 30 frames, 5 states,
3 features, one repeat) for the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # runtime oneDNN notices

from dltoolkit._quiet import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from hmmlearn import hmm as hl  # noqa: E402

from dltoolkit.hmm import HMM, GaussianEmissions, numpy_impl, tf_impl  # noqa: E402


def _model(n_states: int, n_features: int, seed: int = 0) -> HMM:
    rng = np.random.default_rng(seed)
    return HMM(
        rng.dirichlet(np.ones(n_states)),
        rng.dirichlet(np.full(n_states, 0.3), size=n_states),
        GaussianEmissions(
            rng.normal(scale=2.0, size=(n_states, n_features)),
            rng.uniform(0.5, 2.0, size=(n_states, n_features)),
        ),
    )


def _hmmlearn(model: HMM) -> hl.GaussianHMM:
    ref = hl.GaussianHMM(model.n_states, covariance_type="diag", init_params="")
    ref.startprob_, ref.transmat_ = model.startprob, model.transmat
    ref.means_, ref.covars_ = model.emissions.means, model.emissions.covars
    return ref


def _best(fn, repeats: int):
    """(best seconds, result) over repeats calls."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _batched_emissions(model: HMM, x: np.ndarray, dtype) -> np.ndarray:
    b, t, d = x.shape
    return model.log_emissions(x.reshape(b * t, d)).reshape(b, t, -1).astype(dtype)


def _ours(model, x, kind, algorithm, dtype, jit):
    """A callable running one of our variants end to end (emissions included)."""
    ls, lt = model.log_startprob, model.log_transmat
    if kind == "numpy":
        fn = getattr(numpy_impl, algorithm)
        return lambda: fn(ls, lt, _batched_emissions(model, x, dtype))
    fn = getattr(tf_impl, algorithm)

    def run():
        out = fn(ls, lt, _batched_emissions(model, x, dtype), jit_compile=jit)
        return tuple(np.asarray(v) for v in out)

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--states", type=int, default=64)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--features", type=int, default=13)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write the rows here")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (overrides the others)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch, args.states, args.frames, args.features = 4, 5, 30, 3
        args.repeats = 1

    model = _model(args.states, args.features)
    ref = _hmmlearn(model)
    x = np.stack(
        [model.sample(args.frames, seed=s)[0] for s in range(args.batch)]
    )  # (B, T, D)
    print(
        f"HMM: {args.states} states, diagonal Gaussians over {args.features} "
        f"features; {args.batch} sequences x {args.frames} frames; "
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs"
    )

    hl_viterbi, ref_decoded = _best(lambda: [ref.decode(s) for s in x], args.repeats)
    hl_forward, ref_scores = _best(lambda: [ref.score(s) for s in x], args.repeats)
    ref_paths = np.stack([p for _, p in ref_decoded])
    ref_scores = np.asarray(ref_scores)
    rows = [("hmmlearn, one by one", "viterbi", hl_viterbi, None, 1.0, 1.0)]
    rows.append(("hmmlearn, one by one", "forward", hl_forward, None, 1.0, 0.0))

    variants = [
        ("tf graph float64", "tf", np.float64, False),
        ("tf graph float32", "tf", np.float32, False),
        ("tf XLA float64", "tf", np.float64, True),
        ("tf XLA float32", "tf", np.float32, True),
        ("numpy float64", "numpy", np.float64, False),
    ]
    for algorithm, ref_time in (("viterbi", hl_viterbi), ("forward", hl_forward)):
        for name, kind, dtype, jit in variants:
            fn = _ours(model, x, kind, algorithm, dtype, jit)
            first = None
            if kind == "tf":
                first, _ = _best(fn, 1)
            seconds, out = _best(fn, args.repeats)
            if algorithm == "viterbi":
                agree = float(np.mean(np.all(out[0] == ref_paths, axis=1)))
            else:
                agree = float(np.max(np.abs(out[1] - ref_scores)))
            rows.append((name, algorithm, seconds, first, ref_time / seconds, agree))

    print(
        f"\n{'implementation':<22} {'algorithm':<8} {'seconds':>8} {'first':>8} "
        f"{'ratio':>7}  agree"
    )
    for name, algorithm, seconds, first, ratio, agree in rows:
        first_text = f"{first:8.3f}" if first is not None else f"{'':>8}"
        agree_text = (
            f"{agree:.1%} paths" if algorithm == "viterbi" else f"{agree:.1e} max |dLL|"
        )
        print(
            f"{name:<22} {algorithm:<8} {seconds:8.3f} {first_text} {ratio:7.2f}  "
            f"{agree_text}"
        )
    print(
        "\nratio = hmmlearn_time / our_time (goal >= 1.0); 'first' = trace/compile call"
    )
    if args.out:
        keys = ("implementation", "algorithm", "seconds", "first", "ratio", "agree")
        sizes = {k: getattr(args, k) for k in ("batch", "states", "frames", "features")}
        with open(args.out, "w") as f:
            json.dump(
                {**sizes, "rows": [dict(zip(keys, r)) for r in rows]}, f, indent=2
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
