"""Opt-out requests from submission to exclusion: every state change is a domain function here."""

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.faults import fault_point
from governance.git import FetchRefused, GitError, proof_file_fetch
from governance.identity import RepositoryParseError
from governance.models import Dataset
from governance.queueing import task_send, task_send_on_commit
from governance.services import repository_from_ref
from optout import budgets, registry
from optout.mail import mail_send
from optout.models import OptOutRequest, RequestEvent, Verification
from optout.ratelimits import RateLimited, ip_hash, limit_check
from optout.targets import namespace_preview, repositories_preview

logger = logging.getLogger(__name__)
State = OptOutRequest.State
PROOF_FILE = ".dataset-opt-out"


def _check_lease() -> timedelta:
    """How long a sent check owns its verification before the sweep may send it again."""
    return timedelta(seconds=settings.OPTOUT_CHECK_LEASE_SECONDS)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _event(request: OptOutRequest, kind: str, message: str, *, actor=None, ip: str | None = None) -> RequestEvent:
    return RequestEvent.objects.create(request=request, kind=kind, message=message, actor=actor, ip_hash=ip_hash(ip))


def _status_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/opt-out/r/{token}/"


@dataclass
class Submission:
    request: OptOutRequest
    confirm_token: str


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise GovernanceError(f"{email[:80]!r} is not an e-mail address: we send the confirmation link there") from None
    return email


def _datasets_from_slugs(slugs: list[str] | None) -> list[Dataset]:
    if not slugs:
        return []
    datasets = list(Dataset.objects.filter(slug__in=slugs))
    unknown = set(slugs) - {dataset.slug for dataset in datasets}
    if unknown:
        raise GovernanceError(f"Unknown dataset {sorted(unknown)[0]!r}: choose from the list, or leave all selected")
    return datasets


def optout_request_submit(
    *,
    email: str,
    scope: str,
    repositories_text: str = "",
    namespace: str = "",
    proof_repository: str = "",
    dataset_slugs: list[str] | None = None,
    reason: str = "",
    ip: str | None = None,
) -> Submission:
    """File a request and mail its confirmation link; nothing else happens until the link is used."""
    email = _clean_email(email)
    if len(reason) > OptOutRequest.MAX_REASON_LENGTH:
        raise GovernanceError(f"The reason is {len(reason):,} characters long: keep it under 2,000")
    hashed_ip = ip_hash(ip)
    if hashed_ip:
        limit_check(
            timestamps=OptOutRequest.objects.filter(submitted_ip_hash=hashed_ip),
            limit=settings.OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR,
            window=timedelta(hours=1),
            what="requests from your network",
        )
    limit_check(
        timestamps=OptOutRequest.objects.filter(email__iexact=email),
        limit=settings.OPTOUT_SUBMISSIONS_PER_EMAIL_PER_DAY,
        window=timedelta(days=1),
        what="requests for this e-mail address",
    )
    datasets = _datasets_from_slugs(dataset_slugs)

    if scope == OptOutRequest.Scope.REPOSITORIES:
        preview = repositories_preview(repositories_text, limit=settings.OPTOUT_MAX_REPOSITORIES)
        if preview.problems:
            problem = preview.problems[0]
            if problem.refused:
                raise GovernanceError(f"Line {problem.line}: {problem.message}")
            raise GovernanceError(f"Line {problem.line} is not a repository: {problem.message}")
        if preview.too_many:
            raise GovernanceError(
                f"{len(preview.repositories):,} repositories: one request covers at most "
                f"{settings.OPTOUT_MAX_REPOSITORIES:,}; split the list, or opt out the whole namespace"
            )
        if not preview.repositories:
            raise GovernanceError("List at least one repository, one per line")
        targets = [(ref, None) for ref in preview.repositories]
        canonical_namespace = ""
    elif scope == OptOutRequest.Scope.NAMESPACE:
        try:
            canonical_namespace, proof_ref = namespace_preview(namespace, proof_repository)
        except RepositoryParseError as error:
            raise GovernanceError(str(error)) from None
        targets = [(proof_ref, canonical_namespace)]
    else:
        raise GovernanceError("Choose what to opt out: listed repositories, or everything under an owner")

    confirm_token = secrets.token_urlsafe(32)
    with transaction.atomic():
        request = OptOutRequest.objects.create(
            email=email,
            scope=scope,
            namespace=canonical_namespace,
            all_datasets=not datasets,
            reason=reason.strip(),
            proof_token=f"dataset-opt-out-{secrets.token_urlsafe(24)}",
            confirm_token_hash=_token_hash(confirm_token),
            confirm_expires_at=timezone.now() + timedelta(hours=settings.OPTOUT_CONFIRM_HOURS),
            submitted_ip_hash=hashed_ip,
        )
        request.datasets.set(datasets)
        for ref, target_namespace in targets:
            proof_repository_row = repository_from_ref(ref=ref)
            Verification.objects.create(
                request=request,
                repository=None if target_namespace else proof_repository_row,
                namespace=target_namespace or "",
                proof_repository=proof_repository_row,
                # What this owner pasted, not whichever clone URL the repository's row was first given.
                proof_url=ref.clone_url,
            )
        covered = (
            f"everything under {canonical_namespace}" if canonical_namespace else _count(len(targets), "repository")
        )
        _event(request, "submitted", f"Request filed for {covered}; confirmation e-mail sent.", ip=ip)
        transaction.on_commit(
            lambda: mail_send(
                template="confirm",
                to=email,
                context={
                    "confirm_url": f"{settings.PUBLIC_BASE_URL}/opt-out/confirm/{confirm_token}/",
                    "covered": covered,
                    "hours": settings.OPTOUT_CONFIRM_HOURS,
                },
            )
        )
    return Submission(request=request, confirm_token=confirm_token)


