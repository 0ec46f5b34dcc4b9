"""Benchmark: opt-out requests through the whole flow, with a real worker pool on PostgreSQL and Redis.

N requests of M repositories each are submitted, confirmed, proven (a commit of the proof file in
each of N×M bare repositories on disk) and verified by `celery worker --concurrency 2`. Prints JSON:
requests/s through the flow and the time of one verification (git read of the proof) p50/p95/max,
beside the issue's goal (p95 ≤ 1 s for local repositories).

    .venv/bin/python bench/optout.py [--requests 1000] [--repositories 10]
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

from common import ROOT, percentile, scratch_database

GOAL_P95_SECONDS = 1.0
AUTHOR = b"Bench <bench@example.org> 1764000000 +0000"


def _object(objects: Path, kind: bytes, body: bytes) -> bytes:
    """Write one loose git object; git reads these like any other (thousands of repositories in seconds)."""
    raw = kind + b" " + str(len(body)).encode() + b"\0" + body
    sha = hashlib.sha1(raw).hexdigest()
    folder = objects / sha[:2]
    folder.mkdir(exist_ok=True)
    (folder / sha[2:]).write_bytes(zlib.compress(raw, 1))
    return bytes.fromhex(sha)


def _commit(repository: Path, files: dict[str, bytes], parent: str | None) -> str:
    objects = repository / "objects"
    entries = sorted((name.encode(), _object(objects, b"blob", content)) for name, content in files.items())
    tree = _object(objects, b"tree", b"".join(b"100644 " + name + b"\0" + sha for name, sha in entries))
    lines = [b"tree " + tree.hex().encode()]
    if parent:
        lines.append(b"parent " + parent.encode())
    lines += [b"author " + AUTHOR, b"committer " + AUTHOR, b"", b"commit", b""]
    commit = _object(objects, b"commit", b"\n".join(lines)).hex()
    (repository / "refs" / "heads" / "main").write_text(commit + "\n")
    return commit


def bare_repository(path: Path) -> str:
    for folder in ("objects", "refs/heads", "refs/tags"):
        (path / folder).mkdir(parents=True, exist_ok=True)
    (path / "HEAD").write_text("ref: refs/heads/main\n")
    (path / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = true\n")
    return _commit(path, {"README.md": f"# {path.name}\n".encode()}, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repositories", type=int, default=10, help="repositories per request")
    arguments = parser.parse_args()

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    limits = {
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PROOF_CHECKS_QUEUE": f"{queue}-proofs",
        "PROOF_CHECKS_NOW_QUEUE": f"{queue}-proofs-now",
        "OPTOUT_SUBMISSIONS_PER_EMAIL_PER_DAY": "1000000",
        "OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR": "1000000",
        "OPTOUT_VERIFY_INTERVAL_SECONDS": "0",
    }
    broker = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/14"
    with tempfile.TemporaryDirectory() as folder, scratch_database("governance_bench_optout", folder, **limits) as env:
        env["CELERY_BROKER_URL"] = broker
        root = Path(folder) / "repositories"
        started = time.perf_counter()
        heads = {}
        for number in range(arguments.requests * arguments.repositories):
            path = root / f"owner-{number // arguments.repositories}" / f"repo-{number}.git"
            heads[path] = bare_repository(path)
        repositories_seconds = time.perf_counter() - started

        os.environ.update(env, DJANGO_SETTINGS_MODULE="governance.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from optout import services
        from optout.models import OptOutRequest, Verification

        worker_log = open(Path(folder) / "worker.log", "wb")  # noqa: SIM115 - closed below
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "governance",
                "worker",
                "-Q",
                f"{queue},{queue}-proofs,{queue}-proofs-now",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(3)  # let the pool start; its start is not part of the flow
            paths = list(heads)
            started = time.perf_counter()
            for number in range(arguments.requests):
                mine = paths[number * arguments.repositories : (number + 1) * arguments.repositories]
                submission = services.optout_request_submit(
                    email=f"owner-{number}@example.org",
                    scope="repositories",
                    repositories_text="\n".join(path.as_uri() for path in mine),
                )
                confirmation = services.optout_request_confirm(token=submission.confirm_token)
                proof = confirmation.request.proof_token.encode() + b"\n"
                for path in mine:
                    _commit(path, {"README.md": f"# {path.name}\n".encode(), ".dataset-opt-out": proof}, heads[path])
                services.optout_request_verify_now(request=confirmation.request)
            queued_seconds = time.perf_counter() - started
            deadline = time.monotonic() + 3600
            # Done when every repository is verified (a request is active from its first proof on).
            while Verification.objects.exclude(state=Verification.State.VERIFIED).exists():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the flow did not finish:\n{(Path(folder) / 'worker.log').read_text()[-3000:]}")
                time.sleep(0.5)
            flow_seconds = time.perf_counter() - started
            checks = list(Verification.objects.values_list("last_check_seconds", flat=True))
            active = OptOutRequest.objects.filter(state=OptOutRequest.State.ACTIVE).count()
            verified = Verification.objects.filter(state=Verification.State.VERIFIED).count()
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            worker_log.close()

    total = arguments.requests * arguments.repositories
    p95 = percentile(checks, 0.95)
    print(
        json.dumps(
            {
                "benchmark": "optout",
                "requests": arguments.requests,
                "repositories": total,
                "verified": verified,
                "requests_active": active,
                "worker_concurrency": 2,
                "make_repositories_seconds": round(repositories_seconds, 2),
                "submit_confirm_prove_queue_seconds": round(queued_seconds, 2),
                "flow_seconds": round(flow_seconds, 2),
                "requests_per_second": round(arguments.requests / flow_seconds, 2),
                "repositories_per_second": round(total / flow_seconds, 2),
                "verification_seconds": {
                    "p50": round(percentile(checks, 0.5), 4),
                    "p95": round(p95, 4),
                    "max": round(max(checks), 4),
                },
                "p95_vs_goal": round(p95 / GOAL_P95_SECONDS, 3),
                "goal": {"verification_p95_seconds": GOAL_P95_SECONDS},
                "cpu_count": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
