"""With the broker down nothing answers 5xx: rows say "waiting for a worker"; the sweeps send them once it is back."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import Scan
from governance.models import InventoryImport, Repository
from governance.queueing import task_send
from governance.tasks import inventory_import_task
from optout import tasks as optout_tasks
from optout.models import OptOutRequest, Verification
from tests.optout_helpers import commit_proof, file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_send_to_a_dead_broker_marks_its_rows_and_a_later_send_clears_them(broker_down, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"repo_name": "a/b"}\n')
    from governance.services import inventory_import_create

    created = inventory_import_create(dataset_slug="d", source_path=str(path), enqueue=False)
    rows = InventoryImport.objects.filter(pk=created.pk)

    assert task_send(inventory_import_task, created.pk, waiting=rows) is False
    assert rows.get().enqueue_failed_at is not None

    broker_down.back()
    assert task_send(inventory_import_task, created.pk, waiting=rows) is True  # inline here: it runs
    assert rows.get().enqueue_failed_at is None and rows.get().status == "done"


def test_verify_now_with_the_broker_down_says_waiting_and_the_sweep_checks_it_once_back(
    client, make_repository, broker_down
):
    path = make_repository("owner/tool", {"a": "1"})
    confirmation = file_and_confirm(repositories=[path.as_uri()])
    commit_proof(make_repository, "owner/tool", confirmation.request.proof_token)
    url = f"/opt-out/r/{confirmation.status_token}/"

    response = client.post(url, {"action": "verify"}, follow=True)

    assert response.status_code == 200
    assert "Waiting for a worker" in response.content.decode()
    assert Verification.objects.get().enqueue_failed_at is not None

    broker_down.back()
    optout_tasks.verification_sweep()
    verification = Verification.objects.get()
    assert verification.state == "verified" and verification.enqueue_failed_at is None
    assert "Waiting for a worker" not in client.get(url).content.decode()


def test_a_re_inclusion_check_with_the_broker_down_waits_and_the_sweep_sends_it_once_back(
    client, make_repository, broker_down, settings
):
    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 0
    path = make_repository("owner/lib", {"a": "1"})
    confirmation = file_and_confirm(repositories=[path.as_uri()])
    Verification.objects.update(state="verified")
    OptOutRequest.objects.update(state="applied", reinclusion_token="dataset-opt-in-fresh")
    commit_proof(make_repository, "owner/lib", "dataset-opt-in-fresh")
    url = f"/opt-out/r/{confirmation.status_token}/"

    response = client.post(url, {"action": "verify_reinclusion"}, follow=True)

    assert response.status_code == 200 and "Waiting for a worker" in response.content.decode()
    broker_down.back()
    optout_tasks.verification_sweep()
    request = OptOutRequest.objects.get()
    assert request.state == "withdrawn" and request.enqueue_failed_at is None
    assert request.reinclusion_check_due_at is None


def test_a_scan_asked_for_with_the_broker_down_waits_and_the_sweep_sends_it_once_back(
    client, maintainer, make_repository, broker_down
):
    from audits.tasks import scans_sweep

    path = make_repository("owner/scanned", {"LICENSE": "MIT License\n", "a.py": "print(1)\n"})
    repository = Repository.objects.create(canonical="local/owner/scanned", host="local", clone_url=path.as_uri())
    done = Scan.objects.create(repository=repository, status="done", step="done")
    client.force_login(maintainer)

    response = client.post("/admin/audits/scan/", {"action": "scan_again", "_selected_action": [done.pk]})

    assert response.status_code == 302
    waiting = Scan.objects.get(status="queued")
    assert waiting.enqueue_failed_at is not None
    assert "Waiting for a worker" in client.get(f"/review/scans/{waiting.pk}/").content.decode()
    broker_down.back()
    scans_sweep()
    waiting.refresh_from_db()
    assert waiting.status == "done" and waiting.enqueue_failed_at is None


def test_an_inventory_upload_with_the_broker_down_is_kept_and_the_sweep_runs_it_once_back(
    client, maintainer, broker_down
):
    from governance.tasks import inventory_import_sweep

    client.force_login(maintainer)
    upload = SimpleUploadedFile("shard.jsonl", b'{"repo_name": "up/loaded"}\n')

    response = client.post("/admin/governance/inventoryimport/add/", {"dataset": "uploaded", "file": upload})

    assert response.status_code == 302
    kept = InventoryImport.objects.get()
    assert kept.status == "queued" and kept.enqueue_failed_at is not None
    broker_down.back()
    inventory_import_sweep()
    kept.refresh_from_db()
    assert kept.status == "done" and kept.enqueue_failed_at is None
