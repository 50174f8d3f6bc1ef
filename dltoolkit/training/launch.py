"""Starts N local workers of a multi-worker training run, to try it on one machine.

    python -m dltoolkit.training.launch --workers 2 -- \\
        python -m apps.classify train --strategy multiworker --run-dir runs/mw

Each worker is the same command with its own ``TF_CONFIG`` (the cluster of
loopback ports, its task index). Worker 0 is the chief: it writes the run dir;
the others write a directory of their own (``--worker-dir``, else a temp dir
deleted at the end). Their output is prefixed ``[worker i]``. If one worker
fails, the others are stopped (they would wait for it forever) and the exit
code is the failed worker's. On several machines, set ``TF_CONFIG`` on each by
hand as the README shows.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free now on ``host`` (bound to port 0)."""
    sockets, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def tf_configs(workers: int, ports: list[int], host: str = "127.0.0.1") -> list[str]:
    """The ``TF_CONFIG`` of each worker of a cluster on ``host``."""
    cluster = {"worker": [f"{host}:{p}" for p in ports[:workers]]}
    return [
        json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        for i in range(workers)
    ]


def _pump(stream, prefix: str, out) -> None:
    for line in iter(stream.readline, b""):
        out.write(f"{prefix}{line.decode(errors='replace')}")
        out.flush()
    stream.close()


def launch(
    command: list[str],
    workers: int,
    *,
    worker_dir: str | None = None,
    timeout: float | None = None,
    out=None,
) -> int:
    """Runs ``command`` as ``workers`` local workers; returns the exit code.

    0 when every worker succeeded; else the first failure's code (124 for a
    timeout). The workers are always stopped before it returns.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1. Received: {workers}")
    if not command:
        raise ValueError("No command to launch: put it after `--`.")
    out = out or sys.stdout
    procs, pumps = [], []
    configs = tf_configs(workers, free_ports(workers))
    try:
        for index, tf_config in enumerate(configs):
            env = {**os.environ, "TF_CONFIG": tf_config}
            if worker_dir:
                env["DLTOOLKIT_WORKER_DIR"] = worker_dir
            proc = subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            procs.append(proc)
            pump = threading.Thread(
                target=_pump, args=(proc.stdout, f"[worker {index}] ", out)
            )
            pump.daemon = True
            pump.start()
            pumps.append(pump)
        deadline = None if timeout is None else time.time() + timeout
        while True:
            codes = [p.poll() for p in procs]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                index = codes.index(failed[0])
                out.write(
                    f"[launch] worker {index} exited with code {failed[0]}; "
                    "stopping the others\n"
                )
                return failed[0] if failed[0] > 0 else 1
            if all(c == 0 for c in codes):
                return 0
            if deadline is not None and time.time() > deadline:
                out.write(f"[launch] timed out after {timeout:g} s\n")
                return 124
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pump in pumps:
            pump.join(timeout=5)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m dltoolkit.training.launch",
        description="Run COMMAND as N local workers of a multi-worker cluster.",
        usage="%(prog)s --workers N [--worker-dir DIR] [--timeout S] -- COMMAND",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--worker-dir", default=None, help="where non-chief workers write (kept)"
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds")
    args = parser.parse_args(argv)
    try:
        return launch(
            command, args.workers, worker_dir=args.worker_dir, timeout=args.timeout
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