def _count(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number:,} {noun if number == 1 else plural}"


@dataclass
class Confirmation:
    request: OptOutRequest
    status_token: str


def optout_request_confirm(*, token: str, ip: str | None = None) -> Confirmation:
    """Use a confirmation link (once, before it expires): the request then waits for its proof."""
    now = timezone.now()
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().filter(confirm_token_hash=_token_hash(token or "")).first()
        if request is None or request.state != State.AWAITING_EMAIL:
            raise GovernanceError(
                "This confirmation link is not valid any more: it was already used, or it was mistyped. "
                "If you confirmed before, use the status link from the second e-mail."
            )
        if request.confirm_expires_at and request.confirm_expires_at < now:
            raise GovernanceError("This confirmation link has expired: please file the request again.")
        status_token = secrets.token_urlsafe(32)
        request.confirm_token_hash = None  # single use
        request.status_token_hash = _token_hash(status_token)
        request.confirmed_at = now
        request.proof_deadline = now + timedelta(days=settings.OPTOUT_PROOF_DAYS)
        request.state = State.AWAITING_PROOF
        request.save()
        request.verifications.update(next_check_at=now + timedelta(minutes=settings.OPTOUT_RECHECK_MINUTES))
        _event(request, "confirmed", "E-mail address confirmed; waiting for the proof file.", ip=ip)
        status_url = _status_url(status_token)
        email = request.email
        transaction.on_commit(
            lambda: mail_send(
                template="status_link",
                to=email,
                context={
                    "status_url": status_url,
                    "proof_token": request.proof_token,
                    "days": settings.OPTOUT_PROOF_DAYS,
                },
            )
        )
    return Confirmation(request=request, status_token=status_token)


def optout_request_by_status_token(*, token: str) -> OptOutRequest:
    """The request a private status link belongs to; raises when there is none."""
    request = OptOutRequest.objects.filter(status_token_hash=_token_hash(token or "")).first()
    if request is None:
        raise GovernanceError("No request has this status link. Check that the whole link was copied.")
    return request


def _check_request_allowed(request: OptOutRequest, *, ip: str | None, now) -> None:
    """The limits on checks asked from a status page: one per request per interval, and per network address."""
    interval = timedelta(seconds=settings.OPTOUT_VERIFY_INTERVAL_SECONDS)
    if request.last_check_requested_at and request.last_check_requested_at + interval > now:
        wait = request.last_check_requested_at + interval - now
        raise RateLimited(
            f"A check was asked for a moment ago. Please wait {int(wait.total_seconds()) + 1} seconds.",
            retry_after=wait,
        )
    hashed = ip_hash(ip)
    if hashed:
        limit_check(
            timestamps=RequestEvent.objects.filter(kind="verify_requested", ip_hash=hashed),
            limit=settings.OPTOUT_VERIFY_PER_IP_PER_HOUR,
            window=timedelta(hours=1),
            what="verification requests from your network",
        )


