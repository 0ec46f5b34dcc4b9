"""A real `celery -A governance worker` process for tests, and what kombu keeps of its queues on Redis."""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection

from governance.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
# kombu's Redis transport records each exchange a worker or sender declares, and which queues it routes to.
BINDINGS = "_kombu.binding*"


def kombu_bindings(url: str) -> set[str]:
    """The `_kombu.binding…` keys in the Redis database at `url`."""
    return {key.decode() for key in redis.Redis.from_url(url).scan_iter(BINDINGS)}


def broker_queues_removed(url: str, queues: list[str]) -> None:
    """Delete test queues from Redis: their messages (a list per priority step) and kombu's records of them."""
    client = redis.Redis.from_url(url)
    keys = []
    for queue in queues:
        keys += [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        keys += client.keys(f"{queue}\x06\x16*")
    client.delete(*keys)


@contextlib.contextmanager
def celery_worker_running(tmp_path: Path, settings):
    """A worker on queues of its own against the test database; yields the default queue's name.

    Tasks queued by the test process (and by a live server in it) go to those queues while it runs: the default one
    and the proof-check and scan queues named after it, all served by this worker. When it stops, the queues go too.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.fail("this test needs CELERY_BROKER_URL=redis://…; run it through make test")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    queues = {
        "PROOF_CHECKS_QUEUE": f"{queue}-proofs",
        "PROOF_CHECKS_NOW_QUEUE": f"{queue}-proofs-now",
        "SCANS_QUEUE": f"{queue}-scans",
    }
    for name, value in queues.items():
        setattr(settings, name, value)
    test_database = connection.settings_dict["NAME"]
    environment = {
        **os.environ,
        # The same server and credentials, but the database pytest-django created for this run.
        "DATABASE_URL": urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{test_database}").geturl(),
        "CELERY_BROKER_URL": url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **queues,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "GOVERNANCE_DATA_DIR": str(tmp_path / "worker-data"),
        "DJANGO_DEBUG": "1",
        # Most worker tests never scan; those that do load the index on first use instead.
        "AUDITS_PRELOAD_INDEX": "0",
    }
    log_path = tmp_path / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed after the worker stops
    command = [sys.executable, "-m", "celery", "-A", "governance", "worker", "-Q", ",".join([queue, *queues.values()])]
    command += ["-n", node]
    command += ["--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    previous_queue = celery_app.conf.task_default_queue
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[node], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log_path.read_text()[-3000:]}")
        celery_app.conf.task_default_queue = queue
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous_queue
        process.terminate()
        process.wait(timeout=30)
        log.close()
        broker_queues_removed(url, [queue, *queues.values()])
