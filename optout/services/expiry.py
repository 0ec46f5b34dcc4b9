"""What runs out of time: confirmation links never used, and proofs missing after the deadline (the sweep's part)."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from optout.mail import mail_send
from optout.models import OptOutRequest, Verification
from optout.services.events import request_event_record


def optout_requests_expire() -> int:
    """Close what ran out of time: unconfirmed links, and proofs missing after the deadline."""
    now = timezone.now()
    expired = 0
    unconfirmed = OptOutRequest.objects.filter(
        state__in=OptOutRequest.states_allowing("confirmation_expire"), confirm_expires_at__lt=now
    )
    for request_id in unconfirmed.values_list("pk", flat=True):
        with transaction.atomic():
            request = OptOutRequest.objects.select_for_update().get(pk=request_id)
            if not request.may("confirmation_expire"):
                continue  # confirmed meanwhile
            request.transition("confirmation_expire", closed_at=now, confirm_token_hash=None)
            # The address was never confirmed: no mail goes to it.
            request_event_record(request, "expired", "The confirmation link was not used in time.")
            expired += 1
    overdue = (
        Verification.objects.filter(state__in=Verification.WAITING_STATES, request__proof_deadline__lt=now)
        .values_list("request_id", flat=True)
        .distinct()
    )
    for request_id in list(overdue):
        with transaction.atomic():
            request = OptOutRequest.objects.select_for_update().get(pk=request_id)
            waiting = request.verifications.filter(state__in=Verification.WAITING_STATES)
            targets = [verification.target for verification in waiting]
            waiting.update(state=Verification.State.EXPIRED, next_check_at=None)
            if request.may("proof_expire"):
                request.transition("proof_expire", closed_at=now)
                request_event_record(request, "expired", f"No proof appeared within {settings.OPTOUT_PROOF_DAYS} days.")
                email = request.email
                transaction.on_commit(
                    lambda email=email, targets=targets: mail_send(
                        template="expired", to=email, context={"days": settings.OPTOUT_PROOF_DAYS, "targets": targets}
                    )
                )
                expired += 1
            else:
                request_event_record(
                    request, "proofs_expired", f"No proof appeared in time for: {', '.join(targets)[:800]}."
                )
    return expired
