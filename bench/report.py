"""Markdown tables from the benchmark results files, for the README.

    .venv/bin/python bench/report.py [FILE.json ...] [--rows TEXT ...]
                                     [--part main|scale]

Prints, for each results file (default: every ``bench/results/*.json``), a
line naming the file, the machine, the threads and the load, then its tables:
``--part main`` only the comparison tables, ``--part scale`` only the scale
table, ``--rows`` only the rows whose implementation contains one of the
texts. The README's performance figures are pasted from this output, so that
each figure there is one of these files'.
"""

from __future__ import annotations

import argparse
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


def _keep(row, only) -> bool:
    return not only or any(text in row["implementation"] for text in only)


def tsne(figures: dict, part=None, only=()) -> str:
    parts = []
    for size in figures["sizes"].values() if part != "scale" else ():
        rows = [
            [
                row["implementation"],
                _seconds(row["first"]),
                _seconds(row["best"]) if row["calls"] else "-",
                f"{row['kl']:.4f}",
                f"{row['trustworthiness']:.4f}",
            ]
            for row in size["rows"]
            if _keep(row, only)
        ]
        header = ["implementation", "first s", "repeat s", "KL", "trust@5"]
        text = f"{size['points']:,} points:\n\n" + _table(header, rows)
        if not only:
            text += (
                f"\n\nscikit-learn / dltoolkit: {size['ratio_first']:.2f}x on "
                f"first calls, {size['ratio_best']:.2f}x on repeats; "
                f"trustworthiness difference {size['dtrust']:+.4f}."
            )
        parts.append(text)
    if figures.get("scale") and part != "main":
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


def hmm(figures: dict, part=None, only=()) -> str:
    rows = []
    for row in figures["rows"]:
        if not _keep(row, only):
            continue
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
    parts = []
    if part != "scale":
        parts.append(
            f"{figures['batch']} sequences x {figures['frames']} frames, "
            f"{figures['states']} states, log-emissions given:\n\n"
            + _table(header, rows)
        )
    if figures.get("scale") and part != "main":
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


def bleu(figures: dict, part=None, only=()) -> str:
    return (
        f"{figures['segments']:,} segments, {figures['refs']} reference stream(s), "
        f"tokenize {figures['tokenize']}: sacreBLEU "
        f"{_seconds(figures['sacrebleu_seconds'])} s, dltoolkit "
        f"{_seconds(figures['our_seconds'])} s (best of {figures['repeats']}; "
        f"ratio {figures['ratio']:.2f}), scores identical "
        f"({figures['score']:.2f})."
    )


def throughput(figures: dict, part=None, only=()) -> str:
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
    skipped = "".join(
        f"\n\n{name}: not measured ({why})."
        for name, why in figures.get("skipped", {}).items()
    )
    return (
        f"{figures['device']}, `{figures['profile']}` profiles, best of "
        f"{figures['repeats']} x {figures['steps']} steps after {figures['warmup']} "
        "warm-up steps; steps/s (ratio to float32):\n\n"
        + _table(["app", "batch", *modes], rows)
        + skipped
    )


def captioning(figures: dict, part=None, only=()) -> str:
    rows = [
        [
            name,
            *(f"{row[f'bleu{n}']:.1f}" for n in (1, 2, 3)),
            f"{row['bleu4']:.2f}",
            f"{row['seconds']:.0f}",
        ]
        for name, row in figures["rows"].items()
        if not only or any(text in name for text in only)
    ]
    split = figures["split"]
    ratio = figures["bleu4_ratio_to_example"]
    shown = f"{ratio:.2f}" if ratio is not None else "n/a"
    return (
        f"{figures['data']}, split by image (seed {split['seed']}): "
        f"{split['train']} train / {split['val']} validation / {split['test']} "
        f"test images; the example's budget {figures['budget_seconds']:.0f} s; "
        f"its backbone weights: {figures['example_backbone_weights']}.\n\n"
        + _table(["contender", "BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "train s"], rows)
        + f"\n\nBLEU-4 ours / the example: {shown}."
    )


def translation(figures: dict, part=None, only=()) -> str:
    rows = [
        [
            name,
            f"{row['bleu']:.2f}",
            f"{row['chrf']:.1f}",
            f"{row['bleu_lowercase']:.2f}",
            f"{row['bleu_lowercase_nopunct']:.2f}",
            f"{row['seconds']:.0f}",
        ]
        for name, row in figures["rows"].items()
        if not only or any(text in name for text in only)
    ]
    split = figures["split"]
    ratio = figures["ours_over_best_peer_bleu"]
    shown = f"{ratio:.2f}x" if ratio is not None else "n/a (the peer scored 0)"
    plain = figures.get("ours_over_best_peer_bleu_lowercase_nopunct")
    return (
        f"{figures['data']}, split by English sentence (seed {split['seed']}): "
        f"{split['train']:,} train / {split['val']:,} validation / "
        f"{split['test']:,} test pairs; the peers' budget "
        f"{figures['budget_seconds']:.0f} s.\n\n"
        + _table(
            [
                "contender",
                "BLEU",
                "chrF",
                "BLEU lowercased",
                "BLEU lowercased, no punctuation",
                "train s",
            ],
            rows,
        )
        + f"\n\nBLEU ours / the best peer ({figures['best_peer']}): {shown}"
        + (
            f"; with case and punctuation ignored on both sides: {plain:.2f}x."
            if plain is not None
            else "."
        )
        + _kept(figures.get("kept_from_earlier"))
    )


def _kept(kept) -> str:
    """Where rows kept from an earlier results file (``--add-to``) ran."""
    if not kept:
        return ""
    machine, load = kept.get("machine") or {}, kept.get("load") or {}
    where = (
        f"{machine.get('cpu_model')}, {machine.get('usable_cpus')} CPUs, "
        f"1-minute load {load.get('one_minute_before')} before / "
        f"{load.get('one_minute_after')} after, {str(kept.get('date_utc'))[:10]}"
    )
    other = "" if kept.get("same_machine", True) else " (ANOTHER CPU than the rest)"
    return f"\n\nKept from an earlier run: {', '.join(kept['rows'])}: {where}{other}."


RENDER = {
    "tsne": tsne,
    "hmm": hmm,
    "bleu": bleu,
    "throughput": throughput,
    "captioning": captioning,
    "translation": translation,
}


def render(path, part=None, only=()) -> str:
    """The description line and the tables of one results file."""
    path = Path(path)
    figures = json.loads(path.read_text())
    try:
        shown = path.resolve().relative_to(RESULTS.parent.parent).as_posix()
    except ValueError:
        shown = path.as_posix()
    if "load" not in figures:  # a record of app runs, not a timed bench
        machine = figures.get("machine", {})
        return (
            f"`{shown}`: a record of runs (not the timing harness: no thread "
            f"or load figures), {machine.get('cpu_model', 'machine not named')}, "
            f"{figures.get('date_utc', '')[:10]}"
        )
    renderer = RENDER.get(figures["benchmark"])
    if renderer is None:
        return describe(figures, shown) + "\n\n(no tables for this benchmark here)"
    return describe(figures, shown) + "\n\n" + renderer(figures, part, tuple(only))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="default: bench/results/*.json")
    parser.add_argument("--rows", nargs="+", default=(), help="rows to keep")
    parser.add_argument("--part", choices=["main", "scale"], default=None)
    args = parser.parse_args(argv)
    paths = args.files or sorted(RESULTS.glob("*.json"))
    print("\n\n".join(render(p, args.part, args.rows) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
