"""Scans whose worker died or whose message was lost are put back on their way by the sweep and by scan_request."""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Scan, ScanChunk
from audits.scanning import pipeline
from audits.services import scan_request
from audits.tasks import scans_sweep
from governance.heartbeats import heartbeat
from governance.services import repository_ensure

pytestmark = pytest.mark.django_db(transaction=True)

FILES = {"LICENSE": "MIT License\n\nPermission is hereby granted, free of charge\n", "main.py": "print(1)\n"}


def _stopped_before_its_verdict(make_repository) -> Scan:
    """A scan whose chunks are all done, stopped where a killed worker leaves it: running, step "verdict"."""
    repository = repository_ensure(text=make_repository("acme/stuck", FILES).as_uri())
    scan = Scan.objects.create(repository=repository)
    pipeline.scan_start(scan_id=scan.pk)
    for number in ScanChunk.objects.filter(scan=scan).values_list("number", flat=True):
        pipeline.scan_chunk_run(scan_id=scan.pk, number=number)
    Scan.objects.filter(pk=scan.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    return Scan.objects.get(pk=scan.pk)


def test_a_scan_stopped_before_its_verdict_gets_it_from_the_sweep(make_repository):
    stuck = _stopped_before_its_verdict(make_repository)
    assert (stuck.status, stuck.step) == ("running", "verdict")

    scans_sweep()

    stuck.refresh_from_db()
    assert stuck.status == "done" and stuck.verdict.commit == stuck.commit


def test_scan_request_never_hands_back_a_scan_that_cannot_progress(make_repository):
    stuck = _stopped_before_its_verdict(make_repository)

    again = scan_request(repository=stuck.repository)

    assert again.pk == stuck.pk
    assert Scan.objects.get(pk=stuck.pk).status == "done"  # its verdict step was sent as the request committed
    assert scan_request(repository=stuck.repository).pk != stuck.pk  # and the next request starts a new scan


def test_a_scan_whose_worker_died_while_fetching_starts_again(make_repository):
    repository = repository_ensure(text=make_repository("acme/fetching", FILES).as_uri())
    stale = timezone.now() - timedelta(hours=1)
    scan = Scan.objects.create(repository=repository, status="running", step="fetch", heartbeat_at=stale, starts=1)

    assert scan_request(repository=repository).pk == scan.pk

    scan.refresh_from_db()
    assert scan.status == "done" and scan.starts == 2


def test_the_unfinished_chunks_of_a_dead_worker_are_sent_again(make_repository, settings):
    settings.AUDITS_CHUNK_FILES = 1
    repository = repository_ensure(text=make_repository("acme/chunks", FILES).as_uri())
    scan = Scan.objects.create(repository=repository)
    pipeline.scan_start(scan_id=scan.pk)
    ScanChunk.objects.filter(scan=scan).update(status="running")  # taken by the worker that died
    Scan.objects.filter(pk=scan.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    scans_sweep()

    scan.refresh_from_db()
    assert scan.status == "done" and not ScanChunk.objects.filter(scan=scan).exclude(status="done").exists()


def test_a_live_scan_keeps_its_heartbeat_so_the_sweep_leaves_it_alone(make_repository, settings):
    settings.AUDITS_CHUNK_STALL_SECONDS = 4
    repository = repository_ensure(text=make_repository("acme/live", FILES).as_uri())
    stale = timezone.now() - timedelta(hours=1)
    scan = Scan.objects.create(repository=repository, status="running", step="fetch", heartbeat_at=stale)

    with heartbeat(Scan.objects.filter(pk=scan.pk), every=0.2):
        time.sleep(1)
        assert pipeline.scans_recover() == {}

    assert Scan.objects.get(pk=scan.pk).status == "running"


def test_a_queued_scan_whose_message_may_be_lost_is_sent_again_once_per_interval(make_repository, settings):
    settings.AUDITS_QUEUE_RESEND_SECONDS = 60
    repository = repository_ensure(text=make_repository("acme/queued", FILES).as_uri())
    scan = Scan.objects.create(repository=repository)
    assert pipeline.scans_recover() == {}  # just queued: its message is on its way

    Scan.objects.filter(pk=scan.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert pipeline.scans_recover() == {"sent": 1}
    assert Scan.objects.get(pk=scan.pk).status == "done"


def test_fetched_commits_of_closed_scans_are_removed_from_disk(make_repository, data_dir, settings):
    settings.AUDITS_CHUNK_STALL_SECONDS = 4
    repository = repository_ensure(text=make_repository("acme/disk", FILES).as_uri())
    closed = Scan.objects.create(repository=repository, status="failed")
    running = Scan.objects.create(repository=repository, status="running")
    old = time.time() - 60
    for name in (f"scan-{closed.pk}", f"scan-{closed.pk}-staging", f"scan-{running.pk}"):
        (data_dir / "scans" / name).mkdir(parents=True)
        os.utime(data_dir / "scans" / name, (old, old))

    assert pipeline.scan_workdirs_sweep() == 2
    assert [path.name for path in (data_dir / "scans").iterdir()] == [f"scan-{running.pk}"]
