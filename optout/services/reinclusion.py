"""After a release: requests whose exclusions it carried become applied, and lifting an applied exclusion
needs a fresh proof (a re-inclusion token in every proof repository)."""

import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.fetch_policy import offline_unreadable
from governance.git import GitError
from governance.queueing import task_send_on_commit
from optout import registry
from optout.models import ExclusionSource, OptOutRequest, RequestStateError, Verification
from optout.services.events import request_event_record
from optout.services.proofs import check_ask_allowed, check_lease, proof_read

# Sent by name: the tasks module imports the services, not the other way round.
REINCLUSION_TASK = "optout.tasks.optout_request_reinclusion_task"


def optout_requests_applied(*, report) -> int:
    """A build applied a release: every active request whose exclusions that release carried is now applied."""
    release = report.release
    carried = ExclusionSource.objects.in_force(release.dataset).filter(
        exclusion__since__lte=release.frozen_at,
        request__state__in=OptOutRequest.states_allowing("apply"),
    )
    request_ids = list(carried.values_list("request_id", flat=True).distinct())
    message = (
        f"Applied: excluded from release {release.version} of {release.dataset.slug}, "
        f"applied by build {report.build_id} on {report.reported_at:%Y-%m-%d}."
    )
    for request in OptOutRequest.objects.filter(
        pk__in=request_ids, state__in=OptOutRequest.states_allowing("apply")
    ).select_for_update():
        request.transition("apply")
        request_event_record(request, "applied", message)
    return len(request_ids)


def optout_request_reinclusion_start(*, request: OptOutRequest, ip: str | None = None) -> OptOutRequest:
    """After a release applied the exclusion, lifting it needs a fresh proof: issue its token."""
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request.pk)
        request.require("reinclusion_ask")
        if not request.reinclusion_token:
            request.reinclusion_token = f"dataset-opt-in-{secrets.token_urlsafe(24)}"
            request.reinclusion_requested_at = timezone.now()
            request.save(update_fields=["reinclusion_token", "reinclusion_requested_at"])
            request_event_record(
                request, "reinclusion_asked", "Re-inclusion asked: waiting for the fresh proof.", ip=ip
            )
    return request


def optout_request_reinclusion_verify_now(*, request: OptOutRequest, ip: str | None = None) -> None:
    """Queue a check of the fresh proof, within the same limits as "Verify now"."""
    if not request.may("reinclusion_ask") or not request.reinclusion_token:
        raise RequestStateError("Ask for re-inclusion first: the page then shows the token to commit.")
    now = timezone.now()
    check_ask_allowed(request, ip=ip, now=now)
    with transaction.atomic():
        OptOutRequest.objects.filter(pk=request.pk).update(last_check_requested_at=now)
        OptOutRequest.objects.filter(pk=request.pk).update(reinclusion_check_due_at=now + check_lease())
        request_event_record(
            request, "verify_requested", "Check of the re-inclusion proof asked from the status page.", ip=ip
        )
        task_send_on_commit(REINCLUSION_TASK, request.pk, waiting=OptOutRequest.objects.filter(pk=request.pk))


def reinclusion_checks_due() -> list[int]:
    """Applied requests whose re-inclusion check was asked for and never ended (for the periodic sweep).

    Leased again here, so a check whose message is still on its way is not sent twice in one lease.
    """
    now = timezone.now()
    due = Q(reinclusion_check_due_at__lte=now) | Q(enqueue_failed_at__isnull=False)
    # Offline, a request with a proof repository on another host waits: its check reads every proof repository.
    proven = Verification.objects.filter(state=Verification.State.VERIFIED, proof_repository__isnull=False)
    offline_waits = offline_unreadable(proven, canonical="proof_repository__canonical").values("request_id")
    with transaction.atomic():
        request_ids = list(
            OptOutRequest.objects.select_for_update(skip_locked=True)
            .filter(
                due,
                state__in=OptOutRequest.states_allowing("reinclusion_ask"),
                reinclusion_token__gt="",
                reinclusion_check_due_at__isnull=False,
            )
            .exclude(pk__in=offline_waits)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        OptOutRequest.objects.filter(pk__in=request_ids).update(reinclusion_check_due_at=now + check_lease())
    return request_ids


def optout_request_reinclusion_verify(*, request_id: int) -> OptOutRequest:
    """Lift an applied request's exclusions once every proof repository holds the re-inclusion token."""
    request = OptOutRequest.objects.get(pk=request_id)
    if not request.may("reinclude") or not request.reinclusion_token:
        OptOutRequest.objects.filter(pk=request_id).update(reinclusion_check_due_at=None, enqueue_failed_at=None)
        return request
    proven, missing = [], []
    for verification in request.verifications.filter(state=Verification.State.VERIFIED).select_related(
        "proof_repository"
    ):
        repository = verification.proof_repository
        if repository is None:
            missing.append(verification.target)  # administrative: only a maintainer lifts it
            continue
        try:
            proof = proof_read(
                verification.proof_url or repository.clone_url,
                token=request.reinclusion_token,
                timeout=settings.OPTOUT_GIT_TIMEOUT_SECONDS,
            )
        except GitError:
            missing.append(verification.target)
            continue
        if proof.holds_token:
            proven.append(f"{verification.target} (commit {proof.commit[:12]})")
        else:
            missing.append(verification.target)
    with transaction.atomic():
        # This check ended, whatever it found: the sweep has nothing more to send for it.
        OptOutRequest.objects.filter(pk=request_id).update(reinclusion_check_due_at=None, enqueue_failed_at=None)
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        if not request.may("reinclude"):
            return request
        if missing:
            request_event_record(
                request, "reinclusion_checked", f"Re-inclusion proof not found yet for: {', '.join(missing)[:800]}."
            )
            return request
        request.transition("reinclude", closed_at=timezone.now())
        registry.exclusion_sources_revoke(request=request)
        request_event_record(request, "reincluded", f"Re-included after a fresh proof: {', '.join(proven)[:800]}.")
    return request
