"""The reservation check: machine-readable "do not train" reservations read from a repository become exclusions.

A reservation of the whole repository puts it in the registry through the repository's reservation request
(origin `reservation`, in force at once, every dataset), under the public reason `reservation:<kind>`; a
reservation of some paths keeps a ReservedFile for each file of the head it covers. Both are revoked, with an
event of that request, when a later check no longer finds them. A file that cannot be read as its format says
is only evidence, never an exclusion; a repository that cannot be read changes nothing.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.fetch_policy import offline_readable
from governance.git import GitError, remote_head, root_files_fetch, tree_blobs_list
from governance.models import DatasetRepository, Repository
from governance.queueing import task_send
from optout import registry
from optout.models import ExclusionSource, OptOutRequest, ReservationCheck, ReservedFile
from optout.reservations.formats import (
    MAX_FILE_BYTES,
    RESERVATION_FILES,
    RULES_VERSION,
    Malformed,
    Reservation,
    reservations_parse,
)
from optout.services.events import counted, request_event_record

logger = logging.getLogger(__name__)

MAX_EVENT_LENGTH = 1000


def reservation_check(*, repository_id: int) -> ReservationCheck:
    """Read the repository's reservation files at its head (unless the head is the one read last) and apply them."""
    repository = Repository.objects.get(pk=repository_id)
    try:
        with transaction.atomic():
            check, _ = ReservationCheck.objects.get_or_create(repository=repository)
    except IntegrityError:  # a check of the same repository made it meanwhile (sweep and blob listing)
        check = ReservationCheck.objects.get(repository=repository)
    timeout = settings.OPTOUT_GIT_TIMEOUT_SECONDS
    try:
        head = remote_head(repository.clone_url, timeout=timeout)
        if head == check.commit and check.evidence.get("rules") == RULES_VERSION:
            return _checked(check, error="")
        root = root_files_fetch(
            repository.clone_url, list(RESERVATION_FILES), max_bytes=MAX_FILE_BYTES, timeout=timeout
        )
        reservations, malformed = reservations_parse(root.contents)
        malformed += [
            Malformed(kind=RESERVATION_FILES[path], file=path, error=f"over {MAX_FILE_BYTES:,} bytes: not read")
            for path in sorted(root.too_large)
        ]
        covered = _files_covered(repository, root.commit, [each for each in reservations if each.paths])
    except GitError as error:
        # Nothing is revoked on a read that failed: what was found last stays in force until a read says otherwise.
        logger.info("reservation check of repository %s failed: %s", repository_id, error)
        return _checked(check, error=str(error))
    return _reservations_apply(
        check, commit=root.commit, reservations=reservations, malformed=malformed, covered=covered
    )


def _files_covered(repository: Repository, commit: str, path_reservations: list[Reservation]) -> dict[str, tuple]:
    """path → (blob id, reason) of every file of `commit` a path reservation covers (the first one that does)."""
    if not path_reservations:
        return {}
    tree = tree_blobs_list(repository.clone_url, ref=commit)
    covered = {}
    for blob in tree.blobs:
        reservation = next((each for each in path_reservations if each.covers(blob.path)), None)
        if reservation is not None:
            covered[blob.path] = (blob.blob_id, reservation.reason)
    return covered


def _checked(check: ReservationCheck, *, error: str) -> ReservationCheck:
    """Only the dates move (and the error, when the read failed)."""
    now = timezone.now()
    if error:
        check.error = error[:500]
        check.failures += 1
        check.next_check_at = now + timedelta(minutes=settings.OPTOUT_RESERVATIONS_RETRY_MINUTES)
    else:
        check.error = ""
        check.failures = 0
        check.next_check_at = now + timedelta(hours=settings.OPTOUT_RESERVATIONS_RECHECK_HOURS)
    check.checked_at = now
    check.save(update_fields=["error", "failures", "next_check_at", "checked_at"])
    return check


def _reservations_apply(
    check: ReservationCheck,
    *,
    commit: str,
    reservations: list[Reservation],
    malformed: list[Malformed],
    covered: dict[str, tuple],
) -> ReservationCheck:
    """In one transaction: the whole-repository exclusion, the reserved files and the evidence, as read at `commit`."""
    whole = [reservation for reservation in reservations if not reservation.paths]
    with transaction.atomic():
        check = ReservationCheck.objects.select_for_update().select_related("repository").get(pk=check.pk)
        request = check.request
        if request is None and (whole or covered):
            request = _reservation_request_create(check.repository)
            check.request = request
        if request is not None:
            _whole_apply(request, check.repository, whole, commit)
            _reserved_files_apply(request, check.repository, covered, commit)
        check.commit = commit
        check.read_at = timezone.now()
        check.evidence = {
            "commit": commit,
            "rules": RULES_VERSION,
            "reservations": [_reservation_evidence(reservation) for reservation in reservations],
            "malformed": [{"kind": each.kind, "file": each.file, "error": each.error} for each in malformed],
            "reserved_files": len(covered),
        }
        check.save(update_fields=["commit", "read_at", "evidence", "request"])
        return _checked(check, error="")


