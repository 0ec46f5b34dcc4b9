"""Celery tasks for license audits: each takes an id and calls one domain function."""

from celery import shared_task

from audits import rescans, services
from audits.models import Scan, ScanChunk
from audits.scanning import pipeline
from governance.faults import fault_point
from governance.queueing import task_send
from governance.scratch import scratch_sweep


@shared_task(name="audits.tasks.scan_task")
def scan_task(scan_id: int) -> None:
    """The steps up to the chunks; then one task per chunk, so a deep scan uses every worker process."""
    scan = pipeline.scan_start(scan_id=scan_id)
    if scan is None or scan.status == Scan.Status.FAILED:
        return
    numbers = list(ScanChunk.objects.filter(scan=scan).order_by("number").values_list("number", flat=True))
    if not numbers:
        fault_point("scan:verdict")
        services.scan_finish(scan_id=scan_id)
        return
    for number in numbers:
        task_send(scan_chunk_task, scan_id, number, waiting=Scan.objects.filter(pk=scan_id))


@shared_task(name="audits.tasks.scan_chunk_task")
def scan_chunk_task(scan_id: int, number: int) -> None:
    if pipeline.scan_chunk_run(scan_id=scan_id, number=number):
        fault_point("scan:verdict")
        services.scan_finish(scan_id=scan_id)


@shared_task(name="audits.tasks.scan_finish_task")
def scan_finish_task(scan_id: int) -> None:
    """The verdict step alone, sent by the sweep when the worker that should have written it died."""
    services.scan_finish(scan_id=scan_id)


@shared_task(name="audits.tasks.scans_sweep")
def scans_sweep() -> None:
    """Recover scans that cannot progress (lost messages, dead workers), and what dead workers left on disk."""
    pipeline.scans_recover()
    pipeline.scan_workdirs_sweep()
    scratch_sweep()


@shared_task(name="audits.tasks.rescans_sweep")
def rescans_sweep() -> None:
    """Check heads and queue the scans that are due."""
    rescans.rescans_queue()
