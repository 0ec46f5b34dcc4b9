"""Benchmark: recovery after faults — kill -9 of the worker at each scan step and during proof checks, Redis stops.

Each scenario starts real work (scans of git repositories made on disk, opt-out proof checks), makes
the fault happen, brings the worker or the broker back, and measures until every piece of work is
terminal (scan done or failed, proof verified):

- `kill-scan-<step>` for step in fetch, list, select, plan, chunks, verdict: the worker is held at that
  step (governance/faults.py, the fault seam, switched on through a file only this bench writes) and
  its whole process group is killed with SIGKILL; then a new worker starts.
- `kill-proof-check`: the same, while workers are inside proof checks of four requests.
- `redis-sigterm`, `redis-sigkill`: with work queued in Redis and no worker running, the bench's own
  redis-server (another loopback port, never the shared one) is stopped; more work is asked for during
  the outage (it must not fail: the rows record "waiting for a worker"); a worker starts, then Redis.
  With SIGTERM Redis saves its queue on the way out (snapshot); with SIGKILL the queue is lost.
- `tarpit` (when bench/faults_tarpit.py is present): its `run(args) -> dict`, reported as it is.

A real beat runs for the whole bench (its sweeps do the recovery). Each scenario reports `work`,
`lost` (work that ended in failure or disappeared), `stuck` (not terminal by the deadline),
`seconds_to_terminal` (from the worker's or Redis's return until all is terminal), `scratch_after_kill`
and `scratch_left` (scratch folders of dead workers on disk right after the kill, and at the end)
and, for the Redis stops, how long the slowest request made during the outage took
(`slowest_send_seconds`). Goals: 0 lost, 0 stuck, ≤ 120 s. Defaults are the production settings;
`--quick` uses short leases and sweeps (the `faults` tests run it that way).

    .venv/bin/python bench/faults.py [--quick] [--scenario kill-scan-verdict --scenario redis-sigkill]
        [--database governance_faults] [--redis-port 0]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, scratch_database

# The portal's packages before this folder's scripts (bench/optout.py would shadow the optout app).
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 120
SCAN_STEPS = ["fetch", "list", "select", "plan", "chunks", "verdict"]
SCENARIOS = [f"kill-scan-{step}" for step in SCAN_STEPS] + ["kill-proof-check", "redis-sigterm", "redis-sigkill"]
QUICK_SETTINGS = {
    "AUDITS_CHUNK_STALL_SECONDS": "4",
    "AUDITS_SWEEP_SECONDS": "2",
    "AUDITS_QUEUE_RESEND_SECONDS": "4",
    "OPTOUT_CHECK_LEASE_SECONDS": "5",
    "OPTOUT_SWEEP_SECONDS": "2",
    "INVENTORY_SWEEP_SECONDS": "2",
    "INVENTORY_IMPORT_STALL_SECONDS": "4",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the bench's own on a loopback port, saving a snapshot on SIGTERM (as a default Redis does)."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port, self.process = folder, port, None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> float:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--save", "3600 1", "--appendonly", "no", "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(command, start_new_session=True)
        started = time.monotonic()
        deadline = started + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(64).startswith(b"+PONG"):
                        return started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self, how: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(timeout=30)


class Processes:
    """The worker and beat of the bench, each in its own process group (so kill -9 takes its pool and git too)."""

    def __init__(self, environment: dict, folder: Path):
        self.environment, self.folder = environment, folder
        self.worker = None
        self.beat = None
        self.workers_started = 0

    def _start(self, command: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.folder / log_name, "ab")  # noqa: SIM115 - inherited by the child, closed with it
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "governance", *command],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def worker_start(self) -> float:
        self.workers_started += 1
        started = time.monotonic()
        # One worker serving every queue (default, proof checks, Verify now, scans): the bench kills them together.
        queues = ",".join(
            self.environment.get(name, default)
            for name, default in (
                ("CELERY_TASK_DEFAULT_QUEUE", "governance"),
                ("PROOF_CHECKS_QUEUE", "proofs"),
                ("PROOF_CHECKS_NOW_QUEUE", "proofs-now"),
                ("SCANS_QUEUE", "scans"),
            )
        )
        self.worker = self._start(
            ["worker", "--concurrency", "2", "-n", f"faults-{self.workers_started}@localhost", "--loglevel", "INFO"]
            + ["-Q", queues, "--without-gossip", "--without-mingle"],
            "worker.log",
        )
        return started

    def worker_kill(self) -> None:
        """kill -9 of the worker: its parent, its pool processes and whatever they run."""
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=30)
            # The parent is reaped; its pool processes (and their git) may take a moment longer to be gone,
            # and until then they hold their scratch folders' locks.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.killpg(self.worker.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def worker_stop(self) -> None:
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.worker_kill()

    def beat_start(self) -> None:
        schedule = self.folder / "beat-schedule"
        self.beat = self._start(["beat", "--schedule", str(schedule), "--loglevel", "INFO"], "beat.log")

    def stop_all(self) -> None:
        for process in (self.worker, self.beat):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


class Bench:
    def __init__(self, folder: Path, processes: Processes, redis: RedisServer, deadline: float):
        self.folder, self.processes, self.redis, self.deadline = folder, processes, redis, deadline
        self.fault_file = Path(processes.environment["GOVERNANCE_FAULT_FILE"])
        self.marker = Path(processes.environment["GOVERNANCE_FAULT_MARKER"])
        self.counter = 0

    def fault(self, point: str) -> None:
        self.fault_file.write_text(point)
        self.marker.unlink(missing_ok=True)

    def wait_for_fault(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.marker.exists() and self.marker.read_text().strip():
                return self.marker.read_text().split()[0]
            time.sleep(0.1)
        raise RuntimeError(f"the worker never reached the fault point {self.fault_file.read_text()!r}")

    def repository(self, files: dict[str, str]) -> Path:
        from governance.git import local_repository_commit

        self.counter += 1
        path = self.folder / "repositories" / f"faults/repo-{self.counter}"
        local_repository_commit(path, files, message="bench")
        return path

    def scan_ask(self, label: str):
        """A deep scan of a fresh repository of a few files (three chunks), contents unique to this run."""
        from audits.services import scan_request
        from governance.services import repository_ensure

        files = {
            "LICENSE": "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n",
            "README.md": f"# {label}\n\nA repository of the fault bench ({time.time_ns()}).\n",
        }
        files |= {f"src/module_{n}.py": f"# {label} {n} {time.time_ns()}\nprint({n})\n" for n in range(4)}
        repository = repository_ensure(text=self.repository(files).as_uri())
        return ("scan", scan_request(repository=repository, deep=True, requested_by="bench").pk)

    def proof_ask(self, label: str) -> tuple[str, int]:
        """An opt-out request of one repository, its proof committed, and "Verify now" pressed."""
        from optout import services
        from optout.models import OptOutRequest

        self.counter += 1
        path = self.repository({"README.md": f"{label}\n"})
        submission = services.optout_request_submit(
            email=f"owner-{self.counter}@example.org", scope="repositories", repositories_text=path.as_uri()
        )
        confirmation = services.optout_request_confirm(token=submission.confirm_token)
        from governance.git import local_repository_commit

        local_repository_commit(path, {".dataset-opt-out": confirmation.request.proof_token + "\n"}, message="proof")
        services.optout_request_verify_now(request=OptOutRequest.objects.get(pk=confirmation.request.pk))
        return ("request", confirmation.request.pk)

    @staticmethod
    def state(work: tuple[str, int]) -> str:
        """'done', 'failed' (lost) or 'open'."""
        from audits.models import Scan
        from optout.models import Verification

        kind, pk = work
        if kind == "scan":
            status = Scan.objects.filter(pk=pk).values_list("status", flat=True).first()
            return {"done": "done", "failed": "failed", None: "failed"}.get(status, "open")
        states = set(Verification.objects.filter(request_id=pk).values_list("state", flat=True))
        if states == {"verified"}:
            return "done"
        return "open" if states & {"pending", "unreachable"} else "failed"

    def measure(self, works: list, since: float) -> dict:
        """Wait until every piece of work is terminal (or the deadline): lost, stuck, seconds since `since`."""
        limit = since + self.deadline
        while True:
            states = [self.state(work) for work in works]
            if "open" not in states or time.monotonic() > limit:
                break
            time.sleep(0.25)
        finished = time.monotonic()
        return {
            "work": len(works),
            "lost": states.count("failed"),
            "stuck": states.count("open"),
            "seconds_to_terminal": round(finished - since, 1) if "open" not in states else None,
            "scratch_left": self.scratch_left(),
        }

    def scratch_left(self) -> int:
        """Scratch folders of dead worker processes on disk (a live worker's own folder does not count)."""
        from governance import scratch

        base = Path(self.processes.environment["GOVERNANCE_SCRATCH_BASE"])
        dead = [folder for folder in base.glob(f"{scratch.PROCESS_PREFIX}*") if scratch._owner_gone(folder)]
        loose = [folder for prefix in scratch.LOOSE_PREFIXES for folder in base.glob(f"{prefix}*")]
        return len(dead) + len(loose)


def scenario_kill_scan(bench: Bench, step: str) -> dict:
    bench.fault(f"scan:{step}")
    if bench.processes.worker is None or bench.processes.worker.poll() is not None:
        bench.processes.worker_start()
    works = [bench.scan_ask(f"kill at {step}")]
    reached = bench.wait_for_fault()
    bench.fault("")  # the next worker runs freely
    bench.processes.worker_kill()
    left = bench.scratch_left()
    back = bench.processes.worker_start()
    return {"fault": f"kill -9 of the worker at {reached}", "scratch_after_kill": left, **bench.measure(works, back)}


def scenario_kill_proof_check(bench: Bench) -> dict:
    bench.fault("optout:check")
    if bench.processes.worker is None or bench.processes.worker.poll() is not None:
        bench.processes.worker_start()
    works = [bench.proof_ask(f"proof {n}") for n in range(4)]
    reached = bench.wait_for_fault()
    bench.fault("")
    bench.processes.worker_kill()
    left = bench.scratch_left()
    back = bench.processes.worker_start()
    return {"fault": f"kill -9 of the worker at {reached}", "scratch_after_kill": left, **bench.measure(works, back)}


def scenario_redis_stop(bench: Bench, how: int) -> dict:
    from audits.models import Scan
    from optout.models import Verification

    bench.fault("")
    bench.processes.worker_stop()  # so the work below waits in Redis
    works = [bench.proof_ask("queued proof 1"), bench.proof_ask("queued proof 2"), bench.scan_ask("queued scan")]
    bench.redis.stop(how)
    slowest = 0.0
    during = []
    for ask in (lambda: bench.proof_ask("proof during the outage"), lambda: bench.scan_ask("scan during the outage")):
        started = time.monotonic()
        during.append(ask())
        slowest = max(slowest, time.monotonic() - started)
    waiting = Verification.objects.filter(request_id=during[0][1], enqueue_failed_at__isnull=False).exists()
    waiting = waiting and Scan.objects.filter(pk=during[1][1], enqueue_failed_at__isnull=False).exists()
    bench.processes.worker_start()  # it keeps trying to connect until Redis is back
    time.sleep(2)
    back = bench.redis.start()
    name = "SIGTERM" if how == signal.SIGTERM else "SIGKILL"
    return {
        "fault": f"Redis stopped with {name} with work queued; more work asked for during the outage",
        "slowest_send_seconds": round(slowest, 2),
        "outage_work_marked_waiting": waiting,
        **bench.measure(works + during, back),
    }


def scenario_run(bench: Bench, name: str, args) -> dict:
    if name.startswith("kill-scan-"):
        return scenario_kill_scan(bench, name.removeprefix("kill-scan-"))
    if name == "kill-proof-check":
        return scenario_kill_proof_check(bench)
    if name in ("redis-sigterm", "redis-sigkill"):
        return scenario_redis_stop(bench, signal.SIGTERM if name == "redis-sigterm" else signal.SIGKILL)
    raise ValueError(f"unknown scenario {name!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", action="append", help=f"one of {', '.join(SCENARIOS)}, tarpit; repeatable")
    parser.add_argument("--quick", action="store_true", help="short leases and sweeps (the suite's faults tests)")
    parser.add_argument("--database", default="governance_faults", help="scratch database, dropped at the end")
    parser.add_argument("--redis-port", type=int, default=0, help="port of the bench's own redis-server (0: any)")
    parser.add_argument("--deadline", type=float, default=0, help="seconds before open work counts as stuck")
    args = parser.parse_args()
    names = args.scenario or SCENARIOS
    results = []
    if "tarpit" in names:
        sys.path.insert(0, str(Path(__file__).parent))
        from faults_tarpit import run as tarpit_run  # written beside this file; reported as it is

        results.append({"scenario": "tarpit", **tarpit_run(args)})
        names = [name for name in names if name != "tarpit"]
    if names:
        results += run_scenarios(names, args)
    print(
        json.dumps(
            {
                "goal": {"lost": 0, "stuck": 0, "seconds_to_terminal": GOAL_SECONDS},
                "settings": QUICK_SETTINGS if args.quick else "defaults",
                "scenarios": results,
                "ok": all(_ok(result) for result in results),
            },
            indent=2,
        )
    )


def _ok(result: dict) -> bool:
    if result.get("scenario") == "tarpit":
        return bool(result.get("ok", True))
    return (
        result["lost"] == 0
        and result["stuck"] == 0
        and result["scratch_left"] == 0
        and result["seconds_to_terminal"] is not None
        and result["seconds_to_terminal"] <= GOAL_SECONDS
    )


def run_scenarios(names: list[str], args) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="faults-bench-"))
    redis = RedisServer(folder / "redis", args.redis_port or free_port())
    (folder / "scratch").mkdir()
    variables = {
        "CELERY_BROKER_URL": redis.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "REPOSITORY_FETCH_ALLOW": "local,private",
        "OPTOUT_VERIFY_INTERVAL_SECONDS": "0",
        "AUDITS_CHUNK_FILES": "2",
        "GOVERNANCE_FAULT_FILE": str(folder / "fault"),
        "GOVERNANCE_FAULT_MARKER": str(folder / "fault-reached"),
        "GOVERNANCE_SCRATCH_BASE": str(folder / "scratch"),
        **(QUICK_SETTINGS if args.quick else {}),
    }
    deadline = args.deadline or (90 if args.quick else 300)
    results = []
    processes = None
    try:
        with scratch_database(args.database, str(folder / "data"), **variables) as environment:
            os.environ.update(environment)
            os.environ["DJANGO_SETTINGS_MODULE"] = "governance.settings"
            # The bench process asks for work like the web does, but must never pause at a fault point.
            os.environ.pop("GOVERNANCE_FAULT_FILE")
            import django

            django.setup()
            redis.start()
            processes = Processes(environment, folder)
            processes.beat_start()
            bench = Bench(folder, processes, redis, deadline)
            for name in names:
                results.append({"scenario": name, **scenario_run(bench, name, args)})
            processes.stop_all()
            from django.db import connections

            connections.close_all()
    finally:
        if processes:
            processes.stop_all()
        redis.stop(signal.SIGKILL)
        if os.environ.get("FAULTS_KEEP") != "1":
            for _ in range(3):  # a process killed a moment ago may still be writing into it
                shutil.rmtree(folder, ignore_errors=True)
                if not folder.exists():
                    break
                time.sleep(1)
        else:
            print(f"kept {folder}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
