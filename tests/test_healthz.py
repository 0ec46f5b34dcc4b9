"""/healthz tells which of the database and the broker is down."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_postgres_and_redis_answer(client, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "make test runs the suite against Redis"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "postgresql"}
    assert body["broker"]["ok"] is True


def test_healthz_names_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"]["ok"] is True
    assert body["broker"]["ok"] is False and "unreachable" in body["broker"]["detail"]


def test_healthz_says_tasks_run_inline_without_a_broker(client, settings):
    settings.CELERY_BROKER_URL = ""
    assert client.get("/healthz").json()["broker"] == {"ok": True, "detail": "none: tasks run inline"}


def test_healthz_names_the_database_when_it_is_down(tmp_path):
    # A separate process, configured for a port where nothing listens: no mock in between.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "response = Client().get('/healthz');"
        "print(json.dumps({'status': response.status_code, 'body': response.json()}))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DJANGO_DEBUG": "1",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
        "CELERY_BROKER_URL": "",
        "GOVERNANCE_DATA_DIR": str(tmp_path),
    }
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["database"]["ok"] is False and "unreachable" in result["body"]["database"]["detail"]
    assert result["body"]["broker"]["ok"] is True