def optout_request_verify_now(*, request: OptOutRequest, ip: str | None = None) -> None:
    """The owner pressed "Verify now": queue a check of every waiting proof, within the limits."""
    from optout.tasks import optout_request_verify_task

    now = timezone.now()
    if request.state not in (State.AWAITING_PROOF, State.IN_REVIEW, State.ACTIVE, State.VERIFIED):
        raise GovernanceError(f"This request is {request.get_state_display().lower()}: there is nothing to verify.")
    if not request.verifications.filter(state__in=Verification.WAITING_STATES).exists():
        raise GovernanceError("Every repository of this request is already verified.")
    _check_request_allowed(request, ip=ip, now=now)
    with transaction.atomic():
        OptOutRequest.objects.filter(pk=request.pk).update(last_check_requested_at=now)
        request.verifications.filter(state__in=Verification.WAITING_STATES).update(next_check_at=now)
        _event(request, "verify_requested", "Verification asked from the status page.", ip=ip)
        waiting = Verification.objects.filter(request_id=request.pk, state__in=Verification.WAITING_STATES)
        # Interactive: its first checks go to a queue no background check can hold (optout/budgets.py).
        task_send_on_commit(optout_request_verify_task, request.pk, kwargs={"interactive": True}, waiting=waiting)


def _unread_result(canonical: str, next_check) -> str:
    """What the owner's status page says when git could not read the repository, whatever the cause.

    One wording for a missing path, a host that refused or never answered, a port that is not git, a refused
    address: anyone may file a request, so the page must not tell them which of these a host is.
    """
    return (
        f"{canonical} could not be read: it does not exist, is not public, or its host did not answer. "
        f"Next try: {next_check:%Y-%m-%d %H:%M} UTC."
    )


def _proof_matches(content: bytes, token: str) -> bool:
    # Constant time, so response timing cannot be used to guess a token byte by byte.
    return hmac.compare_digest(content.strip(), token.encode())


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
        next_check_at=now + _check_lease(), check_queued_at=now
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
        proof = proof_file_fetch(url, path=PROOF_FILE, timeout=budgets.check_timeout(interactive=interactive))
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
        if proof.content is not None and _proof_matches(proof.content, request.proof_token):
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
        elif proof.content is None:
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
            _event(verification.request, "proof_verified", f"{verification.target}: {result}")
            _request_after_proof(verification.request, verification)
    if not budgets.inline():
        optout_request_verify(request_id=verification.request_id, new_round=False)  # this lane's next check
    return verification


def _verification_check_later(verification_id: int, *, interactive: bool, now) -> Verification:
    """The host is at its cap: back to the queue for a few seconds, still in flight, never waiting in a worker."""
    from optout.tasks import verification_check_task

    Verification.objects.filter(pk=verification_id, state__in=Verification.WAITING_STATES).update(
        check_queued_at=now, next_check_at=now + _check_lease()
    )
    task_send(
        verification_check_task,
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
                f"Not retried for now: {_count(retried, 'other repository')} of this request could not be reached "
                'either. Checks resume when one of them answers, or when you press "Verify now". Last try: '
                f"{verification.result}"
            )[: Verification._meta.get_field("result").max_length]
    elif reached:
        others.filter(state=Verification.State.UNREACHABLE, next_check_at__isnull=True).update(next_check_at=now)


def _request_after_proof(request: OptOutRequest, verification: Verification) -> None:
    request = OptOutRequest.objects.select_for_update().get(pk=request.pk)
    now = timezone.now()
    if request.state == State.AWAITING_PROOF:
        request.state = State.VERIFIED
        request.verified_at = now
        request.save(update_fields=["state", "verified_at"])
    if request.state == State.VERIFIED:
        if settings.OPTOUT_AUTO_APPROVE:
            request.state = State.ACTIVE
            request.decided_at = now
            request.save(update_fields=["state", "decided_at"])
            _activate(request, request.verifications.filter(state=Verification.State.VERIFIED))
        else:
            request.state = State.IN_REVIEW
            request.save(update_fields=["state"])
            _event(request, "in_review", "Proof verified; a maintainer will review the request.")
    elif request.state in (State.ACTIVE, State.APPLIED):
        _activate(request, [verification])  # approved before: later proofs take effect at once


