"""Distributed tuning over keras-tuner's own chief/worker protocol.

keras-tuner runs one *chief* that holds the oracle and serves it over gRPC, and
any number of *workers* that ask it for trials, train them and report back.
Every process is configured by three environment variables:

* ``KERASTUNER_TUNER_ID``: ``chief`` for the chief, a unique name per worker;
* ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT``: where the chief listens.

The workers use keras-tuner's ``OracleClient`` unchanged. The chief serves
keras-tuner's ``OracleServicer`` with a loop of its own instead of
``oracle_chief.start_server`` (which polls every 20 s and waits forever for a
worker that died): it gives the trial of a worker that stopped back to the
queue, so another worker runs it, and it knows when the search is over.

``python -m tuning APP --workers N`` starts the chief in its own process and N
worker processes on this machine (:class:`LocalWorkers`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from dltoolkit.errors import ConfigError, UserError
from dltoolkit.tuning.report import TrialLog, print_progress

ENV_ID = "KERASTUNER_TUNER_ID"
ENV_IP = "KERASTUNER_ORACLE_IP"
ENV_PORT = "KERASTUNER_ORACLE_PORT"
CHIEF_ID = "chief"


def role_from_env(env=None) -> str | None:
    """``"chief"``, ``"worker"`` or None (not distributed), as keras-tuner reads it."""
    env = os.environ if env is None else env
    if ENV_IP not in env:
        return None
    missing = [k for k in (ENV_PORT, ENV_ID) if not env.get(k)]
    if missing:
        raise ConfigError(
            f"{ENV_IP} is set, so this is a distributed search, but "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not: "
            f"set {ENV_ID}=chief on the chief and a unique {ENV_ID} on each worker."
        )
    return "chief" if CHIEF_ID in env[ENV_ID] else "worker"


def oracle_address(env=None) -> str:
    env = os.environ if env is None else env
    return f"{env[ENV_IP]}:{env[ENV_PORT]}"


def wait_for_chief(address: str, timeout: float) -> None:
    """Blocks until the chief's gRPC server at ``address`` answers.

    Raises:
        UserError: it did not answer within ``timeout`` seconds.
    """
    import grpc

    channel = grpc.insecure_channel(address)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise UserError(
            f"Cannot reach the tuning chief at {address} after {timeout:g} s: "
            f"start `python -m tuning ...` with {ENV_ID}=chief there first, and "
            f"check {ENV_IP}/{ENV_PORT} and the firewall."
        ) from None
    finally:
        channel.close()


def bound_worker_calls(timeout: float) -> None:
    """Caps each of a worker's calls to the chief at ``timeout`` seconds.

    keras-tuner waits up to an hour per call; a worker whose chief has gone
    should fail, not hang.
    """
    from keras_tuner.src.distribute import oracle_client

    oracle_client.TIMEOUT = timeout
    _quiet_condition_protos()


def _quiet_condition_protos() -> None:
    """keras-tuner 1.4.8's ``Parent.to_proto`` prints each condition's first
    value (a leftover debug print) on every gRPC message: the same without it."""
    from keras_tuner.src import protos
    from keras_tuner.src.engine import conditions

    def to_proto(self):
        first = self.values[0]
        if isinstance(first, str):
            field = "string_value"
        elif isinstance(first, bool):
            field = "boolean_value"
        elif isinstance(first, int):
            field = "int_value"
        else:
            field = "float_value"
        proto = protos.get_proto()
        values = [proto.Value(**{field: v}) for v in self.values]
        return proto.Condition(
            parent=proto.Condition.Parent(name=self.name, values=values)
        )

    conditions.Parent.to_proto = to_proto


def _make_servicer(oracle, log: TrialLog, *, parallel: int):
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer
    from keras_tuner.src.engine.oracle import LOCKS

    class Servicer(OracleServicer):
        """keras-tuner's servicer, recording who runs what, printing progress."""

        def __init__(self):
            super().__init__(oracle)
            self.last_seen: dict[str, float] = {}

        def CreateTrial(self, request, context):
            self.last_seen[request.tuner_id] = time.time()
            response = super().CreateTrial(request, context)
            trial = oracle.ongoing_trials.get(request.tuner_id)
            if trial is not None:
                # A worker asking again for its own ongoing trial keeps its log.
                entry = log.entries.get(trial.trial_id, {})
                if entry.get("worker") != request.tuner_id or entry.get("seconds"):
                    log.begin(trial.trial_id, request.tuner_id)
            return response

        def EndTrial(self, request, context):
            response = super().EndTrial(request, context)
            # keras-tuner saves the oracle before it drops the ended trial from
            # the ongoing ones (its tuners save again after); without this, a
            # resumed search would run the last trial again.
            with LOCKS[oracle]:
                oracle.save()
            trial_id = request.trial.trial_id
            log.end(trial_id)
            trial = oracle.trials[trial_id]
            score = trial.score if trial.status == "COMPLETED" else None
            print_progress(oracle, log, parallel=parallel, last=(trial_id, score))
            return response

        def GetSpace(self, request, context):
            return protos.get_service().GetSpaceResponse(
                hyperparameters=oracle.get_space().to_proto()
            )

    return Servicer()


