"""A real Celery worker process, fed through real Redis, writes to the real test database."""

import json
import time

import pytest

from governance.models import DatasetRepository, InventoryImport
from governance.services import inventory_import_create
from tests.worker_helpers import celery_worker_running, kombu_bindings


def import_run_by_the_worker(tmp_path, slug: str, rows: int = 25) -> InventoryImport:
    path = tmp_path / f"{slug}.jsonl"
    path.write_text("".join(json.dumps({"repo_name": f"worker/repo-{n}"}) + "\n" for n in range(rows)))
    queued = inventory_import_create(dataset_slug=slug, source_path=str(path))

    deadline = time.monotonic() + 60
    while InventoryImport.objects.get(pk=queued.pk).status in {"queued", "running"}:
        assert time.monotonic() < deadline, "the worker did not finish the import within 60 s"
        time.sleep(0.2)
    return InventoryImport.objects.get(pk=queued.pk)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_an_import_queued_on_commit(tmp_path, worker_process):
    finished = import_run_by_the_worker(tmp_path, "from-worker")

    assert finished.status == "done", finished.error
    assert finished.rows_read == 25 and finished.repositories_added == 25
    assert DatasetRepository.objects.filter(dataset__slug="from-worker").count() == 25


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_stopped_leaves_no_kombu_bindings_in_redis(tmp_path, settings):
    url = settings.CELERY_BROKER_URL
    with celery_worker_running(tmp_path, settings) as queue:
        assert import_run_by_the_worker(tmp_path, "bindings").status == "done"
        assert f"_kombu.binding.{queue}" in kombu_bindings(url)  # what the worker and the sender declared

    # Its queues' records, and its control exchange's (a stopped worker answers no `inspect ping`).
    left = [key for key in kombu_bindings(url) if queue in key or "pidbox" in key or "celeryev" in key]
    assert left == []
