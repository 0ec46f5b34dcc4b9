"""Benchmark: import a 1,000,000-row Stack-v2-style Parquet inventory into PostgreSQL.

Prints one JSON object: rows/s and peak memory of `manage.py import_inventory` (first
import, then the re-import that must change nothing), beside the issue's goals
(≤ 60 s and ≤ 500 MB peak RSS). Uses its own database, created and dropped here.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance .venv/bin/python bench/import_inventory.py [--rows N]
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

import pyarrow as pa
import pyarrow.parquet as pq
from common import ROOT, scratch_database

GOAL_SECONDS = 60
GOAL_RSS_MB = 500


def stack_v2_shard(path: Path, rows: int, seed: int = 7) -> int:
    """Write `rows` Stack-v2-style rows; files per repository follow a long tail, as in the real data."""
    generator = random.Random(seed)
    repo_names: list[str] = []
    owners = 0
    while len(repo_names) < rows:
        if owners == 0 or generator.random() < 0.6:
            owners += 1
        name = f"Owner{owners}/Project-{len(repo_names)}"
        files = min(int(generator.paretovariate(1.2)), 2000)
        repo_names.extend([name] * files)
    del repo_names[rows:]
    generator.shuffle(repo_names)  # shards are not grouped by repository
    table = pa.table(
        {
            "blob_id": pa.array([f"{generator.getrandbits(160):040x}" for _ in range(rows)]),
            "repo_name": pa.array(repo_names),
            "path": pa.array([f"src/module_{index % 997}.py" for index in range(rows)]),
        }
    )
    pq.write_table(table, path, row_group_size=128 * 1024)
    return len(set(repo_names))


def run_import(environment: dict, shard: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_inventory", "bench", str(shard)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"import failed:\n{completed.stderr[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
        "output": completed.stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, scratch_database("governance_bench", folder) as environment:
        shard = Path(folder) / "shard.parquet"
        started = time.perf_counter()
        repositories = stack_v2_shard(shard, arguments.rows)
        generated = time.perf_counter() - started
        parquet_mb = round(shard.stat().st_size / 2**20, 1)

        first = run_import(environment, shard)
        second = run_import(environment, shard)

    print(
        json.dumps(
            {
                "benchmark": "import_inventory",
                "rows": arguments.rows,
                "unique_repositories": repositories,
                "parquet_mb": parquet_mb,
                "generate_seconds": round(generated, 2),
                "first_import": {
                    **first,
                    "rows_per_second": round(arguments.rows / first["seconds"]),
                    "seconds_vs_goal": round(first["seconds"] / GOAL_SECONDS, 3),
                    "rss_vs_goal": round(first["peak_rss_mb"] / GOAL_RSS_MB, 3),
                },
                "reimport_unchanged": {**second, "rows_per_second": round(arguments.rows / second["seconds"])},
                "goal": {"seconds": GOAL_SECONDS, "peak_rss_mb": GOAL_RSS_MB},
                "cpu_count": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
