"""python -m tuning APP --tuner random|hyperband|bayesian --max-trials N [--workers K]

Distributed: ``--workers K`` starts a chief and K workers on this machine. On
several machines, run the chief with ``KERASTUNER_TUNER_ID=chief`` and each
worker with its own ``KERASTUNER_TUNER_ID``, all with ``KERASTUNER_ORACLE_IP``
and ``KERASTUNER_ORACLE_PORT`` set to the chief's address (see the README).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dltoolkit._quiet import import_tensorflow_quietly


def _worker_argv(args) -> list[str]:
    """The command line the local workers run: the same search, as workers."""
    argv = [args.app, "--tuner", args.tuner, "--max-trials", str(args.max_trials)]
    argv += ["--profile", args.profile, "--dir", str(args.dir.resolve())]
    argv += ["--connect-timeout", str(args.connect_timeout)]
    if args.objective:
        argv += ["--objective", args.objective]
    for item in args.overrides:
        argv += ["--set", item]
    return argv


def main(argv=None, prog: str = "python -m tuning") -> int:
    import_tensorflow_quietly()
    from dltoolkit.apps import APPS, get_app
    from dltoolkit.training.app import USER_ERRORS, one_line
    from dltoolkit.tuning.runner import TUNERS, run_search

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("app", help=f"one of {', '.join(APPS)}")
    parser.add_argument("--tuner", default="random", help=f"one of {TUNERS}")
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--objective", default=None, help="default: the app's")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="start a chief and N local workers"
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=60.0,
        help="seconds a worker waits for the chief (default 60)",
    )
    parser.add_argument(
        "--trial-timeout",
        type=float,
        default=None,
        help="chief: requeue a trial its worker ran longer than this (seconds)",
    )
    parser.add_argument(
        "--listen", default=None, help="chief: IP:PORT (default: the environment)"
    )
    args = parser.parse_args(argv)
    try:
        app = get_app(args.app)
        args.dir = args.dir or Path("runs") / "tuning" / args.app
        summary = run_search(
            app,
            tuner_name=args.tuner,
            max_trials=args.max_trials,
            directory=args.dir,
            profile=args.profile,
            overrides=args.overrides,
            objective=args.objective,
            workers=args.workers,
            worker_argv=_worker_argv(args),
            connect_timeout=args.connect_timeout,
            trial_timeout=args.trial_timeout,
            listen=args.listen,
        )
    except USER_ERRORS as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    if summary.get("role") == "worker":
        print(f"{summary['tuner_id']}: no trials left")
        return 0
    print(f"search dir: {args.dir}")
    print(
        f"best trial {summary['best_trial']}: {summary['objective']}="
        f"{summary['best_score']:.4g} {summary['best_hyperparameters']}"
    )
    if summary["trials_by_worker"]:
        print(f"trials by worker: {summary['trials_by_worker']}")
    print(f"best run: {args.dir / 'best'} {summary['best_run_metrics']}")
    print(f"report: {args.dir / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
