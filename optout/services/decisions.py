"""A maintainer's decisions on a proven request: approving it, or rejecting it with a reason."""

from django.db import transaction
from django.utils import timezone

from governance.exceptions import GovernanceError
from optout.mail import mail_send
from optout.models import OptOutRequest, Verification
from optout.services.events import request_event_record
from optout.services.exclusions import exclusions_activate


def optout_request_approve(*, request_id: int, actor) -> OptOutRequest:
    """A maintainer lets a verified request take effect."""
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        request.transition("approve", decided_at=timezone.now())
        request_event_record(request, "approved", "Approved by a maintainer.", actor=actor)
        exclusions_activate(request, request.verifications.filter(state=Verification.State.VERIFIED))
    return request


def optout_request_reject(*, request_id: int, actor, reason: str) -> OptOutRequest:
    """A maintainer refuses a request; the requester gets the reason by mail."""
    reason = reason.strip()
    if not reason:
        raise GovernanceError("Give the reason for the rejection: it is mailed to the requester.")
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        now = timezone.now()
        request.transition("reject", decided_at=now, closed_at=now)
        request.verifications.filter(state__in=Verification.WAITING_STATES).update(
            state=Verification.State.WITHDRAWN, next_check_at=None
        )
        request_event_record(request, "rejected", f"Rejected by a maintainer: {reason[:900]}", actor=actor)
        email = request.email
        transaction.on_commit(lambda: mail_send(template="rejected", to=email, context={"reason": reason}))
    return request
