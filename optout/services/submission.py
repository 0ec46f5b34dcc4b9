"""The requester's side of a request: filing it, confirming the address, reading it back, withdrawing it."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.identity import RepositoryParseError
from governance.services import repository_from_ref
from optout import registry
from optout.mail import mail_send
from optout.models import REQUEST_TRANSITIONS, OptOutRequest, RequestStateError, Verification
from optout.ratelimits import ip_hash, limit_check
from optout.services.events import counted, request_event_record
from optout.services.exclusions import datasets_from_slugs
from optout.targets import namespace_preview, repositories_preview


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    datasets = datasets_from_slugs(dataset_slugs)

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
            f"everything under {canonical_namespace}" if canonical_namespace else counted(len(targets), "repository")
        )
        request_event_record(request, "submitted", f"Request filed for {covered}; confirmation e-mail sent.", ip=ip)
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


@dataclass
class Confirmation:
    request: OptOutRequest
    status_token: str


def optout_request_confirm(*, token: str, ip: str | None = None) -> Confirmation:
    """Use a confirmation link (once, before it expires): the request then waits for its proof."""
    now = timezone.now()
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().filter(confirm_token_hash=_token_hash(token or "")).first()
        if request is None:
            # An unknown link reads like a used one: the same refusal as confirming twice.
            raise RequestStateError(REQUEST_TRANSITIONS["confirm"].refusal)
        request.require("confirm")
        if request.confirm_expires_at and request.confirm_expires_at < now:
            raise GovernanceError("This confirmation link has expired: please file the request again.")
        status_token = secrets.token_urlsafe(32)
        request.transition(
            "confirm",
            confirm_token_hash=None,  # single use
            status_token_hash=_token_hash(status_token),
            confirmed_at=now,
            proof_deadline=now + timedelta(days=settings.OPTOUT_PROOF_DAYS),
        )
        request.verifications.update(next_check_at=now + timedelta(minutes=settings.OPTOUT_RECHECK_MINUTES))
        request_event_record(request, "confirmed", "E-mail address confirmed; waiting for the proof file.", ip=ip)
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


def optout_request_withdraw(*, request: OptOutRequest, ip: str | None = None) -> OptOutRequest:
    """The requester takes the request back before a release applied it; its exclusions lose this source."""
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request.pk)
        request.transition("withdraw", closed_at=timezone.now())
        request.verifications.filter(state__in=Verification.WAITING_STATES).update(
            state=Verification.State.WITHDRAWN, next_check_at=None
        )
        revoked = registry.exclusion_sources_revoke(request=request)
        message = "Withdrawn by the requester."
        if revoked:
            message += " Exclusions held only by this request are lifted."
        request_event_record(request, "withdrawn", message, ip=ip)
    return request