def _activate(request: OptOutRequest, verifications) -> None:
    for verification in verifications:
        registry.exclusion_add(
            request=request,
            repository=verification.repository,
            namespace=verification.namespace,
            reason="opt-out" if request.origin == OptOutRequest.Origin.OWNER else "administrative",
        )
        _event(request, "excluded", f"{verification.target} is now excluded.")


def optout_request_verify(*, request_id: int, interactive: bool = False, new_round: bool = True) -> OptOutRequest:
    """Queue the request's due proof checks, one task each, within its budgets (optout/budgets.py).

    "Verify now" starts a round, a sweep too once the last one is OPTOUT_CHECK_ROUND_EVERY_SECONDS old (`new_round`);
    a recorded check continues it. At most
    OPTOUT_CHECKS_PER_REQUEST checks are in flight (with tasks run inline: every due one at once). An interactive
    round sends its checks to the "Verify now" queue, except those of hosts that timed out last time.
    """
    from optout.tasks import verification_check_task

    now = timezone.now()
    with transaction.atomic():
        # The request's row lock makes concurrent rounds and lanes count the checks in flight one at a time.
        request = (
            OptOutRequest.objects.select_for_update()
            .filter(pk=request_id, state__in=[State.AWAITING_PROOF, State.VERIFIED, State.IN_REVIEW, State.ACTIVE])
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
        leased = Q(check_queued_at__gt=now - _check_lease())
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
            next_check_at=now + _check_lease(), check_queued_at=now
        )
        for verification_id, seconds in due:
            task_send_on_commit(
                verification_check_task,
                verification_id,
                kwargs={"interactive": True} if interactive and not budgets.timed_out(seconds) else None,
                waiting=Verification.objects.filter(pk=verification_id),
            )
    return request


def optout_request_approve(*, request_id: int, actor) -> OptOutRequest:
    """A maintainer lets a verified request take effect."""
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        if request.state != State.IN_REVIEW:
            raise GovernanceError(f"Request {request.pk} is {request.get_state_display().lower()}, not in review.")
        request.state = State.ACTIVE
        request.decided_at = timezone.now()
        request.save(update_fields=["state", "decided_at"])
        _event(request, "approved", "Approved by a maintainer.", actor=actor)
        _activate(request, request.verifications.filter(state=Verification.State.VERIFIED))
    return request


def optout_request_reject(*, request_id: int, actor, reason: str) -> OptOutRequest:
    """A maintainer refuses a request; the requester gets the reason by mail."""
    reason = reason.strip()
    if not reason:
        raise GovernanceError("Give the reason for the rejection: it is mailed to the requester.")
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        if request.state not in (State.IN_REVIEW, State.AWAITING_PROOF, State.VERIFIED):
            raise GovernanceError(
                f"Request {request.pk} is {request.get_state_display().lower()}: it cannot be rejected."
            )
        request.state = State.REJECTED
        request.decided_at = request.closed_at = timezone.now()
        request.save(update_fields=["state", "decided_at", "closed_at"])
        request.verifications.filter(state__in=Verification.WAITING_STATES).update(
            state=Verification.State.WITHDRAWN, next_check_at=None
        )
        _event(request, "rejected", f"Rejected by a maintainer: {reason[:900]}", actor=actor)
        email = request.email
        transaction.on_commit(lambda: mail_send(template="rejected", to=email, context={"reason": reason}))
    return request


def optout_request_withdraw(*, request: OptOutRequest, ip: str | None = None) -> OptOutRequest:
    """The requester takes the request back before a release applied it; its exclusions lose this source."""
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request.pk)
        if request.state == State.APPLIED:
            raise GovernanceError(
                "This exclusion is already applied in a published release: re-inclusion needs a fresh proof "
                '("Ask to re-include" on this page).'
            )
        if request.state in (State.WITHDRAWN, State.REJECTED, State.EXPIRED):
            raise GovernanceError(f"This request is already {request.get_state_display().lower()}.")
        request.state = State.WITHDRAWN
        request.closed_at = timezone.now()
        request.save(update_fields=["state", "closed_at"])
        request.verifications.filter(state__in=Verification.WAITING_STATES).update(
            state=Verification.State.WITHDRAWN, next_check_at=None
        )
        revoked = registry.exclusion_sources_revoke(request=request)
        message = "Withdrawn by the requester."
        if revoked:
            message += " Exclusions held only by this request are lifted."
        _event(request, "withdrawn", message, ip=ip)
    return request


