"""python -m tuning APP --tuner random|hyperband|bayesian --max-trials N"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dltoolkit._quiet import import_tensorflow_quietly


def main(argv=None) -> int:
    import_tensorflow_quietly()
    from apps import APPS, get_app
    from dltoolkit.training.app import USER_ERRORS, one_line
    from tuning.runner import TUNERS, run_search

    parser = argparse.ArgumentParser(prog="python -m tuning")
    parser.add_argument("app", help=f"one of {', '.join(APPS)}")
    parser.add_argument("--tuner", default="random", help=f"one of {TUNERS}")
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--objective", default=None, help="default: the app's")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )
    args = parser.parse_args(argv)
    try:
        app = get_app(args.app)
        directory = args.dir or Path("runs") / "tuning" / args.app
        summary = run_search(
            app,
            tuner_name=args.tuner,
            max_trials=args.max_trials,
            directory=directory,
            profile=args.profile,
            overrides=args.overrides,
            objective=args.objective,
        )
    except USER_ERRORS as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    print(f"search dir: {directory}")
    print(
        f"best trial {summary['best_trial']}: {summary['objective']}="
        f"{summary['best_score']:.4g} {summary['best_hyperparameters']}"
    )
    print(f"best run: {directory / 'best'} {summary['best_run_metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
