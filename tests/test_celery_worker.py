"""A real Celery worker process, fed through real Redis, writes to the real test database."""

import json
import time

import pytest

from governance.models import DatasetRepository, InventoryImport
from governance.services import inventory_import_create


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_an_import_queued_on_commit(tmp_path, worker_process):
    path = tmp_path / "inventory.jsonl"
    path.write_text("".join(json.dumps({"repo_name": f"worker/repo-{n}"}) + "\n" for n in range(25)))
    queued = inventory_import_create(dataset_slug="from-worker", source_path=str(path))

    deadline = time.monotonic() + 60
    while InventoryImport.objects.get(pk=queued.pk).status in {"queued", "running"}:
        assert time.monotonic() < deadline, "the worker did not finish the import within 60 s"
        time.sleep(0.2)

    finished = InventoryImport.objects.get(pk=queued.pk)
    assert finished.status == "done", finished.error
    assert finished.rows_read == 25 and finished.repositories_added == 25
    assert DatasetRepository.objects.filter(dataset__slug="from-worker").count() == 25
