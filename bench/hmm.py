"""Batched HMM inference, log-emissions given: dltoolkit against hmmlearn's
C++ kernels.

    .venv/bin/python bench/hmm.py [--batch 256] [--states 64] [--frames 200]
                                  [--features 13] [--repeats 3]
                                  [--no-tensorflow] [--scale-limit 60]
                                  [--threads T] [--force] [--out FILE]
                                  [--smoke]

Model: a random HMM with diagonal-Gaussian emissions (``features``-dimensional,
MFCC-like; Dirichlet(0.3) transition rows); ``batch`` sequences of ``frames``
frames sampled from it; their emission log-likelihoods ``(B, T, N)`` computed
once: both sides get the same log-emissions.

Rows, in the same run with the same threads (see ``bench/_harness.py``), each
with its first call timed apart from the best of ``repeats`` calls after it:

- viterbi: hmmlearn's ``_hmmc.viterbi`` (what ``decode`` runs) on one
  sequence after another, and ``dltoolkit.hmm.viterbi`` (the default call:
  batched NumPy); ``agree`` = the fraction of paths identical to hmmlearn's,
  ``max_diff`` = the largest |log-probability difference|;
- forward: hmmlearn's ``_hmmc.forward_log`` (its default ``implementation="log"``)
  and ``_hmmc.forward_scaling`` (``implementation="scaling"``) one by one, and
  ``dltoolkit.hmm.forward``; ``max_diff`` = the largest |log-likelihood
  difference| from ``forward_log``;
- viterbi on flat emissions (every state about as likely in every frame): the
  worst case of the bounded max-plus step of ``dltoolkit.hmm.viterbi``;
- unless ``--no-tensorflow``: ``dltoolkit.hmm.tf_impl`` in a graph and through
  XLA, float64 and float32 (TensorFlow's import timed on its own; the first
  call traces and compiles).

``ratio`` = hmmlearn's best time / ours (above 1: ours is faster), against
``_hmmc.viterbi`` and ``_hmmc.forward_log``; ``ratio_first`` uses our first
call. Scale: viterbi and forward on growing ``frames`` (50, 100, ... doubling;
the sampled log-emissions repeated) until a call takes more than
``--scale-limit`` seconds or an array would exceed 2 GiB.

``--smoke``: 4 sequences x 30 frames, 20 states, 3 features, one repeat,
frames 30 and 60 for the scale table, no file unless ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402

_SCALE_BYTES = 2 << 30  # scale table: (B, T, N) float64 arrays up to 2 GiB


def _model(n_states: int, n_features: int, seed: int = 0):
    import numpy as np

    from dltoolkit.hmm import HMM, GaussianEmissions

    rng = np.random.default_rng(seed)
    return HMM(
        rng.dirichlet(np.ones(n_states)),
        rng.dirichlet(np.full(n_states, 0.3), size=n_states),
        GaussianEmissions(
            rng.normal(scale=2.0, size=(n_states, n_features)),
            rng.uniform(0.5, 2.0, size=(n_states, n_features)),
        ),
    )


def _log_emissions(model, batch: int, frames: int):
    """``(B, T, N)`` log-likelihoods of ``batch`` sampled sequences."""
    import numpy as np

    x = np.stack([model.sample(frames, seed=s)[0] for s in range(batch)])
    b, t, d = x.shape
    return model.log_emissions(x.reshape(b * t, d)).reshape(b, t, -1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--states", type=int, default=64)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--features", type=int, default=13)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-tensorflow", action="store_true")
    parser.add_argument(
        "--scale-limit",
        type=float,
        default=60.0,
        help="scale table: stop doubling T once a call takes longer (0: none)",
    )
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    scale_frames = [50 * 2**k for k in range(12)]
    if args.smoke:
        args.batch, args.states, args.frames, args.features = 4, 20, 30, 3
        args.repeats = 1
        scale_frames = [30, 60]
    run = _harness.Run("hmm", args)

    import hmmlearn
    import numpy as np
    from hmmlearn import _hmmc

    import dltoolkit.hmm as dh

    model = _model(args.states, args.features)
    start, trans = model.startprob, model.transmat
    ls, lt = model.log_startprob, model.log_transmat
    em = _log_emissions(model, args.batch, args.frames)
    print(
        f"HMM: {args.states} states, diagonal Gaussians over {args.features} "
        f"features; {args.batch} sequences x {args.frames} frames, log-emissions "
        f"given; hmmlearn {hmmlearn.__version__}, NumPy {np.__version__}"
    )

    def hl_viterbi(em):
        return [_hmmc.viterbi(start, trans, e) for e in em]

    def hl_forward_log(em):
        return [_hmmc.forward_log(start, trans, e)[0] for e in em]

    def hl_forward_scaling(em):
        frames = np.exp(em)
        return [_hmmc.forward_scaling(start, trans, f)[0] for f in frames]

    rows = []

    def add(name, algorithm, fn, reference=None, kind=None):
        timing, out = _harness.first_and_best(fn, args.repeats)
        row = {"implementation": name, "algorithm": algorithm, **timing}
        if reference is not None:
            row["ratio"] = reference["best"] / timing["best"]
            row["ratio_first"] = reference["best"] / timing["first"]
        if kind == "viterbi":
            paths, log_probs = out
            ref_paths = np.stack([p for _, p in ref_viterbi])
            row["agree"] = float(np.mean(np.all(paths == ref_paths, axis=1)))
            ref_lp = np.array([lp for lp, _ in ref_viterbi])
            row["max_diff"] = float(np.max(np.abs(np.asarray(log_probs) - ref_lp)))
        elif kind == "forward":
            row["max_diff"] = float(np.max(np.abs(np.asarray(out) - ref_loglik)))
        rows.append(row)
        return row

    hl = "hmmlearn C++, one by one"
    ref_v = add(f"{hl}: _hmmc.viterbi", "viterbi", lambda: hl_viterbi(em))
    ref_viterbi = hl_viterbi(em)
    ref_f = add(f"{hl}: _hmmc.forward_log", "forward", lambda: hl_forward_log(em))
    ref_loglik = np.array(hl_forward_log(em))
    add(
        f"{hl}: _hmmc.forward_scaling",
        "forward",
        lambda: hl_forward_scaling(em),
        kind="forward",
    )
    add(
        "dltoolkit.hmm.viterbi (default)",
        "viterbi",
        lambda: dh.viterbi(ls, lt, em),
        ref_v,
        "viterbi",
    )
    add(
        "dltoolkit.hmm.forward (default)",
        "forward",
        lambda: dh.forward(ls, lt, em)[1],
        ref_f,
        "forward",
    )

    # The worst case of the bounded Viterbi step: flat emissions.
    flat = np.random.default_rng(1).normal(scale=0.1, size=em.shape)
    saved = ref_viterbi
    ref_flat = add(f"{hl}: _hmmc.viterbi", "viterbi, flat", lambda: hl_viterbi(flat))
    ref_viterbi = hl_viterbi(flat)
    add(
        "dltoolkit.hmm.viterbi (default)",
        "viterbi, flat",
        lambda: dh.viterbi(ls, lt, flat),
        ref_flat,
        "viterbi",
    )
    ref_viterbi = saved

    tensorflow = {}
    if not args.no_tensorflow:
        imported, tf = _harness.timed(run.tensorflow)
        tensorflow["import_seconds"] = imported
        from dltoolkit.hmm import tf_impl

        for dtype in ("float64", "float32"):
            em_t = em.astype(dtype)
            for jit in (False, True):
                name = f"tf_impl {'XLA' if jit else 'graph'} {dtype}"

                def call_viterbi(em_t=em_t, jit=jit):
                    path, lp = tf_impl.viterbi(ls, lt, em_t, jit_compile=jit)
                    return np.asarray(path), np.asarray(lp)

                def call_forward(em_t=em_t, jit=jit):
                    return np.asarray(tf_impl.forward(ls, lt, em_t, jit_compile=jit)[1])

                add(name, "viterbi", call_viterbi, ref_v, "viterbi")
                add(name, "forward", call_forward, ref_f, "forward")

    _print_rows(rows)
    scale = []
    if args.scale_limit > 0:
        scale = _scale(
            scale_frames, args, model, args.scale_limit, hl_viterbi, hl_forward_log
        )
    run.print_threads()
    run.write(
        {
            "batch": args.batch,
            "states": args.states,
            "frames": args.frames,
            "features": args.features,
            "repeats": args.repeats,
            "rows": rows,
            "tensorflow": tensorflow,
            "scale": scale,
            "scale_limit_seconds": args.scale_limit,
        }
    )
    return 0


def _print_rows(rows):
    print(
        f"\n{'implementation':<50} {'algorithm':<14} {'first':>8} {'best':>8} "
        f"{'ratio':>6}  agreement"
    )
    for row in rows:
        ratio = f"{row['ratio']:6.2f}" if "ratio" in row else f"{'':>6}"
        agree = ""
        if "agree" in row:
            agree = f"{row['agree']:.0%} paths, "
        if "max_diff" in row:
            agree += f"max |diff| {row['max_diff']:.1e}"
        print(
            f"{row['implementation']:<50} {row['algorithm']:<14} "
            f"{row['first']:8.4f} {row['best']:8.4f} {ratio}  {agree}"
        )
    print(
        "\nratio = hmmlearn's best time / ours (goal >= 1.0); first = the first "
        "call (TensorFlow: tracing and XLA compilation)",
        flush=True,
    )


def _scale(frames_list, args, model, limit, hl_viterbi, hl_forward_log):
    """Best-of-one seconds per T, each column until a call exceeds ``limit``."""
    import numpy as np

    import dltoolkit.hmm as dh

    columns = {
        "dltoolkit viterbi": lambda em: dh.viterbi(
            model.log_startprob, model.log_transmat, em
        ),
        "hmmlearn viterbi": hl_viterbi,
        "dltoolkit forward": lambda em: dh.forward(
            model.log_startprob, model.log_transmat, em
        ),
        "hmmlearn forward_log": hl_forward_log,
    }
    print(f"\nscale: {args.batch} sequences, {args.states} states; seconds per call")
    print(f"{'frames':>8} " + " ".join(f"{c:>21}" for c in columns))
    table, going = [], dict.fromkeys(columns, True)
    base = _log_emissions(model, args.batch, min(frames_list[0], 200))
    for frames in frames_list:
        if not any(going.values()):
            break
        if args.batch * frames * args.states * 8 > _SCALE_BYTES:
            print(f"(stopped: {frames} frames would need over 2 GB per array)")
            break
        # The sampled frames repeated: the same statistics at any length.
        em = np.tile(base, (1, -(-frames // base.shape[1]), 1))[:, :frames]
        row = {"frames": frames}
        for name, fn in columns.items():
            row[name] = None
            if going[name]:
                seconds, _ = _harness.timed(lambda fn=fn, em=em: fn(em))
                row[name] = seconds
                going[name] = seconds <= limit
        table.append(row)
        cells = [
            f"{row[c]:21.3f}" if row[c] is not None else f"{'-':>21}" for c in columns
        ]
        print(f"{frames:8d} " + " ".join(cells), flush=True)
    return table


if __name__ == "__main__":
    sys.exit(main())
