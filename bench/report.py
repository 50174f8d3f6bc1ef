"""Markdown tables from the benchmark results files, for the README.

    .venv/bin/python bench/report.py [bench/results/tsne.json ...]

Prints, for each results file (default: every ``bench/results/*.json``), a
line naming the file, the machine, the threads and the load, then its tables.
The README's performance figures are pasted from this output, so that each
figure there is one of these files'.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _seconds(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def describe(figures: dict, path: str) -> str:
    """One line: the file, CPU, threads, load and date."""
    machine, load = figures["machine"], figures["load"]
    threads = figures["thread_settings"]["threads"]
    forced = " FORCED ON A BUSY MACHINE" if load.get("forced") else ""
    return (
        f"`{path}`: {machine['cpu_model']}, {machine['usable_cpus']} CPUs, "
        f"{threads} thread(s) per pool on both sides, 1-minute load "
        f"{load['one_minute_before']} before / {load['one_minute_after']} after"
        f"{forced}, {figures['date_utc'][:10]}"
    )


def tsne(figures: dict) -> str:
    parts = []
    for size in figures["sizes"].values():
        rows = [
            [
                row["implementation"],
                _seconds(row["first"]),
                _seconds(row["best"]) if row["calls"] else "-",
                f"{row['kl']:.4f}",
                f"{row['trustworthiness']:.4f}",
            ]
            for row in size["rows"]
        ]
        parts.append(
            f"{size['points']:,} points:\n\n"
            + _table(["implementation", "first s", "repeat s", "KL", "trust@5"], rows)
            + f"\n\nscikit-learn / dltoolkit: {size['ratio_first']:.2f}x on first "
            f"calls, {size['ratio_best']:.2f}x on repeats; trustworthiness "
            f"difference {size['dtrust']:+.4f}."
        )
    if figures.get("scale"):
        rows = [
            [f"{r['points']:,}", _seconds(r["dltoolkit"]), _seconds(r["scikit-learn"])]
            for r in figures["scale"]
        ]
        parts.append(
            "Scale (one call each, seconds; a column stops after a call over "
            f"{figures['scale_limit_seconds']:g} s):\n\n"
            + _table(["points", "dltoolkit tsne", "scikit-learn TSNE"], rows)
        )
    return "\n\n".join(parts)


def hmm(figures: dict) -> str:
    rows = []
    for row in figures["rows"]:
        agree = []
        if "agree" in row:
            agree.append(f"{row['agree']:.0%} paths equal")
        if "max_diff" in row:
            agree.append(f"max diff {row['max_diff']:.1e}")
        rows.append(
            [
                row["implementation"],
                row["algorithm"],
                _seconds(row["first"]),
                _seconds(row["best"]),
                f"{row['ratio']:.2f}" if "ratio" in row else "",
                ", ".join(agree),
            ]
        )
    header = ["implementation", "algorithm", "first s", "best s", "ratio"]
    header.append("vs hmmlearn")
    parts = [
        f"{figures['batch']} sequences x {figures['frames']} frames, "
        f"{figures['states']} states, log-emissions given:\n\n" + _table(header, rows)
    ]
    if figures.get("scale"):
        columns = [k for k in figures["scale"][0] if k != "frames"]
        rows = [
            [f"{r['frames']:,}", *(_seconds(r[c]) for c in columns)]
            for r in figures["scale"]
        ]
        parts.append(
            "Scale (seconds per call, one call; a column stops after a call over "
            f"{figures['scale_limit_seconds']:g} s):\n\n"
            + _table(["frames", *columns], rows)
        )
    return "\n\n".join(parts)


def bleu(figures: dict) -> str:
    return (
        f"{figures['segments']:,} segments, {figures['refs']} reference stream(s), "
        f"tokenize {figures['tokenize']}: sacreBLEU "
        f"{_seconds(figures['sacrebleu_seconds'])} s, dltoolkit "
        f"{_seconds(figures['our_seconds'])} s (best of {figures['repeats']}; "
        f"ratio {figures['ratio']:.2f}), scores identical "
        f"({figures['score']:.2f})."
    )


def throughput(figures: dict) -> str:
    modes = figures["modes"]
    rows = []
    for name, result in figures["results"].items():
        rates = result["steps_per_s"]
        base = rates.get("float32")
        row = [name, result["batch_size"]]
        for mode in modes:
            rate = rates.get(mode)
            cell = "failed" if rate is None else f"{rate:.2f}"
            if mode != "float32" and rate is not None and base:
                cell += f" ({rate / base:.2f}x)"
            row.append(cell)
        rows.append(row)
    return (
        f"{figures['device']}, `{figures['profile']}` profiles, best of "
        f"{figures['repeats']} x {figures['steps']} steps after {figures['warmup']} "
        "warm-up steps; steps/s (ratio to float32):\n\n"
        + _table(["app", "batch", *modes], rows)
    )


RENDER = {"tsne": tsne, "hmm": hmm, "bleu": bleu, "throughput": throughput}


def render(path) -> str:
    path = Path(path)
    figures = json.loads(path.read_text())
    try:
        shown = path.resolve().relative_to(RESULTS.parent.parent).as_posix()
    except ValueError:
        shown = path.as_posix()
    body = RENDER[figures["benchmark"]](figures)
    return describe(figures, shown) + "\n\n" + body


def main(argv=None) -> int:
    paths = (argv if argv is not None else sys.argv[1:]) or sorted(
        RESULTS.glob("*.json")
    )
    print("\n\n".join(render(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
