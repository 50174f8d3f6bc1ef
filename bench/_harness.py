"""What every ``bench/*.py`` shares: equal thread pools, a load guard, the
machine's description, first-call timing and the JSON results file.

A script calls, in this order and before it imports NumPy, scikit-learn or
TensorFlow:

    args = parser.parse_args(argv)             # with add_arguments(parser)
    run = Run("tsne", args)                    # pins threads, checks the load
    ...                                        # heavy imports, then the work
    run.write({"rows": ...})                   # bench/results/tsne.json

- Threads: ``--threads T`` (default: every CPU this process may use; 1 for
  ``--smoke``) goes to
  both sides: ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS`` (set before the libraries load), threadpoolctl's limits
  on every BLAS and OpenMP pool loaded later, and TensorFlow's intra-op and
  inter-op pools (``Run.tensorflow()``, before TensorFlow runs anything). The
  settings are printed and stored.
- Load: the 1-minute load average must not exceed the number of cores when
  the run starts; otherwise the script refuses (exit code 3) unless
  ``--force``, and then prints and stores a loud warning. ``--smoke`` runs
  (the test suite's) never refuse: their figures are not reported. (The
  environment variable ``DLTK_BENCH_MAX_LOAD`` replaces the core count as the
  limit, for the guard's own test.)
- Results: JSON with the machine (CPU model, cores, RAM, Python and library
  versions, git commit), the thread settings, the load before and after, the
  command line and the date, written to ``bench/results/NAME.json`` (or
  ``--out``); a ``--smoke`` run writes only to an explicit ``--out``.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
_PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "threadpoolctl",
    "tensorflow",
    "keras",
    "hmmlearn",
    "sacrebleu",
)
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
REFUSED = 3  # exit code when the machine is busy


def add_arguments(parser) -> None:
    """``--threads``, ``--force``, ``--out`` and ``--smoke``."""
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads of every pool, both sides (default: every CPU)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="run even when the 1-minute load average exceeds the core count "
        "(the figures are flagged)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="JSON results file (default: bench/results/NAME.json; "
        "--smoke runs write only here)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for the tests")


def add_app_arguments(parser, data_help: str, smoke_profile: str = "smoke") -> None:
    """The options of the benches that train an app's profile on real data:
    ``--data``, ``--profile`` (default ``real``; ``smoke_profile`` with
    ``--smoke``), ``--set KEY=VALUE`` and ``--run-dir``; see :func:`profile`."""
    parser.add_argument("--data", default=None, help=data_help)
    parser.add_argument(
        "--profile",
        default=None,
        help=f"the app's profile (default: real; {smoke_profile} with --smoke)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of the app's profile (also the split)",
    )
    parser.add_argument(
        "--run-dir", default=None, help="keep the app's run here (default: temporary)"
    )
    parser.set_defaults(smoke_profile=smoke_profile)


def profile(args) -> str:
    """The app profile a real-data bench trains (see :func:`add_app_arguments`)."""
    return args.profile or (args.smoke_profile if args.smoke else "real")


def train_through_app(app, config, profile: str, run_dir):
    """Trains ``config`` through ``app`` in ``run_dir`` as ``dltk APP train``
    does; returns its metrics, the wall seconds and the loaded export."""
    from dltoolkit.training.export import load_export

    start = time.perf_counter()
    metrics = app.train(config, run_dir, profile=profile, verbose=0)
    wall = time.perf_counter() - start
    return metrics, wall, load_export(Path(run_dir) / "export")


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def machine() -> dict:
    """The machine and software the figures were measured on."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "usable_cpus": cores(),
        "ram_gib": _ram_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git": _git_commit(),
    }


def _load() -> float:
    return round(os.getloadavg()[0], 2)