def _reservation_evidence(reservation: Reservation) -> dict:
    return {
        "kind": reservation.kind,
        "file": reservation.file,
        "line": reservation.line,
        "text": reservation.text,
        "paths": list(reservation.paths),
    }


def _reservation_request_create(repository: Repository) -> OptOutRequest:
    """The repository's reservation request: in force at once, for every dataset, made once and reused."""
    now = timezone.now()
    request = OptOutRequest.objects.create(
        origin=OptOutRequest.Origin.RESERVATION,
        scope=OptOutRequest.Scope.REPOSITORIES,
        all_datasets=True,
        state=OptOutRequest.State.ACTIVE,
        proof_token=f"reservation-{secrets.token_urlsafe(24)}",
        confirmed_at=now,
        verified_at=now,
        decided_at=now,
    )
    request_event_record(request, "reservation", f"Reservations found in {repository.canonical}.")
    return request


def _whole_apply(request: OptOutRequest, repository: Repository, whole: list[Reservation], commit: str) -> None:
    """The repository is excluded while a whole-repository reservation holds, under the first kind's reason.

    One request holds one source per exclusion, so the reason is that of the kind first in alphabetical
    order among the reservations found (`reservation:ai-txt` before `reservation:gitattributes`).
    """
    wanted = min(reservation.reason for reservation in whole) if whole else None
    live = ExclusionSource.objects.filter(request=request, revoked_at__isnull=True)
    held = live.values_list("reason", flat=True).first()
    if held == wanted:
        return
    if held is not None:
        registry.exclusion_sources_revoke(request=request)
        request_event_record(
            request,
            "reservation-revoked",
            _cut(f"At commit {commit[:12]} the reservation behind {held} is gone: that exclusion is revoked."),
        )
    if wanted is not None:
        registry.exclusion_add(request=request, repository=repository, reason=wanted)
        found = "; ".join(f"{each.file} line {each.line}: {each.text}" for each in whole)
        request_event_record(
            request,
            "reservation-excluded",
            _cut(f"At commit {commit[:12]} all of {repository.canonical} is reserved ({found}): excluded as {wanted}."),
        )


def _reserved_files_apply(
    request: OptOutRequest, repository: Repository, covered: dict[str, tuple], commit: str
) -> None:
    """Keep a ReservedFile in force for exactly the covered files of `commit` (a changed blob is a new row)."""
    now = timezone.now()
    held = {row.path: row for row in ReservedFile.objects.in_force().filter(request=request)}
    gone = [row.pk for path, row in held.items() if covered.get(path) != (row.blob_id, row.reason)]
    if gone:
        ReservedFile.objects.filter(pk__in=gone).update(revoked_at=now)
        request_event_record(
            request,
            "reservation-files-revoked",
            f"At commit {commit[:12]} {counted(len(gone), 'file')} of {repository.canonical} "
            "no longer reserved as they were: revoked.",
        )
    kept = {path for path, row in held.items() if row.pk not in gone}
    added = [
        ReservedFile(request=request, repository=repository, path=path, blob_id=blob_id, reason=reason, since=now)
        for path, (blob_id, reason) in sorted(covered.items())
        if path not in kept
    ]
    if added:
        ReservedFile.objects.bulk_create(added)
        reasons = ", ".join(sorted({row.reason for row in added}))
        request_event_record(
            request,
            "reservation-files",
            f"At commit {commit[:12]} {counted(len(added), 'file')} of {repository.canonical} reserved ({reasons}).",
        )


def _cut(message: str) -> str:
    return message if len(message) <= MAX_EVENT_LENGTH else message[: MAX_EVENT_LENGTH - 1] + "…"


def reservation_checks_due(*, limit: int) -> list[int]:
    """Repository ids whose reservation check is due, oldest check first (never checked before all); each one
    returned is claimed: its next check moves forward, so a message lost on the way comes back then."""
    now = timezone.now()
    never_checked = (
        offline_readable(Repository.objects.filter(pk__in=DatasetRepository.objects.values("repository_id")))
        .filter(reservation_check__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    ReservationCheck.objects.bulk_create(
        [ReservationCheck(repository_id=pk) for pk in never_checked], ignore_conflicts=True
    )
    due = Q(next_check_at__isnull=True) | Q(next_check_at__lte=now)
    candidates = (
        offline_readable(ReservationCheck.objects.filter(due), canonical="repository__canonical")
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", "repository_id")[:limit]
    )
    lease = now + timedelta(minutes=settings.OPTOUT_RESERVATIONS_RETRY_MINUTES)
    claimed = []
    for pk, repository_id in candidates:
        if ReservationCheck.objects.filter(due, pk=pk).update(next_check_at=lease) == 1:
            claimed.append(repository_id)
    return claimed


def reservations_sweep() -> int:
    """Send the due reservation checks (at most OPTOUT_RESERVATIONS_PER_SWEEP); return how many were sent."""
    sent = 0
    for repository_id in reservation_checks_due(limit=settings.OPTOUT_RESERVATIONS_PER_SWEEP):
        sent += task_send("optout.tasks.reservation_check_task", repository_id)
    return sent
