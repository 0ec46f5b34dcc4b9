"""Celery tasks for opt-out requests: each takes an id and calls one domain function."""

from celery import shared_task

from governance.queueing import task_send
from optout import services
from optout.models import OptOutRequest, Verification


@shared_task(name="optout.tasks.optout_request_verify_task")
def optout_request_verify_task(request_id: int, interactive: bool = False) -> None:
    services.optout_request_verify(request_id=request_id, interactive=interactive)


@shared_task(name="optout.tasks.verification_check_task")
def verification_check_task(verification_id: int, interactive: bool = False) -> None:
    services.verification_check(verification_id=verification_id, interactive=interactive)


@shared_task(name="optout.tasks.optout_request_reinclusion_task")
def optout_request_reinclusion_task(request_id: int) -> None:
    services.optout_request_reinclusion_verify(request_id=request_id)


@shared_task(name="optout.tasks.verification_sweep")
def verification_sweep() -> None:
    """Re-check pending proofs that are due (lease ran out, or never sent), and close what ran out of time."""
    services.optout_requests_expire()
    for request_id in services.verifications_due():
        waiting = Verification.objects.filter(request_id=request_id, state__in=Verification.WAITING_STATES)
        task_send(optout_request_verify_task, request_id, waiting=waiting)
    for request_id in services.reinclusion_checks_due():
        task_send(optout_request_reinclusion_task, request_id, waiting=OptOutRequest.objects.filter(pk=request_id))


@shared_task(name="optout.tasks.reservation_check_task")
def reservation_check_task(repository_id: int) -> None:
    services.reservation_check(repository_id=repository_id)


@shared_task(name="optout.tasks.reservations_sweep")
def reservations_sweep() -> None:
    """Send the reservation checks that are due: inventory repositories never checked, then the oldest checks."""
    services.reservations_sweep()