def optout_requests_expire() -> int:
    """Close what ran out of time: unconfirmed links, and proofs missing after the deadline."""
    now = timezone.now()
    expired = 0
    for request_id in OptOutRequest.objects.filter(state=State.AWAITING_EMAIL, confirm_expires_at__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            request = OptOutRequest.objects.select_for_update().get(pk=request_id)
            if request.state != State.AWAITING_EMAIL:
                continue
            request.state, request.closed_at, request.confirm_token_hash = State.EXPIRED, now, None
            request.save(update_fields=["state", "closed_at", "confirm_token_hash"])
            # The address was never confirmed: no mail goes to it.
            _event(request, "expired", "The confirmation link was not used in time.")
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
            if request.state == State.AWAITING_PROOF:
                request.state, request.closed_at = State.EXPIRED, now
                request.save(update_fields=["state", "closed_at"])
                _event(request, "expired", f"No proof appeared within {settings.OPTOUT_PROOF_DAYS} days.")
                email = request.email
                transaction.on_commit(
                    lambda email=email, targets=targets: mail_send(
                        template="expired", to=email, context={"days": settings.OPTOUT_PROOF_DAYS, "targets": targets}
                    )
                )
                expired += 1
            else:
                _event(request, "proofs_expired", f"No proof appeared in time for: {', '.join(targets)[:800]}.")
    return expired


def verifications_due() -> list[int]:
    """Requests with a proof check due now (for the periodic sweep)."""
    return list(
        Verification.objects.filter(
            state__in=Verification.WAITING_STATES,
            next_check_at__lte=timezone.now(),
            request__state__in=[State.AWAITING_PROOF, State.VERIFIED, State.IN_REVIEW, State.ACTIVE],
        )
        .order_by()  # Verification's Meta.ordering would add its columns to the DISTINCT: one row per check
        .values_list("request_id", flat=True)
        .distinct()[:500]
    )


def exclusion_administrative(
    *, dataset_slug: str | None, targets: list[str], namespace: bool, reason: str, actor=None
) -> OptOutRequest:
    """An exclusion a maintainer decides (a legal takedown, say), recorded like any request."""
    from governance.identity import parse_namespace, parse_repository

    reason = reason.strip()
    if not reason:
        raise GovernanceError("Give the reason (kept private): it is recorded with the exclusion")
    try:
        refs = [parse_namespace(target) if namespace else parse_repository(target) for target in targets]
    except RepositoryParseError as error:
        raise GovernanceError(str(error)) from None
    datasets = _datasets_from_slugs([dataset_slug] if dataset_slug else None)
    now = timezone.now()
    with transaction.atomic():
        request = OptOutRequest.objects.create(
            origin=OptOutRequest.Origin.ADMINISTRATIVE,
            scope=OptOutRequest.Scope.NAMESPACE if namespace else OptOutRequest.Scope.REPOSITORIES,
            namespace=refs[0] if namespace and len(refs) == 1 else "",
            all_datasets=not datasets,
            reason=reason[: OptOutRequest.MAX_REASON_LENGTH],
            state=State.ACTIVE,
            proof_token=f"administrative-{secrets.token_urlsafe(24)}",
            confirmed_at=now,
            verified_at=now,
            decided_at=now,
        )
        request.datasets.set(datasets)
        _event(request, "administrative", "Administrative exclusion recorded.", actor=actor)
        for ref in refs:
            repository = None if namespace else repository_from_ref(ref=ref)
            verification = Verification.objects.create(
                request=request,
                repository=repository,
                namespace=ref if namespace else "",
                method=Verification.Method.ADMINISTRATIVE,
                state=Verification.State.VERIFIED,
                verified_at=now,
                result="Administrative decision.",
            )
            _activate(request, [verification])
    return request


def optout_request_reinclusion_start(*, request: OptOutRequest, ip: str | None = None) -> OptOutRequest:
    """After a release applied the exclusion, lifting it needs a fresh proof: issue its token."""
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request.pk)
        if request.state != State.APPLIED:
            raise GovernanceError("Re-inclusion is for applied requests; before that, withdraw the request instead.")
        if not request.reinclusion_token:
            request.reinclusion_token = f"dataset-opt-in-{secrets.token_urlsafe(24)}"
            request.reinclusion_requested_at = timezone.now()
            request.save(update_fields=["reinclusion_token", "reinclusion_requested_at"])
            _event(request, "reinclusion_asked", "Re-inclusion asked: waiting for the fresh proof.", ip=ip)
    return request


