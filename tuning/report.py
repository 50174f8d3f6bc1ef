"""What a tuning run leaves in its directory, and its progress line.

``DIR/trials.csv`` and ``DIR/report.md`` list every trial (its worker, time,
score and hyperparameters), ``DIR/trials.png`` plots the objective by trial
with the best value so far, and ``DIR/trial_log.json`` records who ran each
trial and for how long (it survives a resume and feeds the time estimate).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

from dltoolkit.plotting import save_figure
from dltoolkit.training.config import write_text_atomic
from dltoolkit.training.report import markdown_table

TRIAL_LOG = "trial_log.json"
BASE_COLUMNS = ["trial", "trial_id", "status", "score", "worker", "seconds"]


def _trial_number(trial_id: str) -> int:
    # keras-tuner pads ids to the width of max_trials, which can grow on a
    # resume ("9" then "10"): sort numerically, not as text.
    return int(trial_id)


class TrialLog:
    """Which worker ran each trial and for how long, kept in ``DIR/trial_log.json``.

    Thread-safe: the chief's gRPC threads call it. ``clock`` is injectable for
    tests.
    """

    def __init__(self, directory: os.PathLike, clock=time.time):
        self.path = Path(directory) / TRIAL_LOG
        self.clock = clock
        self.lock = threading.Lock()
        self.entries: dict[str, dict] = {}
        if self.path.is_file():
            self.entries = json.loads(self.path.read_text())

    def _write(self):
        write_text_atomic(
            self.path, json.dumps(self.entries, indent=2, sort_keys=True) + "\n"
        )

    def begin(self, trial_id: str, worker: str) -> None:
        with self.lock:
            entry = self.entries.setdefault(trial_id, {})
            entry.update(worker=worker, started=self.clock(), seconds=None)
            self._write()

    def end(self, trial_id: str) -> None:
        with self.lock:
            entry = self.entries.setdefault(trial_id, {})
            if entry.get("started") is not None:
                entry["seconds"] = round(self.clock() - entry["started"], 3)
            self._write()

    def requeued(self, trial_id: str, worker: str) -> None:
        """A trial taken back from a worker that stopped (it will run again)."""
        with self.lock:
            entry = self.entries.setdefault(trial_id, {})
            entry.setdefault("lost_by", []).append(worker)
            self._write()

    def seconds(self) -> list[float]:
        with self.lock:
            return [e["seconds"] for e in self.entries.values() if e.get("seconds")]


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1m15s"``; ``3700`` -> ``"1h01m"``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(
    *,
    done: int,
    max_trials: int,
    best: float | None,
    objective: str,
    trial_seconds: list[float],
    parallel: int = 1,
    last: tuple[str, float | None] | None = None,
) -> str:
    """The line printed after each trial: number, best so far, time left.

    The estimate is the mean trial time so far times the trials left, divided
    by the number of workers running them in parallel.
    """
    parts = [f"[tuning] trial {done}/{max_trials} done"]
    if last is not None:
        trial_id, score = last
        score_text = "failed" if score is None else f"{objective}={score:.4g}"
        parts[0] += f" (trial {trial_id}: {score_text})"
    parts.append(
        f"best {objective} so far: " + ("n/a" if best is None else f"{best:.4g}")
    )
    left = max(0, max_trials - done)
    if left == 0:
        parts.append("no trials left")
    elif trial_seconds:
        mean = sum(trial_seconds) / len(trial_seconds)
        waves = math.ceil(left / max(1, parallel))
        parts.append(f"~{format_duration(mean * waves)} left ({left} trials)")
    else:
        parts.append(f"time left: unknown ({left} trials)")
    return "; ".join(parts)


def best_score(oracle) -> float | None:
    completed = [
        t.score
        for t in oracle.trials.values()
        if t.status == "COMPLETED" and t.score is not None
    ]
    if not completed:
        return None
    return (max if oracle.objective.direction == "max" else min)(completed)


def print_progress(oracle, log: TrialLog, *, parallel=1, last=None, stream=None):
    """Prints :func:`progress_line` for ``oracle``'s state."""
    done = sum(
        t.status in ("COMPLETED", "FAILED", "INVALID") for t in oracle.trials.values()
    )
    line = progress_line(
        done=done,
        max_trials=oracle.max_trials,
        best=best_score(oracle),
        objective=oracle.objective.name,
        trial_seconds=log.seconds(),
        parallel=parallel,
        last=last,
    )
    print(line, file=stream or sys.stdout, flush=True)
    return line


