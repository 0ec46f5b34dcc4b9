"""A real Celery worker process, fed through real Redis, writes to the real test database."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from governance.celery import app as celery_app
from governance.models import DatasetRepository, InventoryImport
from governance.services import inventory_import_create

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_process(tmp_path):
    """`celery -A governance worker` in its own process, on a queue of its own, against the test database."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("this test needs CELERY_BROKER_URL=redis://…; run it through make test")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    test_database = connection.settings_dict["NAME"]
    environment = {
        **os.environ,
        # The same server and credentials, but the database pytest-django created for this run.
        "DATABASE_URL": urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{test_database}").geturl(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "GOVERNANCE_DATA_DIR": str(tmp_path / "worker-data"),
        "DJANGO_DEBUG": "1",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed after the worker stops
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "governance",
            "worker",
            "-Q",
            queue,
            "-n",
            node,
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[node], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{(tmp_path / 'worker.log').read_text()[-3000:]}")
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_an_import_queued_on_commit(tmp_path, worker_process):
    path = tmp_path / "inventory.jsonl"
    path.write_text("".join(json.dumps({"repo_name": f"worker/repo-{n}"}) + "\n" for n in range(25)))
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = worker_process
    try:
        queued = inventory_import_create(dataset_slug="from-worker", source_path=str(path))
    finally:
        celery_app.conf.task_default_queue = previous_queue

    deadline = time.monotonic() + 60
    while InventoryImport.objects.get(pk=queued.pk).status in {"queued", "running"}:
        assert time.monotonic() < deadline, "the worker did not finish the import within 60 s"
        time.sleep(0.2)

    finished = InventoryImport.objects.get(pk=queued.pk)
    assert finished.status == "done", finished.error
    assert finished.rows_read == 25 and finished.repositories_added == 25
    assert DatasetRepository.objects.filter(dataset__slug="from-worker").count() == 25
