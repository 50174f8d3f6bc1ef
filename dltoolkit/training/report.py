"""report.md and metrics.json for a run."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dltoolkit.training.config import config_to_dict, write_text_atomic

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"


def write_metrics(run_dir: os.PathLike, metrics: dict) -> Path:
    """Writes ``run_dir/metrics.json`` atomically."""
    path = Path(run_dir) / METRICS_FILE
    write_text_atomic(path, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return path


def read_metrics(run_dir: os.PathLike) -> dict:
    """Reads ``run_dir/metrics.json`` ({} when absent)."""
    path = Path(run_dir) / METRICS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table."""

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(
    run_dir: os.PathLike,
    *,
    title: str,
    config,
    data: str,
    model: str,
    metrics: dict,
    sections: list[tuple[str, str]] = (),
    plots: list[os.PathLike] = (),
) -> Path:
    """Writes ``run_dir/report.md``: what ran, the metrics, samples and plots.

    Args:
        run_dir: the run directory (plots are linked relative to it).
        title: the report's heading.
        config: the resolved config dataclass.
        data: a description of the data and its split sizes.
        model: a description of the model (name, parameter count).
        metrics: the contents of metrics.json.
        sections: extra (heading, markdown body) pairs, e.g. sample outputs.
        plots: image files inside ``run_dir`` to show.
    """
    run_dir = Path(run_dir)
    parts = [f"# {title}", "", f"Run directory: `{run_dir}`", ""]
    parts += [
        "## Metrics",
        "",
        markdown_table(["metric", "value"], sorted([k, v] for k, v in metrics.items())),
        "",
    ]
    parts += ["## Data", "", data, "", "## Model", "", model, ""]
    for heading, body in sections:
        parts += [f"## {heading}", "", body, ""]
    if plots:
        parts += ["## Plots", ""]
        for plot in plots:
            rel = os.path.relpath(plot, run_dir)
            parts += [f"![{Path(plot).stem}]({rel})", ""]
    cfg = sorted(config_to_dict(config).items())
    parts += ["## Configuration", "", markdown_table(["key", "value"], cfg), ""]
    path = run_dir / REPORT_FILE
    write_text_atomic(path, "\n".join(parts))
    return path
