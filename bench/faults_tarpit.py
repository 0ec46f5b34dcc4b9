"""Benchmark: a real owner's "Verify now" while another request's 1,000 repositories sit on a tarpit.

A tarpit (a TCP server on 127.0.0.1 that accepts every connection and never answers) holds every git read
of it for the whole time limit. One request lists N repositories on it (http://127.0.0.1:PORT/o/rN.git); its
round is started as the sweep would, and its owner presses "Verify now" too. Then, several times, a real owner
files a request for a real git repository on disk (file://), commits the proof, presses "Verify now", and the
time until the database shows the proof verified is measured; before each owner but the first, the visitor
starts another round and presses "Verify now" again (as often as the limits allow), so the tarpit stays busy.
Real workers on PostgreSQL and Redis:

- after: this tree's workers as the Procfile runs the proof queues (`proofs` --concurrency 4 and `proofs-now`
  --concurrency 2);
- before: the code before the budgets (commit BEFORE_REF, exported with `git archive`) and its single
  `worker --concurrency 2`.

Runs are interleaved (before, after, before, …), each mode with its own database, queues and tarpit. An owner
still waiting after --owner-timeout seconds counts as not verified. Prints JSON.

    .venv/bin/python bench/faults_tarpit.py [--repositories 1000] [--runs 5] [--no-before]

bench/faults.py calls `run(args)` as one scenario.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, percentile, scratch_database

DEFAULTS = {
    "repositories": 1000,
    "runs": 5,
    "before": True,
    "owner_timeout": 60.0,
    "git_timeout": 30,
    "database": "governance_bench_tarpit",
}
# The last commit before queues and budgets existed: the "before" side of the comparison.
BEFORE_REF = "7c4f4f9"
GOAL_SECONDS = 5.0


# --- the driver: runs inside one mode's code tree (PYTHONPATH), with that mode's environment -------------------


def _drive(action: str, options: dict) -> dict:
    # bench/optout.py would hide the optout package: only the mode's tree (PYTHONPATH) provides the code.
    bench = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != bench]
    import django

    django.setup()
    from django.utils import timezone

    from governance.git import local_repository_commit
    from optout import services
    from optout.models import OptOutRequest, Verification

    def filed(email: str, urls: list[str]) -> OptOutRequest:
        submission = services.optout_request_submit(
            email=email, scope="repositories", repositories_text="\n".join(urls), ip="198.51.100.20"
        )
        return services.optout_request_confirm(token=submission.confirm_token).request

    if action == "attack":
        urls = [f"http://127.0.0.1:{options['port']}/o/r{number}.git" for number in range(options["repositories"])]
        request = filed("visitor@example.org", urls)
        Verification.objects.filter(request=request).update(next_check_at=timezone.now())
        from optout.tasks import optout_request_verify_task

        optout_request_verify_task.delay(request.pk)  # the sweep's round
        services.optout_request_verify_now(request=request, ip="192.0.2.66")  # and the visitor's "Verify now"
        return {"request": request.pk}
    if action == "press":  # the visitor keeps it busy: a sweep round and "Verify now", as often as allowed
        from optout.tasks import optout_request_verify_task

        request = OptOutRequest.objects.get(pk=options["request"])
        optout_request_verify_task.delay(request.pk)
        services.optout_request_verify_now(request=request, ip="192.0.2.66")
        return {}
    if action == "owner":
        path = Path(options["repository"])
        local_repository_commit(path, {"README.md": "# widgets\n"}, message="Initial commit")
        request = filed(f"owner-{uuid.uuid4().hex[:8]}@example.org", [path.as_uri()])
        local_repository_commit(path, {".dataset-opt-out": request.proof_token + "\n"}, message="Opt out")
        started = time.perf_counter()
        services.optout_request_verify_now(request=request, ip="198.51.100.7")
        deadline = started + options["owner_timeout"]
        verified = Verification.objects.filter(request=request, state=Verification.State.VERIFIED)
        while not verified.exists():
            if time.perf_counter() > deadline:
                return {"verified": False, "seconds": None}
            time.sleep(0.02)
        return {"verified": True, "seconds": round(time.perf_counter() - started, 3)}
    if action == "stats":
        hostile = Verification.objects.filter(request_id=options["request"])
        return {
            "tarpit_checks_recorded": hostile.filter(attempts__gt=0).count(),
            "tarpit_checks_scheduled_later": hostile.filter(next_check_at__gt=timezone.now()).count(),
        }
    raise SystemExit(f"unknown action {action!r}")


def _driver(mode: dict, action: str, **options) -> dict:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--drive", action, "--options", json.dumps(options)],
        cwd=mode["source"],
        env={**mode["env"], "PYTHONPATH": str(mode["source"])},
        capture_output=True,
        text=True,
        timeout=options.get("owner_timeout", 60) + 120,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the {mode['name']} driver failed ({action}):\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the orchestration -----------------------------------------------------------------------------------------


def _options(args) -> dict:
    if args is None:
        return dict(DEFAULTS)
    given = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    return {key: default if given.get(key) is None else given[key] for key, default in DEFAULTS.items()}


def _before_source(folder: Path) -> Path:
    """The code before the budgets (BEFORE_REF), exported beside this run; the working tree is never touched."""
    target = folder / "before-src"
    target.mkdir()
    archive = subprocess.run(["git", "archive", BEFORE_REF], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _workers(mode: dict, folder: Path) -> list[subprocess.Popen]:
    from governance.celery import app

    processes = []
    for name, queue, concurrency in mode["workers"]:
        node = f"{mode['name']}-{name}-{uuid.uuid4().hex[:6]}@localhost"
        log = open(folder / f"{mode['name']}-{name}.log", "wb")  # noqa: SIM115 - the process keeps it
        command = [sys.executable, "-m", "celery", "-A", "governance", "worker", "-Q", queue, "-n", node]
        command += ["--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
        process = subprocess.Popen(
            command,
            cwd=mode["source"],
            env={**mode["env"], "PYTHONPATH": str(mode["source"])},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[node], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the {mode['name']} worker {name} did not start: see {log.name}")
    return processes


def run(args=None) -> dict:
    options = _options(args)
    broker = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["CELERY_BROKER_URL"] = broker
    sys.path.insert(0, str(ROOT))
    import django

    from tests.tarpit import tarpit as tarpit_server  # the suite's tarpit, in this process (not in a mode's tree)

    django.setup()
    names = ["before", "after"] if options["before"] else ["after"]
    result: dict = {
        "benchmark": "faults_tarpit",
        "tarpit_repositories": options["repositories"],
        "runs": options["runs"],
        "git_timeout_seconds": options["git_timeout"],
        "owner_timeout_seconds": options["owner_timeout"],
        "goal_seconds": GOAL_SECONDS,
    }
    modes: dict[str, dict] = {}
    processes: list[subprocess.Popen] = []
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tarpit-")))
        for name in names:
            prefix = f"bench-tarpit-{name}-{uuid.uuid4().hex[:6]}"
            variables = {
                "CELERY_TASK_DEFAULT_QUEUE": prefix,
                "PROOF_CHECKS_QUEUE": f"{prefix}-proofs",
                "PROOF_CHECKS_NOW_QUEUE": f"{prefix}-proofs-now",
                "SCANS_QUEUE": f"{prefix}-scans",
                "CELERY_TASK_ALWAYS_EAGER": "0",
                "AUDITS_PRELOAD_INDEX": "0",
                "REPOSITORY_FETCH_ALLOW": "local,private,http",
                "OPTOUT_GIT_TIMEOUT_SECONDS": str(options["git_timeout"]),
                "OPTOUT_SUBMISSIONS_PER_EMAIL_PER_DAY": "1000000",
                "OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR": "1000000",
                "OPTOUT_VERIFY_INTERVAL_SECONDS": "0",
                "OPTOUT_VERIFY_PER_IP_PER_HOUR": "1000000",
            }
            if name == "before":
                workers = [("worker", prefix, 2)]  # the old Procfile: one worker, every task on the default queue
                source = _before_source(folder)
            else:
                workers = [("proofs", f"{prefix}-proofs", 4), ("proofs-now", f"{prefix}-proofs-now", 2)]
                source = ROOT
            # Each side's own migrations: the older code does not know the columns added since.
            env = stack.enter_context(
                scratch_database(
                    f"{options['database']}_{name}", str(folder / f"data-{name}"), source=source, **variables
                )
            )
            env["CELERY_BROKER_URL"] = broker
            tarpit = stack.enter_context(tarpit_server())
            modes[name] = {"name": name, "env": env, "source": source, "workers": workers, "tarpit": tarpit}
        try:
            for mode in modes.values():
                processes += _workers(mode, folder)
            for mode in modes.values():
                started = time.perf_counter()
                attack = _driver(mode, "attack", port=mode["tarpit"].port, repositories=options["repositories"])
                mode["request"] = attack["request"]
                mode["attack_seconds"] = round(time.perf_counter() - started, 2)
            deadline = time.monotonic() + 60
            while any(mode["tarpit"].open == 0 for mode in modes.values()):
                if time.monotonic() > deadline:
                    raise SystemExit("the workers never reached the tarpit")
                time.sleep(0.2)
            for number in range(options["runs"]):
                for mode in modes.values():
                    if number:
                        _driver(mode, "press", request=mode["request"])
                        time.sleep(2)  # let the pressed checks reach the tarpit
                    reads_open = mode["tarpit"].open
                    owner = _driver(
                        mode,
                        "owner",
                        repository=str(folder / "owners" / f"{mode['name']}-{number}"),
                        owner_timeout=options["owner_timeout"],
                    )
                    owner["tarpit_reads_open_at_start"] = reads_open
                    mode.setdefault("owners", []).append(owner)
                    print(json.dumps({"run": number, "mode": mode["name"], **owner}), file=sys.stderr, flush=True)
            for mode in modes.values():
                seconds = [owner["seconds"] for owner in mode["owners"] if owner["verified"]]
                all_verified = bool(seconds) and len(seconds) == len(mode["owners"])
                result[mode["name"]] = {
                    "owners_verified": len(seconds),
                    "owners_not_verified_within_timeout": len(mode["owners"]) - len(seconds),
                    "verify_now_seconds": {
                        "p50": percentile(seconds, 0.5) if seconds else None,
                        "max": max(seconds) if seconds else None,
                        "all": [owner["seconds"] for owner in mode["owners"]],
                    },
                    "tarpit_reads_open_when_each_owner_started": [
                        owner["tarpit_reads_open_at_start"] for owner in mode["owners"]
                    ],
                    "within_goal": all_verified and max(seconds) <= GOAL_SECONDS,
                    "workers": [f"{name} -Q {queue} --concurrency {count}" for name, queue, count in mode["workers"]],
                    "tarpit": {"connections": mode["tarpit"].accepted, "most_open_at_once": mode["tarpit"].most_open},
                    "submit_and_queue_seconds": mode["attack_seconds"],
                    **_driver(mode, "stats", request=mode["request"]),
                }
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGKILL)  # tarpit reads would hold a warm shutdown
                process.wait(timeout=30)
            for mode in modes.values():
                mode["tarpit"].stop()
            _queues_drop(broker, modes)
    return result


def _queues_drop(broker: str, modes: dict) -> None:
    import redis

    client = redis.Redis.from_url(broker)
    for mode in modes.values():
        names = ("CELERY_TASK_DEFAULT_QUEUE", "PROOF_CHECKS_QUEUE", "PROOF_CHECKS_NOW_QUEUE")
        client.delete(*(mode["env"][name] for name in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=DEFAULTS["repositories"])
    parser.add_argument("--runs", type=int, default=DEFAULTS["runs"])
    parser.add_argument(
        "--no-before", dest="before", action="store_false", help="leave out the code before the budgets"
    )
    parser.add_argument("--owner-timeout", type=float, default=DEFAULTS["owner_timeout"])
    parser.add_argument("--git-timeout", type=int, default=DEFAULTS["git_timeout"])
    parser.add_argument("--database", default=DEFAULTS["database"], help="prefix of the scratch databases")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--options", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.drive:
        print(json.dumps(_drive(arguments.drive, json.loads(arguments.options))))
        return
    print(json.dumps(run(arguments), indent=2))


if __name__ == "__main__":
    main()