def optout_request_reinclusion_verify_now(*, request: OptOutRequest, ip: str | None = None) -> None:
    """Queue a check of the fresh proof, within the same limits as "Verify now"."""
    from optout.tasks import optout_request_reinclusion_task

    if request.state != State.APPLIED or not request.reinclusion_token:
        raise GovernanceError("Ask for re-inclusion first: the page then shows the token to commit.")
    now = timezone.now()
    _check_request_allowed(request, ip=ip, now=now)
    with transaction.atomic():
        OptOutRequest.objects.filter(pk=request.pk).update(last_check_requested_at=now)
        OptOutRequest.objects.filter(pk=request.pk).update(reinclusion_check_due_at=now + _check_lease())
        _event(request, "verify_requested", "Check of the re-inclusion proof asked from the status page.", ip=ip)
        task_send_on_commit(
            optout_request_reinclusion_task, request.pk, waiting=OptOutRequest.objects.filter(pk=request.pk)
        )


def reinclusion_checks_due() -> list[int]:
    """Applied requests whose re-inclusion check was asked for and never ended (for the periodic sweep).

    Leased again here, so a check whose message is still on its way is not sent twice in one lease.
    """
    now = timezone.now()
    due = Q(reinclusion_check_due_at__lte=now) | Q(enqueue_failed_at__isnull=False)
    with transaction.atomic():
        request_ids = list(
            OptOutRequest.objects.select_for_update(skip_locked=True)
            .filter(due, state=State.APPLIED, reinclusion_token__gt="", reinclusion_check_due_at__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        OptOutRequest.objects.filter(pk__in=request_ids).update(reinclusion_check_due_at=now + _check_lease())
    return request_ids


def optout_request_reinclusion_verify(*, request_id: int) -> OptOutRequest:
    """Lift an applied request's exclusions once every proof repository holds the re-inclusion token."""
    request = OptOutRequest.objects.get(pk=request_id)
    if request.state != State.APPLIED or not request.reinclusion_token:
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
            proof = proof_file_fetch(
                verification.proof_url or repository.clone_url,
                path=PROOF_FILE,
                timeout=settings.OPTOUT_GIT_TIMEOUT_SECONDS,
            )
        except GitError:
            missing.append(verification.target)
            continue
        if proof.content is not None and _proof_matches(proof.content, request.reinclusion_token):
            proven.append(f"{verification.target} (commit {proof.commit[:12]})")
        else:
            missing.append(verification.target)
    with transaction.atomic():
        # This check ended, whatever it found: the sweep has nothing more to send for it.
        OptOutRequest.objects.filter(pk=request_id).update(reinclusion_check_due_at=None, enqueue_failed_at=None)
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        if request.state != State.APPLIED:
            return request
        if missing:
            _event(request, "reinclusion_checked", f"Re-inclusion proof not found yet for: {', '.join(missing)[:800]}.")
            return request
        request.state, request.closed_at = State.WITHDRAWN, timezone.now()
        request.save(update_fields=["state", "closed_at"])
        registry.exclusion_sources_revoke(request=request)
        _event(request, "reincluded", f"Re-included after a fresh proof: {', '.join(proven)[:800]}.")
    return request


def optout_requests_applied(*, report) -> int:
    """A build applied a release: every active request whose exclusions that release carried is now applied."""
    from optout.models import ExclusionSource

    release = report.release
    carried = ExclusionSource.objects.filter(
        revoked_at__isnull=True,
        exclusion__revoked_at__isnull=True,
        exclusion__since__lte=release.frozen_at,
        request__state=State.ACTIVE,
    ).filter(Q(exclusion__dataset=release.dataset) | Q(exclusion__dataset__isnull=True))
    request_ids = list(carried.values_list("request_id", flat=True).distinct())
    message = (
        f"Applied: excluded from release {release.version} of {release.dataset.slug}, "
        f"applied by build {report.build_id} on {report.reported_at:%Y-%m-%d}."
    )
    for request in OptOutRequest.objects.filter(pk__in=request_ids, state=State.ACTIVE).select_for_update():
        request.state = State.APPLIED
        request.save(update_fields=["state"])
        _event(request, "applied", message)
    return len(request_ids)
