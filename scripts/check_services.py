"""Before `make test`: are PostgreSQL and Redis reachable? If not, start them or say exactly how.

The suite never falls back to SQLite or inline tasks: what it tests is the
PostgreSQL + Redis + worker setup that production runs.
"""

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

import psycopg
import redis

DATABASE_URL = os.environ["DATABASE_URL"]
BROKER_URL = os.environ["CELERY_BROKER_URL"]


def database_problem() -> str | None:
    parts = urlsplit(DATABASE_URL)
    if parts.scheme not in {"postgres", "postgresql"}:
        return f"DATABASE_URL={DATABASE_URL!r}: make test needs PostgreSQL (postgres://user@host:port/db)"
    try:
        # The maintenance database: the test database is created by the suite itself.
        with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return None
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0]
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} is not reachable ({reason})"


def broker_problem() -> str | None:
    if not BROKER_URL.startswith("redis://"):
        return f"CELERY_BROKER_URL={BROKER_URL!r}: make test needs Redis (redis://host:6379/0)"
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping()
        return None
    except redis.RedisError as error:
        return f"Redis at {BROKER_URL} is not reachable ({error})"


def compose_command() -> list[str] | None:
    """How compose is called here: v2 (`docker compose`) when Docker has the plugin, else v1 (`docker-compose`)."""
    if shutil.which("docker") and _answers(["docker", "compose", "version"]):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _answers(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def docker_engine_works() -> bool:
    return bool(shutil.which("docker")) and _answers(["docker", "info"])


def main() -> int:
    problems = [problem for problem in (database_problem(), broker_problem()) if problem]
    if not problems:
        return 0
    compose = compose_command()
    shown = " ".join(compose or ["docker", "compose"])
    if compose and docker_engine_works():
        print(f"Starting PostgreSQL and Redis with: {shown} up -d postgres redis", file=sys.stderr)
        subprocess.run([*compose, "up", "-d", "postgres", "redis"], check=False)
        for _ in range(30):
            problems = [problem for problem in (database_problem(), broker_problem()) if problem]
            if not problems:
                return 0
            time.sleep(1)
    print("make test cannot run:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(
        f"Start them, then run make test again. With Docker: {shown} up -d postgres redis\n"
        "On Debian without Docker:\n"
        "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
        '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n'
        "Or point the suite elsewhere: make test DATABASE_URL=postgres://user@host:5432/governance "
        "CELERY_BROKER_URL=redis://host:6379/0",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
