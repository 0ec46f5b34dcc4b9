"""One cache shared by every process: Redis with a broker (cleared without touching the broker's keys), the
database without one (its table made by migrate)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from governance.services import dataset_get_or_create

ROOT = Path(__file__).resolve().parent.parent


def test_with_a_broker_the_cache_is_its_redis_and_clearing_it_keeps_queued_tasks():
    assert settings.CACHES["default"]["LOCATION"] == settings.CELERY_BROKER_URL
    client = cache._cache.get_client(None, write=True)
    client.set("_kombu.binding.test-cache-clear", "a queued task's binding")
    try:
        cache.set("report", 1)
        cache.clear()
        assert cache.get("report") is None and client.get("_kombu.binding.test-cache-clear") is not None
    finally:
        client.delete("_kombu.binding.test-cache-clear")


def test_without_a_broker_the_cache_is_the_database_and_migrate_makes_its_table(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    environment.update({"DJANGO_DEBUG": "1", "GOVERNANCE_DATA_DIR": str(tmp_path)})
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    script = (
        "import django; django.setup(); from django.core.cache import cache; from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND']); cache.add('calls', 0); cache.incr('calls'); "
        "print(cache.incr('calls'))"
    )
    used = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "governance.settings"},
        capture_output=True,
        text=True,
    )
    assert used.stdout.split() == ["django.core.cache.backends.db.DatabaseCache", "2"], used.stderr


@pytest.mark.django_db(transaction=True)
def test_while_redis_is_unreachable_the_api_and_the_report_still_answer(client, settings, caplog):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    unreachable = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed}/0"}
    settings.CACHES = {"default": unreachable}
    dataset_get_or_create(slug="the-stack")
    assert client.get("/api/v1/datasets/").status_code == 200
    assert client.get("/transparency/").status_code == 200
    assert "cache unreachable, served without it" in caplog.text
    assert cache.clear() is False  # the tests' own clearing (conftest) does not fail either
