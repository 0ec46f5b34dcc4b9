"""Keeping verdicts current: cheap head checks over the inventory, then a bounded number of scans per run."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audits import scancode
from audits.models import RepositoryAudit, Scan
from audits.services import scan_request
from governance import fetch_policy, git
from governance.models import DatasetRepository, Repository

logger = logging.getLogger(__name__)


def rescans_due(*, limit: int | None = None) -> list[Repository]:
    """Inventory repositories whose verdict is missing, made by another scanner version, or behind its head.

    Oldest first: never scanned (oldest in the inventory first), then the oldest verdicts. Heads are
    checked with `git ls-remote` (no download) for the audits not checked in AUDITS_RESCAN_AFTER_HOURS.
    """
    limit = limit or settings.AUDITS_RESCANS_PER_RUN
    version = scancode.scanner_version()
    in_inventory = Repository.objects.filter(Exists(DatasetRepository.objects.filter(repository=OuterRef("pk"))))
    open_scan = Scan.objects.filter(repository=OuterRef("pk"), status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING])
    # A repository whose scan failed lately (unreachable, too big) waits before it is tried again, so it
    # cannot hold the front of the queue run after run.
    failed_lately = Scan.objects.filter(
        repository=OuterRef("pk"),
        status=Scan.Status.FAILED,
        finished_at__gte=timezone.now() - timedelta(hours=settings.AUDITS_RESCAN_AFTER_HOURS),
    )
    candidates = _fetchable(in_inventory.exclude(Exists(open_scan)).exclude(Exists(failed_lately)))

    due: list[Repository] = list(
        candidates.filter(Q(audit__isnull=True) | Q(audit__verdict__isnull=True)).order_by("pk")[:limit]
    )
    if len(due) < limit:
        due += list(
            candidates.filter(audit__verdict__isnull=False)
            .exclude(audit__verdict__scan__scanner_version=version)
            .order_by("audit__verdict__created_at")[: limit - len(due)]
        )
    if len(due) < limit:
        due += _heads_moved(candidates.filter(audit__verdict__scan__scanner_version=version), limit - len(due))
    return due


def _fetchable(repositories):
    """Leave out what the fetch policy refuses by its URL alone (kept from before the policy, or before the operator
    narrowed it), so such repositories are never fetched and never hold the front of the queue."""
    allowed = fetch_policy.allowed_words()
    refused = Q()
    if fetch_policy.ALLOW_LOCAL not in allowed:
        refused |= Q(clone_url__startswith="file:")
    if fetch_policy.ALLOW_HTTP not in allowed:
        refused |= Q(clone_url__startswith="http:")
    if fetch_policy.ALLOW_PRIVATE not in allowed:
        this_server = Q(host="localhost") | Q(host__endswith=".localhost")
        literal = Q(host__regex=r"^[0-9.]+$") | Q(host__startswith="[")
        refused |= (this_server | literal) & ~Q(host__in=fetch_policy.listed_hosts())
    repositories = fetch_policy.offline_readable(repositories)
    return repositories.exclude(refused) if refused else repositories


def _heads_moved(candidates, limit: int) -> list[Repository]:
    cutoff = timezone.now() - timedelta(hours=settings.AUDITS_RESCAN_AFTER_HOURS)
    moved = []
    to_check = (
        RepositoryAudit.objects.filter(repository__in=candidates)
        .filter(Q(head_checked_at__isnull=True) | Q(head_checked_at__lt=cutoff))
        .select_related("repository", "verdict")
        .order_by(F("head_checked_at").asc(nulls_first=True))[: settings.AUDITS_HEAD_CHECKS_PER_RUN]
    )
    for audit in to_check:
        try:
            head = git.remote_head(audit.repository.clone_url)
        except git.GitError as failure:
            RepositoryAudit.objects.filter(pk=audit.pk).update(
                head_checked_at=timezone.now(), head_error=str(failure)[:500]
            )
            continue
        RepositoryAudit.objects.filter(pk=audit.pk).update(
            head_commit=head, head_checked_at=timezone.now(), head_error=""
        )
        if head != audit.verdict.commit:
            moved.append(audit.repository)
            if len(moved) >= limit:
                break
    return moved


def rescans_queue() -> list[int]:
    """Queue the scans that are due (never two of one repository: a scan already open is left alone)."""
    scans = [scan_request(repository=repository, requested_by="beat").pk for repository in rescans_due()]
    if scans:
        logger.info("queued %d license scans", len(scans))
    return scans


def scans_stuck_in_queue(*, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Queued scans no worker took: their message was lost."""
    cutoff = timezone.now() - older_than
    return list(Scan.objects.filter(status=Scan.Status.QUEUED, created_at__lt=cutoff).values_list("pk", flat=True))
