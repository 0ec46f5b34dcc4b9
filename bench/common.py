"""What the benchmarks share: a scratch PostgreSQL database and the environment to reach it."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def scratch_database(name: str, data_dir: str, *, source: Path = ROOT, **variables: str):
    """Create and migrate a fresh database `name` on DATABASE_URL's server; yield the environment to use it.

    `source` is the code tree whose migrations make the schema (a bench comparing with older code passes its tree).
    """
    server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/governance").rsplit("/", 1)[0]
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    environment = {
        **os.environ,
        "DATABASE_URL": f"{server_url}/{name}",
        "CELERY_BROKER_URL": "",
        "DJANGO_DEBUG": "1",
        "GOVERNANCE_DATA_DIR": data_dir,
        **variables,
    }
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=source, env=environment, check=True)
        yield environment
    finally:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")
