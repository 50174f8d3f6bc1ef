"""``make demo``: every app in its quick profile, then a short tuning job.

    python -m apps.demo [--profile quick] [--tuning-trials 2] [--dir runs/demo/TS]
                        [--apps NAME ...]

Writes ``runs/demo/<timestamp>/report.md``: one table with each app's headline
metrics, time and export path.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from dltoolkit._quiet import import_tensorflow_quietly


def run_demo(directory: Path, *, profile: str, tuning_trials: int, apps=None) -> Path:
    """Runs the demo into ``directory``; returns the report path.

    ``apps``: the apps to run (default: all); the tuning job tunes the first.
    """
    from dltoolkit.apps import APPS, get_app
    from dltoolkit.errors import ConfigError
    from dltoolkit.training.config import write_text_atomic
    from dltoolkit.training.report import markdown_table
    from dltoolkit.tuning.runner import run_search

    names = list(apps or APPS)
    unknown = [name for name in names if name not in APPS]
    if unknown:
        raise ConfigError(
            f"Unknown app(s): {', '.join(unknown)}. Valid apps: {', '.join(APPS)}."
        )
    rows = []
    for name in names:
        app = get_app(name)
        print(f"== {name}: train --profile {profile}", flush=True)
        start = time.perf_counter()
        run_dir = directory / name
        metrics = app.train(app.resolve(profile), run_dir, profile=profile)
        wall = time.perf_counter() - start
        rows.append(
            [
                name,
                f"{app.headline} = {metrics[app.headline]:.4f}",
                metrics["train_seconds"],
                round(wall, 1),
                metrics.get("export", ""),
                f"[report]({name}/report.md)",
            ]
        )
    if tuning_trials > 0:
        name = names[0]
        print(f"== tuning {name}: random, {tuning_trials} trials, smoke", flush=True)
        start = time.perf_counter()
        tuning_dir = directory / "tuning" / name
        summary = run_search(
            get_app(name),
            tuner_name="random",
            max_trials=tuning_trials,
            directory=tuning_dir,
            profile="smoke",
            verbose=1,
        )
        best = summary["best_run_metrics"]
        app = get_app(name)
        rows.append(
            [
                f"tuning {name} ({summary['completed_trials']} trials)",
                f"best {summary['objective']} = {summary['best_score']:.4f}; "
                f"retrained {app.headline} = {best[app.headline]:.4f}",
                best["train_seconds"],
                round(time.perf_counter() - start, 1),
                best.get("export", ""),
                f"[report](tuning/{name}/report.md)",
            ]
        )
    table = markdown_table(
        ["job", "headline metrics", "train s", "wall s", "export", "details"], rows
    )
    report = directory / "report.md"
    write_text_atomic(
        report,
        f"# dltoolkit demo ({profile} profile)\n\n"
        f"Written {datetime.datetime.now().isoformat(timespec='seconds')}.\n\n"
        f"{table}\n",
    )
    return report


def main(argv=None, prog: str = "python -m apps.demo") -> int:
    import_tensorflow_quietly()
    from dltoolkit.training.app import USER_ERRORS, one_line

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--tuning-trials", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--apps", nargs="+", default=None, help="default: all")
    args = parser.parse_args(argv)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    directory = args.dir or Path("runs") / "demo" / stamp
    try:
        report = run_demo(
            directory,
            profile=args.profile,
            tuning_trials=args.tuning_trials,
            apps=args.apps,
        )
    except USER_ERRORS as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    print(report.read_text())
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