class Run:
    """One benchmark run: pins threads and checks the load on creation."""

    def __init__(self, name: str, args):
        self.name = name
        self.args = args
        self.smoke = bool(getattr(args, "smoke", False))
        # Smoke runs share the machine with the test suite: one thread.
        self.threads = args.threads or (1 if self.smoke else cores())
        if self.threads < 1:
            raise SystemExit("--threads must be positive")
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_before = _load()
        self.max_load = float(os.environ.get("DLTK_BENCH_MAX_LOAD", cores()))
        self.load_ok = self.load_before <= self.max_load
        self._check_load()
        for key in _THREAD_ENV:
            os.environ[key] = str(self.threads)
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(self.threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = str(self.threads)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from threadpoolctl import threadpool_limits

        # Held for the whole run; applies to the pools loaded so far, and
        # pools() applies it again after the heavy imports.
        self._limits = threadpool_limits(limits=self.threads)
        self._tensorflow = None
        print(
            f"[bench] {name}: {self.threads} thread(s) for every pool of both "
            f"sides; 1-minute load {self.load_before} on {cores()} CPUs"
            + ("" if self.load_ok else " (BUSY: figures not representative)"),
            flush=True,
        )

    def _check_load(self):
        if self.load_ok:
            return
        message = (
            f"the 1-minute load average is {self.load_before}, above "
            f"{self.max_load:g} (the CPUs): other jobs are running, timings "
            "would mislead."
        )
        if self.smoke:
            print(f"[bench] note: {message} (smoke run: not reported)", flush=True)
            return
        if not self.args.force:
            print(
                f"[bench] refused: {message} Wait for an idle machine, or pass "
                "--force to measure anyway (the JSON is flagged).",
                file=sys.stderr,
                flush=True,
            )
            raise SystemExit(REFUSED)
        banner = "!" * 72
        print(f"{banner}\n[bench] FORCED on a busy machine: {message}\n{banner}")

    def pools(self) -> list:
        """Limits every BLAS/OpenMP pool loaded so far; returns their settings."""
        from threadpoolctl import threadpool_info, threadpool_limits

        self._limits = threadpool_limits(limits=self.threads)
        return [
            {
                key: pool.get(key)
                for key in ("user_api", "internal_api", "num_threads", "version")
            }
            for pool in threadpool_info()
        ]

    def tensorflow(self):
        """TensorFlow, imported quietly with both thread pools pinned."""
        if self._tensorflow is None:
            from dltoolkit._quiet import import_tensorflow_quietly

            import_tensorflow_quietly()
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(self.threads)
            tf.config.threading.set_inter_op_parallelism_threads(self.threads)
            self._tensorflow = tf
        return self._tensorflow

    def thread_settings(self) -> dict:
        settings = {
            "threads": self.threads,
            "env": {key: os.environ.get(key) for key in _THREAD_ENV},
            "pools": self.pools(),
        }
        if self._tensorflow is not None:
            threading = self._tensorflow.config.threading
            settings["tensorflow"] = {
                "intra_op": threading.get_intra_op_parallelism_threads(),
                "inter_op": threading.get_inter_op_parallelism_threads(),
            }
        return settings

    def print_threads(self) -> None:
        settings = self.thread_settings()
        pools = ", ".join(
            f"{p['internal_api']}={p['num_threads']}" for p in settings["pools"]
        )
        line = f"[bench] threads: {pools or 'no BLAS/OpenMP pool loaded'}"
        if "tensorflow" in settings:
            tf = settings["tensorflow"]
            line += f"; tensorflow intra-op {tf['intra_op']}, inter-op {tf['inter_op']}"
        print(line, flush=True)

    def write(self, results: dict) -> Path | None:
        """Adds the run's description to ``results``; writes and returns the
        JSON file (None: a smoke run without ``--out``)."""
        out = self.args.out
        if out is None and not self.smoke:
            RESULTS.mkdir(parents=True, exist_ok=True)
            out = RESULTS / f"{self.name}.json"
        payload = {
            **results,
            "benchmark": self.name,
            "command": " ".join(_shown(sys.argv)),
            "date_utc": self.started.isoformat(timespec="seconds"),
            "seconds_total": round(
                (
                    datetime.datetime.now(datetime.timezone.utc) - self.started
                ).total_seconds(),
                1,
            ),
            "smoke": self.smoke,
            "machine": machine(),
            "thread_settings": self.thread_settings(),
            "load": {
                "one_minute_before": self.load_before,
                "one_minute_after": _load(),
                "cpus": cores(),
                "limit": self.max_load,
                "idle_enough": self.load_ok,
                "forced": bool(self.args.force) and not self.load_ok,
            },
        }
        if out is None:
            return None
        out = Path(out)
        out.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"[bench] wrote {out}", flush=True)
        return out


def _path_like(value: str) -> bool:
    return value.startswith(("/", "~", "./", "../")) or value in (".", "..")


def shown(items: list[str]) -> list[str]:
    """Command-line items as recorded, naming no directory of this machine:
    a ``--data`` path or ``data=`` setting as ``DATA/NAME``, any other path
    (absolute, ``~``, ``./`` or ``../``), alone or as ``KEY=PATH``, as
    ``.../NAME`` (their last parts)."""
    out, after_data = [], False
    for item in items:
        key, eq, value = item.partition("=")
        if after_data:
            item, after_data = f"DATA/{Path(item).name}", False
        elif item == "--data":
            after_data = True
        elif eq and key.lstrip("-") == "data":
            item = f"{key}=DATA/{Path(value).name}"
        elif eq and _path_like(value):
            item = f"{key}=.../{Path(value).name}"
        elif _path_like(item):
            item = f".../{Path(item).name}"
        out.append(item)
    return out


def _shown(argv: list[str]) -> list[str]:
    """The command line as recorded: the script as ``bench/NAME.py``, then
    :func:`shown`."""
    return [f"bench/{Path(argv[0]).name}", *shown(argv[1:])]


def timed(fn):
    """``(seconds, result)`` of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def first_and_best(fn, repeats: int):
    """``({"first": s, "best": s, "calls": [...]}, last result)``: the first
    call (imports, caches, compilation) timed apart from the best of the
    ``repeats`` calls after it."""
    first, out = timed(fn)
    calls = []
    for _ in range(repeats):
        seconds, out = timed(fn)
        calls.append(seconds)
    best = min(calls) if calls else first
    return {"first": first, "best": best, "calls": calls}, out
