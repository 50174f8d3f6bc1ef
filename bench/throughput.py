"""Training steps per second of each app's quick model, with and without the
GPU path (mixed precision, XLA).

    python bench/throughput.py                      # every app, 20 timed steps
    python bench/throughput.py --apps classify sentiment --steps 50
    python bench/throughput.py --set translation:num_pairs=2000 --out bench.json
    python bench/throughput.py --smoke --out bench.json   # tiny: for the tests
    python bench/throughput.py --threads 2 --force        # see bench/_harness.py

For each app: the ``--profile``'s config (default ``quick``) and data, a few
batches of its training pipeline cached in memory (so the input pipeline is
not measured), then for each mode (float32, mixed precision, XLA, both) a
fresh model compiled as the app compiles it, ``--warmup`` steps (tracing and
XLA compilation), and ``--steps`` timed steps. Prints one line per measurement as
it goes, then a table of steps/s and the ratios to float32. On a CPU, mixed
precision means bfloat16 (``mixed_bfloat16``); on a GPU, float16.
``--smoke`` times the smoke profile of classify in float32 and mixed+xla
(unless ``--apps`` and ``--modes`` name others), 2 steps after 1 warm-up
step, once, on 2 cached batches.

TensorFlow's intra-op and inter-op pools (and BLAS/OpenMP) get ``--threads``
(default: every CPU) before TensorFlow starts; the script refuses to run when
the 1-minute load average exceeds the core count (``--force`` runs anyway and
flags the JSON). Results: ``bench/results/throughput.json`` (or ``--out``)
with the machine's description; a ``--smoke`` run writes only to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness  # noqa: E402

MODES = {
    "float32": dict(mixed_precision=False, jit_compile=False),
    "mixed": dict(mixed_precision=True, jit_compile=False),
    "xla": dict(mixed_precision=False, jit_compile=True),
    "mixed+xla": dict(mixed_precision=True, jit_compile=True),
}


def steps_per_second(
    app, config, data, batches, *, warmup: int, steps: int, repeats: int = 3
):
    """Times ``steps`` training steps of a fresh model on cached ``batches``.

    The best of ``repeats`` timings: the machine may be shared.
    """
    import keras

    from dltoolkit.optim import make_optimizer
    from dltoolkit.training.runner import precision_policy

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(config.seed)
    with precision_policy(config.mixed_precision):
        model = app.build_model(config, data)
        optimizer, _ = make_optimizer(config, steps)
        loss, metrics = app.loss_and_metrics(config)
        model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            jit_compile=config.jit_compile,
        )
        repeated = batches.repeat()
        fit = dict(epochs=1, verbose=0, shuffle=False)
        model.fit(repeated, steps_per_epoch=warmup, **fit)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(repeated, steps_per_epoch=steps, **fit)
            best = min(best, time.perf_counter() - start)
    return steps / best


def bench_app(
    name,
    overrides,
    *,
    modes,
    warmup,
    steps,
    cached_batches,
    log,
    repeats=3,
    profile="quick",
):
    """steps/s per mode for app ``name`` (None where the mode failed).

    The app's prepare stage (what its model needs before fitting: a GMM-HMM
    alignment, a judge, ...) runs first, in a scratch run directory, as
    ``dltk APP train`` runs it; it is not timed as training steps.
    """
    import tempfile

    from dltoolkit.apps import get_app

    app = get_app(name)
    base = app.resolve(profile, overrides)
    with tempfile.TemporaryDirectory(prefix=f"throughput-{name}-") as scratch:
        start = time.perf_counter()
        data = app.load_data(base)
        app.run_prepare(base, data, scratch)
        batches = app.pipelines(base, data).train.take(cached_batches).cache()
        for _ in batches:  # fill the cache
            pass
        log(f"{name}: data ready in {time.perf_counter() - start:.1f}s")
        return _bench_modes(
            app, name, base, data, batches, scratch, modes, warmup, steps, log, repeats
        )


def _bench_modes(
    app, name, base, data, batches, scratch, modes, warmup, steps, log, repeats
):
    import dataclasses

    results, errors = {}, {}
    for mode in modes:
        config = dataclasses.replace(base, **MODES[mode])
        try:
            app.run_prepare(config, data, scratch)  # reused: same products
            rate = steps_per_second(
                app,
                config,
                data,
                batches,
                warmup=warmup,
                steps=steps,
                repeats=repeats,
            )
        except Exception as err:  # a mode an app cannot run: report, go on
            results[mode] = None
            errors[mode] = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
            log(f"{name} {mode}: failed ({errors[mode]})")
            continue
        results[mode] = rate
        log(f"{name} {mode}: {rate:.2f} steps/s (batch {config.batch_size})")
    return {"batch_size": base.batch_size, "steps_per_s": results, "errors": errors}


def table(results: dict, modes: list[str]) -> str:
    """Markdown: steps/s per mode, then each mode's ratio to float32."""
    from dltoolkit.training.report import markdown_table

    others = [m for m in modes if m != "float32"]
    header = ["app", "batch"] + [f"{m} steps/s" for m in modes]
    header += [f"{m} / float32" for m in others] if "float32" in modes else []
    rows = []
    for name, result in results.items():
        rates = result["steps_per_s"]
        row = [name, result["batch_size"]]
        row += ["failed" if rates.get(m) is None else f"{rates[m]:.2f}" for m in modes]
        if "float32" in modes:
            base = rates.get("float32")
            for m in others:
                ok = base and rates.get(m) is not None
                row.append(f"{rates[m] / base:.2f}x" if ok else "n/a")
        rows.append(row)
    return markdown_table(header, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/throughput.py")
    parser.add_argument("--apps", nargs="+", default=None, help="default: all")
    parser.add_argument(
        "--modes", nargs="+", default=None, choices=MODES, help="default: all"
    )
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timings per mode (the best is kept)"
    )
    parser.add_argument(
        "--cached-batches", type=int, default=8, help="training batches cached"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="APP:KEY=VALUE",
        help="override a profile field of one app",
    )
    parser.add_argument("--profile", default="quick", help="the apps' profile")
    _harness.add_arguments(parser)  # --threads --force --out --smoke
    args = parser.parse_args(argv)
    run = _harness.Run("throughput", args)
    tf = run.tensorflow()  # its thread pools pinned before it starts
    from dltoolkit.apps import APPS

    if args.smoke:
        args.profile, args.steps, args.warmup, args.repeats = "smoke", 2, 1, 1
        args.cached_batches = 2
        args.apps = args.apps or ["classify"]
        args.modes = args.modes or ["float32", "mixed+xla"]
    args.apps = args.apps or list(APPS)
    args.modes = args.modes or list(MODES)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"

    def log(line):
        print(line, flush=True)

    log(
        f"device: {device}; {args.profile} profiles; best of {args.repeats} x "
        f"{args.steps} timed steps after {args.warmup} warm-up steps"
    )
    results, skipped = {}, {}
    for name in args.apps:
        overrides = [
            item.split(":", 1)[1]
            for item in args.overrides
            if item.split(":", 1)[0] == name
        ]
        try:
            results[name] = bench_app(
                name,
                overrides,
                modes=args.modes,
                warmup=args.warmup,
                steps=args.steps,
                cached_batches=args.cached_batches,
                log=log,
                repeats=args.repeats,
                profile=args.profile,
            )
        except Exception as err:  # the app itself failed to load: go on
            skipped[name] = f"{type(err).__name__}: {str(err)[:200]}"
            log(f"{name}: skipped ({skipped[name]})")
    print()
    print(table(results, args.modes))
    run.print_threads()
    run.write(
        {
            "device": device,
            "profile": args.profile,
            "steps": args.steps,
            "warmup": args.warmup,
            "repeats": args.repeats,
            "cached_batches": args.cached_batches,
            "modes": args.modes,
            "overrides": _harness.shown(args.overrides),
            "results": results,
            "skipped": skipped,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
