"""Benchmark: import an existing opt-out registry (10,000 issue records) into PostgreSQL.

Prints one JSON object: records/s, seconds and peak RSS of `manage.py import_optouts` for the first import, the
re-import of the same file (which must change nothing) and a dry run, beside the goal (≤ 30 s for 10,000 records
naming 10,000 owners and 1,000 repositories). Uses its own database, created and dropped here.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance .venv/bin/python bench/import_optouts.py [--records N]
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, scratch_database

GOAL_SECONDS = 30
DATABASE = "governance_bench_import_optouts"


def issues_file(path: Path, records: int, repositories: int, seed: int = 7) -> None:
    """`records` issues, each opting out its author's namespace; `repositories` of them also name a repository."""
    generator = random.Random(seed)
    with_repository = set(generator.sample(range(records), repositories))
    with path.open("w") as stream:
        for number in range(records):
            owner = f"owner-{number}"
            record = {"issue": number + 1, "author": f"author-{number}", "optout_owners": [owner], "optout_repos": []}
            if number in with_repository:
                record["optout_repos"] = [f"someone-{number}/project-{number}"]
            stream.write(json.dumps(record) + "\n")


def run_import(environment: dict, path: Path, *extra: str) -> dict:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_optouts", "bench", str(path), "--format", "jsonl-issues", "--json"]
        + list(extra),
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"import failed:\n{completed.stderr[-2000:]}")
    summary = json.loads(completed.stdout)
    counts = {key: summary[key] for key in ("read", "created", "updated", "unchanged")}
    counts["failed"] = len(summary["failed"])
    return {"seconds": round(seconds, 2), "summary": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repositories", type=int, default=1_000)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, scratch_database(DATABASE, folder) as environment:
        path = Path(folder) / "issues.jsonl"
        issues_file(path, arguments.records, arguments.repositories)
        first = run_import(environment, path)
        second = run_import(environment, path)
        dry = run_import(environment, path, "--dry-run")
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)

    print(
        json.dumps(
            {
                "benchmark": "import_optouts",
                "records": arguments.records,
                "owners": arguments.records,
                "repositories": arguments.repositories,
                "first_import": {
                    **first,
                    "records_per_second": round(arguments.records / first["seconds"]),
                    "seconds_vs_goal": round(first["seconds"] / GOAL_SECONDS, 3),
                },
                "reimport_unchanged": {**second, "records_per_second": round(arguments.records / second["seconds"])},
                "dry_run_unchanged": dry,
                "peak_rss_mb": peak_rss_mb,
                "goal": {"seconds": GOAL_SECONDS},
                "cpu_count": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
