"""docker-compose.yml starts the stack in order, and `make test` calls compose as this machine spells it."""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "proofs", "proofs-now", "scans", "beat"]


def test_the_schema_is_migrated_once_by_a_one_shot_service():
    migrate = SERVICES["migrate"]
    assert shlex.split(migrate["command"].replace("$$", "$"))[2].endswith("&& exec python manage.py migrate --noinput")
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_web_the_workers_and_beat_start_only_after_the_migration_succeeded():
    app_services = [name for name, service in SERVICES.items() if service.get("image") == "dataset-governance:local"]
    assert sorted(app_services) == sorted([*APP_SERVICES, "migrate"])
    for name in APP_SERVICES:
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert "manage.py migrate" not in SERVICES["web"]["command"]  # never two services migrating at once


def fake_bin(tmp_path: Path, scripts: dict[str, str]) -> Path:
    """A folder of executables that record how they were called (in calls.log) before running `scripts[name]`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> {tmp_path}/calls.log\n{body}\n')
        path.chmod(0o755)
    return folder


def check_services(tmp_path: Path, folder: Path, **environment) -> subprocess.CompletedProcess:
    environment = {"PATH": str(folder), "HOME": str(tmp_path), **environment}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_services.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


DOWN = {"DATABASE_URL": "sqlite:///nothing", "CELERY_BROKER_URL": "memory://"}  # refused without a connection


def test_without_the_compose_plugin_it_names_docker_compose_v1(tmp_path):
    folder = fake_bin(tmp_path, {"docker": "exit 1", "docker-compose": "exit 0"})
    completed = check_services(tmp_path, folder, **DOWN)
    assert completed.returncode == 1
    assert "With Docker: docker-compose up -d postgres redis" in completed.stderr
    assert calls(tmp_path) == ["docker compose version", "docker info"]  # no engine: nothing is started


def test_with_the_compose_plugin_it_names_docker_compose_v2(tmp_path):
    folder = fake_bin(tmp_path, {"docker": '[ "$1" = compose ] && exit 0; exit 1', "docker-compose": "exit 0"})
    completed = check_services(tmp_path, folder, **DOWN)
    assert "With Docker: docker compose up -d postgres redis" in completed.stderr
    assert calls(tmp_path) == ["docker compose version", "docker info"]


def test_with_an_engine_it_starts_the_services_with_the_compose_it_found(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pidfile = tmp_path / "redis.pid"
    # `up` starts a real Redis where the broker URL points, as compose would.
    redis_up = (
        f"{shutil.which('redis-server')} --port {port} --bind 127.0.0.1 --save '' --daemonize yes --pidfile {pidfile}"
    )
    folder = fake_bin(tmp_path, {"docker": '[ "$1" = info ] && exit 0; exit 1', "docker-compose": redis_up})
    database = os.environ["DATABASE_URL"]
    try:
        completed = check_services(
            tmp_path, folder, DATABASE_URL=database, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0"
        )
        assert completed.returncode == 0, completed.stderr
        assert "Starting PostgreSQL and Redis with: docker-compose up -d postgres redis" in completed.stderr
        assert calls(tmp_path) == ["docker compose version", "docker info", "docker-compose up -d postgres redis"]
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