def requeue(oracle, tuner_id: str, log: TrialLog) -> str | None:
    """Gives the trial ``tuner_id`` was running back to the queue.

    Returns its trial id, or None if that worker had no trial.
    """
    from keras_tuner.src.engine.oracle import LOCKS

    with LOCKS[oracle]:
        trial = oracle.ongoing_trials.pop(tuner_id, None)
        oracle.tuner_ids.discard(tuner_id)
        if trial is None:
            return None
        oracle._retry_queue.append(trial.trial_id)
        oracle.save()
    log.requeued(trial.trial_id, tuner_id)
    return trial.trial_id


def search_finished(oracle, servicer) -> bool:
    """keras-tuner's end: a worker was told to stop, nothing runs or waits."""
    return (
        servicer.stop_triggered
        and not oracle.ongoing_trials
        and not oracle._retry_queue
    )


class LocalWorkers:
    """N worker processes of this search on this machine.

    Each logs to ``DIR/workers/<id>.log`` (its pid in ``<id>.pid``). A worker
    that stops while work remains and no other worker is alive is replaced (at
    most N times). They run in this process's working directory.
    """

    def __init__(self, count: int, argv: list[str], directory: Path, port: int):
        self.argv = argv
        self.directory = Path(directory) / "workers"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.procs: dict[str, subprocess.Popen] = {}
        self.exits: dict[str, int] = {}
        self.spares = count
        self.started = 0
        for _ in range(count):
            self.start()

    def start(self) -> str:
        tuner_id = f"worker{self.started}"
        self.started += 1
        env = {
            **os.environ,
            ENV_ID: tuner_id,
            ENV_IP: "127.0.0.1",
            ENV_PORT: str(self.port),
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        }
        with open(self.directory / f"{tuner_id}.log", "ab") as log:
            self.procs[tuner_id] = subprocess.Popen(
                [sys.executable, "-m", "dltoolkit.tuning", *self.argv],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        pid = self.procs[tuner_id].pid
        (self.directory / f"{tuner_id}.pid").write_text(f"{pid}\n")
        print(f"[tuning] started {tuner_id} (pid {pid})", flush=True)
        return tuner_id

    def reap(self) -> dict[str, int]:
        """The workers that exited since the last call: id -> exit code."""
        done = {}
        for tuner_id, proc in list(self.procs.items()):
            if proc.poll() is not None:
                done[tuner_id] = proc.returncode
                self.exits[tuner_id] = proc.returncode
                del self.procs[tuner_id]
        return done

    def alive(self) -> int:
        return len(self.procs)

    def stop(self, grace: float = 30.0) -> None:
        """Waits ``grace`` seconds for the workers to exit, then kills them."""
        deadline = time.time() + grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.reap()


def serve(
    oracle,
    *,
    ip: str,
    port: int,
    log: TrialLog,
    parallel: int,
    start_workers=None,
    trial_timeout: float | None = None,
    poll: float = 0.5,
):
    """Serves ``oracle`` to the workers until the search is finished.

    Args:
        oracle: the chief tuner's oracle.
        ip, port: where to listen (port 0: any free port).
        log: the trial log (worker and time per trial).
        parallel: the expected number of workers (for the time estimate).
        start_workers: ``port -> LocalWorkers`` to start local workers once
            the port is known, or None for workers started elsewhere.
        trial_timeout: give a trial back to the queue when its worker has run
            it this long (for remote workers that died); None waits.

    Returns:
        The :class:`LocalWorkers`, or None.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos

    _quiet_condition_protos()
    servicer = _make_servicer(oracle, log, parallel=parallel)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"{ip}:{port}")
    if not bound:
        raise UserError(f"The tuning chief cannot listen on {ip}:{port}.")
    server.start()
    print(f"[tuning] chief oracle listening on {ip}:{bound}", flush=True)
    workers = start_workers(bound) if start_workers else None
    try:
        while not search_finished(oracle, servicer):
            time.sleep(poll)
            if workers is not None:
                _handle_exits(oracle, servicer, workers, log)
            if trial_timeout is not None:
                _expire(oracle, log, trial_timeout)
        if workers is not None:
            workers.stop()
    finally:
        if workers is not None:
            for proc in workers.procs.values():
                proc.kill()
            workers.stop(grace=5)
        server.stop(grace=1)
    return workers


def _handle_exits(oracle, servicer, workers: LocalWorkers, log: TrialLog) -> None:
    for tuner_id, code in workers.reap().items():
        trial_id = requeue(oracle, tuner_id, log)
        if trial_id is not None or code != 0:
            again = f"; trial {trial_id} goes back to the queue" if trial_id else ""
            print(
                f"[tuning] {tuner_id} exited with code {code}{again} "
                f"(log: {workers.directory / (tuner_id + '.log')})",
                flush=True,
            )
    work_left = oracle._retry_queue or not servicer.stop_triggered
    if workers.alive() == 0 and work_left and not oracle.ongoing_trials:
        if workers.spares == 0:
            codes = ", ".join(f"{k}: {v}" for k, v in workers.exits.items())
            raise UserError(
                f"Every tuning worker exited before the search finished ({codes}); "
                f"see {workers.directory}. Run the same command again to resume."
            )
        workers.spares -= 1
        workers.start()


def _expire(oracle, log: TrialLog, timeout: float) -> None:
    now = log.clock()
    for tuner_id, trial in list(oracle.ongoing_trials.items()):
        started = log.entries.get(trial.trial_id, {}).get("started")
        if started is not None and now - started > timeout:
            requeue(oracle, tuner_id, log)
            print(
                f"[tuning] {tuner_id} ran trial {trial.trial_id} for more than "
                f"{timeout:g} s; it goes back to the queue",
                flush=True,
            )
