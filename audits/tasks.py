"""Celery tasks for license audits: each takes an id and calls one domain function."""

from celery import shared_task
from django.db import transaction

from audits import rescans, services
from audits.models import Scan, ScanChunk
from audits.scanning import pipeline


@shared_task(name="audits.tasks.scan_task")
def scan_task(scan_id: int) -> None:
    """The steps up to the chunks; then one task per chunk, so a deep scan uses every worker process."""
    scan = pipeline.scan_start(scan_id=scan_id)
    if scan is None or scan.status == Scan.Status.FAILED:
        return
    numbers = list(ScanChunk.objects.filter(scan=scan).order_by("number").values_list("number", flat=True))
    if not numbers:
        services.scan_finish(scan_id=scan_id)
        return
    for number in numbers:
        transaction.on_commit(lambda number=number: scan_chunk_task.delay(scan_id, number))


@shared_task(name="audits.tasks.scan_chunk_task")
def scan_chunk_task(scan_id: int, number: int) -> None:
    if pipeline.scan_chunk_run(scan_id=scan_id, number=number):
        services.scan_finish(scan_id=scan_id)


@shared_task(name="audits.tasks.rescans_sweep")
def rescans_sweep() -> None:
    """Check heads, queue the scans that are due, and re-send chunks whose message was lost."""
    pipeline.scans_abandoned()
    rescans.rescans_queue()
    for scan_id, number in pipeline.stalled_chunks():
        pipeline.chunk_reset(scan_id=scan_id, number=number)
        scan_chunk_task.delay(scan_id, number)
    for scan_id in rescans.scans_stuck_in_queue():
        scan_task.delay(scan_id)
