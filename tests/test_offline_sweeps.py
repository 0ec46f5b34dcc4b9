"""Offline mode under `make run`: after the demo, beat's sweeps read only the repositories on this disk; the demo's
github.com rows (`demo-user-N/project-M`, which exist nowhere) are never picked, so nothing is recorded as failed."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

import governance.git
from audits.models import RepositoryAudit, Scan
from governance.celery import app as celery_app
from governance.models import BlobListing, Dataset, DatasetRepository, InventoryImport, Repository
from governance.queueing import task_named
from optout.models import ReservationCheck, Verification
from releases.exclusions import excluded_repository_ids
from releases.reports.overview import review_overview
from tests.optout_helpers import file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)

LOCAL = "file:///"
NETWORK_SCHEMES = ("https://", "http://", "ssh://", "git://")


@pytest.fixture
def offline_demo(settings, names_resolve_on_loopback_only):
    settings.REPOSITORY_FETCH_ALLOW = ["local"]
    settings.REPOSITORY_FETCH_OFFLINE = True  # as `make run` sets them
    call_command("demo", stdout=StringIO())
    # The same demo as online: its github.com rows are recorded (only its two damaged rows are refused).
    assert [result.rows_failed for result in InventoryImport.objects.all()] == [2, 2]
    return names_resolve_on_loopback_only


def failures() -> dict[str, object]:
    """Every record of a read that failed, and what the maintainers' overview lists as failed."""
    return {
        "overview": [job.label for job in review_overview().failed],
        "scans": Scan.objects.filter(status=Scan.Status.FAILED).count(),
        "imports": InventoryImport.objects.filter(status=InventoryImport.Status.FAILED).count(),
        "listings": BlobListing.objects.filter(status=BlobListing.Status.FAILED).count(),
        "reservation checks": ReservationCheck.objects.exclude(error="").count(),
        "head checks": RepositoryAudit.objects.exclude(head_error="").count(),
        "proof checks": Verification.objects.filter(detail__contains="offline").count(),
    }


def remote_rows_the_sweeps_would_pick() -> dict[str, bool]:
    remote_inventory = DatasetRepository.objects.exclude(repository__canonical__startswith=LOCAL)
    excluded = Repository.objects.none()
    for dataset in Dataset.objects.all():
        excluded |= Repository.objects.filter(pk__in=excluded_repository_ids(dataset))
    return {
        "never reservation-checked": remote_inventory.filter(repository__reservation_check__isnull=True).exists(),
        "never scanned": remote_inventory.filter(repository__audit__isnull=True).exists(),
        "excluded, never listed": excluded.filter(blob_listing__isnull=True)
        .exclude(canonical__startswith=LOCAL)
        .exists(),
    }


def test_every_beat_sweep_after_the_demo_reads_only_repositories_on_disk_and_records_no_failure(offline_demo):
    assert remote_rows_the_sweeps_would_pick() == dict.fromkeys(remote_rows_the_sweeps_would_pick(), True)
    before = failures()
    sweeps = sorted({entry["task"] for entry in celery_app.conf.beat_schedule.values()})
    fetch_plan = mock.patch.object(governance.git, "_fetch_plan", autospec=True, side_effect=governance.git._fetch_plan)
    git = mock.patch.object(governance.git, "git_run", autospec=True, side_effect=governance.git.git_run)
    # Two days on, the demo's own periodic work is due again too: proof checks, head checks, reservation checks.
    later = timezone.now() + timedelta(days=2)
    with fetch_plan as planned, git as ran, mock.patch.object(timezone, "now", return_value=later):
        for name in sweeps:
            task_named(name).apply().get()  # inline, as a worker runs it, with what it sends run inline too

    fetched = [call.args[0] for call in planned.call_args_list]
    assert fetched, "the sweeps read the demo's repositories on disk"
    assert [url for url in fetched if not url.startswith("file://")] == []
    assert [
        call.args for call in ran.call_args_list if any(s in arg for arg in call.args for s in NETWORK_SCHEMES)
    ] == []
    offline_demo.assert_not_called()  # not even a host name was looked up
    assert failures() == before
    assert before["overview"] == ["License scan of " + Scan.objects.get(status="failed").repository.canonical]


def test_offline_the_proof_sweep_leaves_a_request_with_a_remote_proof_for_later(
    settings, names_resolve_on_loopback_only, make_repository
):
    settings.REPOSITORY_FETCH_ALLOW = ["local"]
    local = make_repository("alice/tool", {"a": "1"}).as_uri()
    mixed = file_and_confirm(repositories=[make_repository("bob/tool", {"a": "1"}).as_uri(), "bob/widgets"]).request
    on_disk = file_and_confirm(repositories=[local], email="alice@example.org").request
    settings.REPOSITORY_FETCH_OFFLINE = True
    Verification.objects.update(next_check_at=timezone.now())
    attempts = dict(Verification.objects.values_list("pk", "attempts"))

    fetch_plan = mock.patch.object(governance.git, "_fetch_plan", autospec=True, side_effect=governance.git._fetch_plan)
    with fetch_plan as planned:
        task_named("optout.tasks.verification_sweep").apply().get()

    assert [call.args[0] for call in planned.call_args_list] == [local]
    checked = {pk for pk, count in Verification.objects.values_list("pk", "attempts") if count > attempts[pk]}
    assert checked == set(on_disk.verifications.values_list("pk", flat=True))
    assert not mixed.verifications.filter(detail__contains="offline").exists()
