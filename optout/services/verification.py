"""Proof checks: "Verify now", the sweep's rounds, and one repository's check and what its outcome changes.

How much of the worker pool the checks may use is optout/budgets.py; reading the proof itself is proofs.py.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.faults import fault_point
from governance.fetch_policy import offline_unreadable
from governance.git import FetchRefused, GitError
from governance.queueing import task_send, task_send_on_commit
from optout import budgets
from optout.models import OptOutRequest, Verification
from optout.services.events import counted, request_event_record
from optout.services.exclusions import exclusions_activate
from optout.services.proofs import PROOF_FILE, check_ask_allowed, check_lease, proof_read

logger = logging.getLogger(__name__)
# Sent by name: the tasks module imports the services, not the other way round.
VERIFY_TASK = "optout.tasks.optout_request_verify_task"
CHECK_TASK = "optout.tasks.verification_check_task"


def optout_request_verify_now(*, request: OptOutRequest, ip: str | None = None) -> None:
    """The owner pressed "Verify now": queue a check of every waiting proof, within the limits."""
    now = timezone.now()
    request.require("proofs_check")
    if not request.verifications.filter(state__in=Verification.WAITING_STATES).exists():
        raise GovernanceError("Every repository of this request is already verified.")
    check_ask_allowed(request, ip=ip, now=now)
    with transaction.atomic():
        OptOutRequest.objects.filter(pk=request.pk).update(last_check_requested_at=now)
        request.verifications.filter(state__in=Verification.WAITING_STATES).update(next_check_at=now)
        request_event_record(request, "verify_requested", "Verification asked from the status page.", ip=ip)
        waiting = Verification.objects.filter(request_id=request.pk, state__in=Verification.WAITING_STATES)
        # Interactive: its first checks go to a queue no background check can hold (optout/budgets.py).
        task_send_on_commit(VERIFY_TASK, request.pk, kwargs={"interactive": True}, waiting=waiting)


def _unread_result(canonical: str, next_check) -> str:
    """What the owner's status page says when git could not read the repository, whatever the cause.

    One wording for a missing path, a host that refused or never answered, a port that is not git, a refused
    address: anyone may file a request, so the page must not tell them which of these a host is.
    """
    return (
        f"{canonical} could not be read: it does not exist, is not public, or its host did not answer. "
        f"Next try: {next_check:%Y-%m-%d %H:%M} UTC."
    )


def verification_check(*, verification_id: int, interactive: bool = False) -> Verification:
    """Read one repository's proof file with git and record what it says; never holds a transaction open.

    Within the budgets of optout/budgets.py: a request whose round is spent waits for the next one, a host at its
    cap sends the check back to the queue for a moment, and each recorded check queues the request's next one.
    """
    verification = Verification.objects.select_related("request", "proof_repository").get(pk=verification_id)
    if verification.state not in Verification.WAITING_STATES or verification.check_queued_at is None:
        # Nothing outstanding: a copy of a message already handled (a sweep may send a check again while the
        # first message still waits in a long queue). Only the sends below and in optout_request_verify count.
        return verification
    run = budgets.check_run_acquire(verification_id)
    if run is None:
        return verification  # a copy of this message is being handled right now: one git read, not two
    try:
        return _verification_check_run(verification, interactive=interactive)
    finally:
        budgets.check_run_release(run)


def _verification_check_run(verification: Verification, *, interactive: bool) -> Verification:
    verification_id = verification.pk
    request = verification.request
    now = timezone.now()
    if not budgets.round_left(request):
        # Due again, and in no lane: the next round (a sweep, or "Verify now") takes it.
        Verification.objects.filter(pk=verification_id, state__in=Verification.WAITING_STATES).update(
            check_queued_at=None, next_check_at=now
        )
        return verification
    # The lease counts from the start of the check, not from the time its message waited in the queue.
    # The request's in-flight count (check_queued_at) follows the same lease.
    Verification.objects.filter(pk=verification_id, state__in=Verification.WAITING_STATES).update(
        next_check_at=now + check_lease(), check_queued_at=now
    )
    fault_point("optout:check")
    repository = verification.proof_repository
    url = verification.proof_url or repository.clone_url
    slot = budgets.host_slot_acquire(url, interactive=interactive)
    if slot is None:
        return _verification_check_later(verification_id, interactive=interactive, now=now)
    started = time.monotonic()
    reached = False  # the host answered with the repository's head
    unread = ""  # why git could not read the repository: for maintainers and logs, never for the status page
    try:
        proof = proof_read(url, token=request.proof_token, timeout=budgets.check_timeout(interactive=interactive))
    except FetchRefused as error:  # a row from before the policy, or a name that now resolves inside
        unread = str(error)
        outcome = (Verification.State.PENDING, None, None, {})
    except GitError as error:
        # Missing, private, not git, a closed port or a silent one: one state and one schedule for all, so that
        # the status page cannot be used to tell them apart.
        unread = str(error)
        outcome = (Verification.State.UNREACHABLE, None, now + budgets.unreachable_backoff(verification.attempts), {})
    else:
        reached = True
        short = proof.commit[:12]
        if proof.holds_token:
            evidence = {
                "commit": proof.commit,
                "checked_at": now.isoformat(),
                "url": repository.canonical,
                "file": PROOF_FILE,
            }
            outcome = (Verification.State.VERIFIED, f"Proof found in commit {short}.", None, evidence)
        elif proof.too_large:
            outcome = (
                Verification.State.PENDING,
                f"{PROOF_FILE} in commit {short} is too large: it should hold only the token.",
                None,
                {},
            )
        elif proof.missing:
            outcome = (
                Verification.State.PENDING,
                f"No {PROOF_FILE} file on the default branch yet (commit {short}).",
                None,
                {},
            )
        else:
            outcome = (
                Verification.State.PENDING,
                f"{PROOF_FILE} in commit {short} does not hold this request's token.",
                None,
                {},
            )
    finally:
        budgets.host_slot_release(slot)
    state, result, next_check, evidence = outcome
    seconds = time.monotonic() - started
    if next_check is None and state != Verification.State.VERIFIED:
        next_check = now + timedelta(minutes=settings.OPTOUT_RECHECK_MINUTES)
    if unread:
        logger.info("proof check %s: %s could not be read: %s", verification_id, repository.canonical, unread)
        result = _unread_result(repository.canonical, next_check)

    with transaction.atomic():
        verification = Verification.objects.select_for_update().select_related("request").get(pk=verification_id)
        if verification.state not in Verification.WAITING_STATES:
            return verification  # another worker or a withdrawal got there first
        verification.state = state
        verification.result = result
        verification.detail = unread[:500]
        verification.attempts += 1
        verification.last_checked_at = now
        verification.last_check_seconds = seconds
        verification.next_check_at = next_check
        verification.check_queued_at = None
        verification.enqueue_failed_at = None
        if state == Verification.State.VERIFIED:
            verification.evidence = evidence
            verification.verified_at = now
        _unreachable_parked_or_freed(verification, reached=reached, now=now)
        verification.save()
        if state == Verification.State.VERIFIED:
            request_event_record(verification.request, "proof_verified", f"{verification.target}: {result}")
            _request_after_proof(verification.request, verification)
    if not budgets.inline():
        optout_request_verify(request_id=verification.request_id, new_round=False)  # this lane's next check
    return verification


def _verification_check_later(verification_id: int, *, interactive: bool, now) -> Verification:
    """The host is at its cap: back to the queue for a few seconds, still in flight, never waiting in a worker."""
    Verification.objects.filter(pk=verification_id, state__in=Verification.WAITING_STATES).update(
        check_queued_at=now, next_check_at=now + check_lease()
    )
    task_send(
        CHECK_TASK,
        verification_id,
        kwargs={"interactive": True} if interactive else None,
        countdown=budgets.busy_retry_seconds(interactive=interactive),
        waiting=Verification.objects.filter(pk=verification_id),
    )
    return Verification.objects.get(pk=verification_id)


def _unreachable_parked_or_freed(verification: Verification, *, reached: bool, now) -> None:
    """Keep at most OPTOUT_UNREACHABLE_RETRIED_PER_REQUEST unreachable repositories of a request on retry.

    One more unreachable repository is parked (no next check) with a reason the status page shows; a repository
    of the request read again (with its proof or without) sends the parked ones back to the checks.
    """
    others = Verification.objects.filter(request_id=verification.request_id).exclude(pk=verification.pk)
    if verification.state == Verification.State.UNREACHABLE:
        retried = others.filter(state=Verification.State.UNREACHABLE, next_check_at__isnull=False).count()
        if retried >= settings.OPTOUT_UNREACHABLE_RETRIED_PER_REQUEST:
            verification.next_check_at = None
            verification.result = (
                f"Not retried for now: {counted(retried, 'other repository')} of this request could not be reached "
                'either. Checks resume when one of them answers, or when you press "Verify now". Last try: '
                f"{verification.result}"
            )[: Verification._meta.get_field("result").max_length]
    elif reached:
        others.filter(state=Verification.State.UNREACHABLE, next_check_at__isnull=True).update(next_check_at=now)


def _request_after_proof(request: OptOutRequest, verification: Verification) -> None:
    request = OptOutRequest.objects.select_for_update().get(pk=request.pk)
    now = timezone.now()
    if request.may("proof_verified"):
        request.transition("proof_verified", verified_at=now)
    if settings.OPTOUT_AUTO_APPROVE and request.may("approve_automatically"):
        request.transition("approve_automatically", decided_at=now)
        exclusions_activate(request, request.verifications.filter(state=Verification.State.VERIFIED))
    elif request.may("review"):
        request.transition("review")
        request_event_record(request, "in_review", "Proof verified; a maintainer will review the request.")
    elif request.may("exclusion_extend"):
        exclusions_activate(request, [verification])  # approved before: later proofs take effect at once


def optout_request_verify(*, request_id: int, interactive: bool = False, new_round: bool = True) -> OptOutRequest:
    """Queue the request's due proof checks, one task each, within its budgets (optout/budgets.py).

    "Verify now" starts a round, a sweep too once the last one is OPTOUT_CHECK_ROUND_EVERY_SECONDS old (`new_round`);
    a recorded check continues it. At most
    OPTOUT_CHECKS_PER_REQUEST checks are in flight (with tasks run inline: every due one at once). An interactive
    round sends its checks to the "Verify now" queue, except those of hosts that timed out last time.
    """
    now = timezone.now()
    with transaction.atomic():
        # The request's row lock makes concurrent rounds and lanes count the checks in flight one at a time.
        request = (
            OptOutRequest.objects.select_for_update()
            .filter(pk=request_id, state__in=OptOutRequest.states_allowing("proofs_check"))
            .first()
        )
        if request is None:
            return OptOutRequest.objects.get(pk=request_id)
        if new_round and (interactive or budgets.round_due(request, now)):
            request.check_round_started_at = now
            request.save(update_fields=["check_round_started_at"])
        elif not budgets.round_left(request):
            return request  # the rest waits for the next round
        waiting = Verification.objects.filter(request_id=request_id, state__in=Verification.WAITING_STATES)
        leased = Q(check_queued_at__gt=now - check_lease())
        limit = None
        if not budgets.inline():
            in_flight = 0 if interactive else waiting.filter(leased).count()
            limit = max(0, settings.OPTOUT_CHECKS_PER_REQUEST - in_flight)
        order = ["next_check_at", "pk"]
        if interactive:  # hosts that answered (or were never asked) first
            order.insert(0, Case(When(budgets.timed_out_filter(), then=1), default=0))
        due = list(
            waiting.select_for_update(skip_locked=True)
            .filter(next_check_at__lte=now)
            .exclude(leased)
            .order_by(*order)
            .values_list("pk", "last_check_seconds")[:limit]
        )
        # A lease instead of a flag: if a message is lost, the sweep finds the check due again later.
        Verification.objects.filter(pk__in=[pk for pk, _ in due]).update(
            next_check_at=now + check_lease(), check_queued_at=now
        )
        for verification_id, seconds in due:
            task_send_on_commit(
                CHECK_TASK,
                verification_id,
                kwargs={"interactive": True} if interactive and not budgets.timed_out(seconds) else None,
                waiting=Verification.objects.filter(pk=verification_id),
            )
    return request


def verifications_due() -> list[int]:
    """Requests with a proof check due now (for the periodic sweep)."""
    waiting = Verification.objects.filter(state__in=Verification.WAITING_STATES)
    # Offline, a request with a proof on another host waits whole: its round would check every due proof.
    offline_waits = offline_unreadable(waiting, canonical="proof_repository__canonical").values("request_id")
    return list(
        waiting.filter(
            next_check_at__lte=timezone.now(),
            request__state__in=OptOutRequest.states_allowing("proofs_check"),
        )
        .exclude(request_id__in=offline_waits)
        .order_by()  # Verification's Meta.ordering would add its columns to the DISTINCT: one row per check
        .values_list("request_id", flat=True)
        .distinct()[:500]
    )
