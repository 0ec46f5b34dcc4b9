"""Celery tasks for license audits: each takes an id and calls one domain function.

Nothing imports this module: services send its tasks by their registered names (governance/queueing.py).
"""

from celery import shared_task

from audits import rescans, services
from audits.models import Scan
from audits.scanning import pipeline
from governance.queueing import task_send
from governance.scratch import scratch_sweep


@shared_task(name="audits.tasks.scan_task")
def scan_task(scan_id: int) -> None:
    """The steps up to the chunks; then one task per chunk, so a deep scan uses every worker process."""
    services.scan_run(scan_id=scan_id, chunk_send=_chunk_send)


def _chunk_send(scan_id: int, number: int) -> None:
    task_send(scan_chunk_task, scan_id, number, waiting=Scan.objects.filter(pk=scan_id))


@shared_task(name="audits.tasks.scan_chunk_task")
def scan_chunk_task(scan_id: int, number: int) -> None:
    """One chunk; the chunk that finishes last writes the verdict."""
    services.scan_chunk_proceed(scan_id=scan_id, number=number)


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