def trial_rows(oracle, log: TrialLog | None = None) -> list[dict]:
    """One row per trial, in trial order: number, id, status, score, worker,
    seconds and the hyperparameters."""
    entries = log.entries if log is not None else {}
    rows = []
    for trial in sorted(oracle.trials.values(), key=lambda t: int(t.trial_id)):
        entry = entries.get(trial.trial_id, {})
        row = {
            "trial": _trial_number(trial.trial_id) + 1,
            "trial_id": trial.trial_id,
            "status": trial.status,
            "score": "" if trial.score is None else trial.score,
            "worker": entry.get("worker", ""),
            "seconds": entry.get("seconds") or "",
        }
        row.update(trial.hyperparameters.values)
        rows.append(row)
    return rows


def _columns(rows: list[dict]) -> list[str]:
    columns = list(BASE_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    return columns


def write_trials_csv(rows: list[dict], path: Path) -> None:
    """Writes the trials table (the union of all columns)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_columns(rows), restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, out.getvalue())


def running_best(scores: list[float | None], direction: str) -> list[float | None]:
    """The best score up to each trial (failed trials carry the best on)."""
    best, out = None, []
    for score in scores:
        if score is not None and (
            best is None or (score > best if direction == "max" else score < best)
        ):
            best = score
        out.append(best)
    return out


def plot_trials(rows: list[dict], objective: str, direction: str, path: Path):
    """Objective per trial (dots) and the best value so far (a step line)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.8))
    ax = fig.add_subplot()
    numbers = [r["trial"] for r in rows]
    scores = [
        r["score"] if r["status"] == "COMPLETED" and r["score"] != "" else None
        for r in rows
    ]
    done = [(n, s) for n, s in zip(numbers, scores) if s is not None]
    if done:
        ax.plot(*zip(*done), "o", label=f"{objective} of the trial")
        best = running_best(scores, direction)
        points = [(n, b) for n, b in zip(numbers, best) if b is not None]
        ax.step(*zip(*points), where="post", label="best so far")
        failed = [n for n, s in zip(numbers, scores) if s is None]
        if failed:
            ax.plot(failed, [points[0][1]] * len(failed), "x", label="failed")
        ax.legend()
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"Tuning: {objective} by trial ({direction})")
    fig.set_layout_engine("tight")
    return save_figure(fig, path)


def write_report(directory: Path, summary: dict, rows: list[dict]) -> Path:
    """``DIR/report.md``: the best trial, its retrained run, all trials, the plot."""
    directory = Path(directory)
    objective = summary["objective"]
    best = summary["best_hyperparameters"]
    parts = [
        f"# Tuning {summary['app']}: {summary['tuner']} search",
        "",
        f"Objective: `{objective}` ({summary['direction']}). "
        f"Trials: {summary['completed_trials']} completed of {summary['trials']}"
        + (f", run by {summary['workers']} workers" if summary.get("workers") else "")
        + ".",
        "",
        "## Best trial",
        "",
        f"Trial {summary['best_trial']}: {objective} = {summary['best_score']:.4g}.",
        "",
        markdown_table(["hyperparameter", "value"], sorted(best.items())),
        "",
        "The best configuration retrained as an app run "
        "([best/report.md](best/report.md), export in `best/export/`):",
        "",
        markdown_table(
            ["metric", "value"],
            sorted(
                [k, v]
                for k, v in summary["best_run_metrics"].items()
                if not isinstance(v, (dict, list))
            ),
        ),
        "",
        "## All trials",
        "",
    ]
    columns = _columns(rows)
    parts += [
        markdown_table(columns, [[r.get(c, "") for c in columns] for r in rows]),
        "",
        "## Objective by trial",
        "",
        "![trials](trials.png)",
        "",
        "Files: `best_hyperparameters.json`, `trials.csv`, `trials.png`, `best/`.",
        "",
    ]
    path = directory / "report.md"
    write_text_atomic(path, "\n".join(parts))
    return path
