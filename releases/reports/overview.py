"""The maintainers' overview: what waits in each queue, what happened lately, and whether the workers keep up."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from audits.models import DatasetDecision, Review, Scan
from audits.selectors import license_review_queue
from governance.celery import app
from governance.health import broker_queue_length
from governance.models import BlobListing, BuildReport, Dataset, InventoryImport, JobStatus, Release
from optout.models import Exclusion, OptOutRequest, RequestEvent, Verification
from optout.selectors import review_queue
from releases.models import WebhookDelivery

OLDEST_SHOWN = 5
ACTIVITY_SHOWN = 20
FAILED_WINDOW = timedelta(hours=24)
# Beat sweeps every 5 to 15 minutes: work untouched for this long is not being picked up.
STALLED_AFTER = timedelta(minutes=30)
_EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[^\s@<>\"']+")


@dataclass
class QueueItem:
    title: str
    detail: str
    since: datetime
    url: str


@dataclass
class Queue:
    key: str
    title: str
    count: int
    oldest: datetime | None
    items: list[QueueItem]
    url: str
    action: str


@dataclass
class NextStep:
    text: str
    url: str
    action: str
    since: datetime | None = None


@dataclass
class Activity:
    at: datetime
    kind: str
    text: str
    url: str = ""


@dataclass
class Job:
    kind: str
    label: str
    at: datetime | None
    detail: str
    url: str


@dataclass
class BrokerQueue:
    inline: bool
    length: int | None
    detail: str


@dataclass
class Publication:
    dataset: Dataset
    release: Release | None
    changed_since: bool


@dataclass
class Overview:
    queues: list[Queue]
    next_steps: list[NextStep]
    activity: list[Activity]
    broker: BrokerQueue
    failed: list[Job]
    stalled: list[Job]
    publications: list[Publication]
    generated_at: datetime = field(default_factory=timezone.now)


def review_overview() -> Overview:
    """Everything the overview page shows, read now."""
    now = timezone.now()
    queues = [_optout_queue(), _license_queue()]
    failed = _failed_jobs(now)
    stalled = _stalled_jobs(now)
    broker = broker_queue()
    publications = _publications()
    return Overview(
        queues=queues,
        next_steps=_next_steps(queues, failed, stalled, broker, publications),
        activity=_activity(failed),
        broker=broker,
        failed=failed,
        stalled=stalled,
        publications=publications,
        generated_at=now,
    )


def _optout_queue() -> Queue:

    # A request waits from the moment its proof was verified (it entered review then).
    waiting = (
        review_queue()
        .annotate(waiting_since=Coalesce(F("verified_at"), F("created_at")))
        .order_by("waiting_since", "pk")
    )
    items = []
    for request in waiting[:OLDEST_SHOWN]:
        covered = (
            f"everything under {request.namespace}"
            if request.scope == OptOutRequest.Scope.NAMESPACE
            else _plural(request.targets, "repository", "repositories")
        )
        items.append(
            QueueItem(
                title=f"Request #{request.pk}",
                detail=covered + (" (administrative)" if request.origin == OptOutRequest.Origin.ADMINISTRATIVE else ""),
                since=request.waiting_since,
                url=reverse("optout-review-request", args=[request.pk]),
            )
        )
    return Queue(
        key="optout",
        title="Opt-out requests in review",
        count=waiting.count(),
        oldest=items[0].since if items else None,
        items=items,
        url=reverse("optout-review-queue"),
        action="Review them",
    )


def _license_queue() -> Queue:
    queue = license_review_queue()
    items = [
        QueueItem(
            title=decision.repository.canonical,
            detail=f"in {decision.dataset.slug}",
            since=decision.verdict.created_at,
            url=reverse("audits-review-decision", args=[decision.pk]),
        )
        for decision in queue[:OLDEST_SHOWN]
    ]
    return Queue(
        key="licenses",
        title="License verdicts to review",
        count=queue.count(),
        oldest=items[0].since if items else None,
        items=items,
        url=reverse("audits-review-queue"),
        action="Review licenses",
    )


def _plural(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


def broker_queue() -> BrokerQueue:
    """Messages waiting in the Celery queues on the broker (each worker's), or that there is none (tasks run inline)."""
    if not settings.CELERY_BROKER_URL:
        return BrokerQueue(inline=True, length=None, detail="tasks run inline")

    queues = [app.conf.task_default_queue]
    queues += [settings.PROOF_CHECKS_QUEUE, settings.PROOF_CHECKS_NOW_QUEUE, settings.SCANS_QUEUE]
    try:
        lengths = {queue: broker_queue_length(queue) for queue in dict.fromkeys(queues)}
    except Exception as error:  # unreachable or refused: the page says so instead of failing
        return BrokerQueue(inline=False, length=None, detail=f"broker unreachable: {type(error).__name__}")
    detail = ", ".join(f"{queue!r} {length:,}" for queue, length in lengths.items())
    return BrokerQueue(inline=False, length=sum(lengths.values()), detail=f"queues {detail}")


def _failed_jobs(now: datetime) -> list[Job]:
    since = now - FAILED_WINDOW
    finished_since = Q(finished_at__gte=since) | Q(finished_at__isnull=True, created_at__gte=since)
    jobs = [
        Job(
            kind="scan",
            label=f"License scan of {scan.repository.canonical}",
            at=scan.finished_at or scan.created_at,
            detail=_first_line(scan.error),
            url=reverse("audits-scan-detail", args=[scan.pk]),
        )
        for scan in Scan.objects.filter(status=JobStatus.FAILED).filter(finished_since).select_related("repository")
    ]
    jobs += [
        Job(
            kind="import",
            label=f"Inventory import of {job.source_name} into {job.dataset.slug}",
            at=job.finished_at or job.created_at,
            detail=_first_line(job.error),
            url=reverse("admin:governance_inventoryimport_change", args=[job.pk]),
        )
        for job in InventoryImport.objects.filter(status=JobStatus.FAILED)
        .filter(finished_since)
        .select_related("dataset")
    ]
    jobs += [
        Job(
            kind="blob_listing",
            label=f"Blob listing of {listing.repository.canonical}",
            at=listing.updated_at,
            detail=_first_line(listing.error),
            url=reverse("admin:governance_repository_change", args=[listing.repository_id]),
        )
        for listing in BlobListing.objects.filter(status=JobStatus.FAILED, updated_at__gte=since).select_related(
            "repository"
        )
    ]
    jobs += [
        Job(
            kind="webhook_delivery",
            # The host only: a webhook URL may carry a credential in its path.
            label=f"Notification of {delivery.release} to {urlsplit(delivery.webhook.url).hostname}",
            at=delivery.finished_at,
            detail=_first_line(delivery.last_error),
            url=reverse("admin:releases_webhookdelivery_change", args=[delivery.pk]),
        )
        for delivery in WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.FAILED, finished_at__gte=since
        ).select_related("release__dataset", "webhook")
    ]
    return sorted(jobs, key=lambda job: job.at, reverse=True)


def _stalled_jobs(now: datetime) -> list[Job]:
    """Background rows queued or running with no sign of life for STALLED_AFTER, and proof checks overdue."""

    before = now - STALLED_AFTER
    open_states = [JobStatus.QUEUED, JobStatus.RUNNING]
    jobs = [
        Job(
            kind="scan",
            label=f"License scan of {scan.repository.canonical} ({scan.status})",
            at=scan.last_sign,
            detail=scan.step or "",
            url=reverse("audits-scan-detail", args=[scan.pk]),
        )
        for scan in Scan.objects.filter(status__in=open_states)
        .annotate(last_sign=Coalesce(F("heartbeat_at"), F("started_at"), F("created_at")))
        .filter(last_sign__lt=before)
        .select_related("repository")
    ]
    jobs += [
        Job(
            kind="import",
            label=f"Inventory import of {job.source_name} ({job.status})",
            at=job.last_sign,
            detail=f"{job.progress:.0%} read",
            url=reverse("admin:governance_inventoryimport_change", args=[job.pk]),
        )
        for job in InventoryImport.objects.filter(status__in=open_states)
        .annotate(last_sign=Coalesce(F("heartbeat_at"), F("started_at"), F("created_at")))
        .filter(last_sign__lt=before)
    ]
    overdue = Verification.objects.filter(
        state__in=Verification.WAITING_STATES,
        next_check_at__lt=before,
        request__state__in=[OptOutRequest.State.AWAITING_PROOF, OptOutRequest.State.ACTIVE],
    )
    oldest = overdue.order_by("next_check_at").values_list("next_check_at", flat=True).first()
    if oldest:
        jobs.append(
            Job(
                kind="proof_checks",
                label=f"{_plural(overdue.count(), 'proof check', 'proof checks')} overdue",
                at=oldest,
                detail="the periodic verification sweep has not run them",
                url=reverse("admin:optout_optoutrequest_changelist"),
            )
        )
    return sorted(jobs, key=lambda job: job.at)


def _publications() -> list[Publication]:
    """Per dataset, the latest release and whether the registry or a license decision changed since."""
    publications = []
    for dataset in Dataset.objects.order_by("slug"):
        release = dataset.releases.order_by("-version").first()
        exclusions = Exclusion.objects.for_dataset(dataset)
        decisions = DatasetDecision.objects.filter(dataset=dataset)
        if release is None:
            changed = (
                Exclusion.objects.in_force(dataset).exists() or DatasetDecision.objects.excluding(dataset).exists()
            )
        else:
            moment = release.frozen_at
            changed = (
                exclusions.filter(Q(since__gt=moment) | Q(revoked_at__gt=moment)).exists()
                or decisions.filter(since__gt=moment).exists()
            )
        publications.append(Publication(dataset=dataset, release=release, changed_since=changed))
    return publications


def _next_steps(queues, failed, stalled, broker, publications) -> list[NextStep]:
    steps = []
    for queue in queues:
        if queue.count:
            noun = {"optout": ("request waits", "requests wait"), "licenses": ("verdict waits", "verdicts wait")}
            one, many = noun[queue.key]
            steps.append(
                NextStep(
                    text=f"{queue.count:,} {one if queue.count == 1 else many} for review",
                    since=queue.oldest,
                    url=queue.url,
                    action=queue.action,
                )
            )
    if failed:
        text = f"{_plural(len(failed), 'background job', 'background jobs')} failed in the last day"
        steps.append(NextStep(text=text, url="#health", action="See what failed"))
    if stalled:
        text = f"{_plural(len(stalled), 'piece', 'pieces')} of background work made no progress for 30 minutes"
        if broker.inline:
            text += " (embedded mode runs no beat: periodic checks wait until one runs)"
        steps.append(NextStep(text=text, url="#health", action="Check the worker and beat"))
    if not broker.inline and broker.length is None:
        steps.append(NextStep(text=f"The broker does not answer ({broker.detail})", url="/healthz", action="Health"))
    for publication in publications:
        if publication.changed_since:
            slug = publication.dataset.slug
            text = (
                f"The exclusions of {slug} changed since release {publication.release.version}"
                if publication.release
                else f"{slug} has exclusions but no release yet"
            )
            steps.append(
                NextStep(
                    text=text,
                    url="#publications",
                    action=f"Publish: manage.py publish_release {slug}",
                )
            )
    return steps


def _activity(failed: list[Job]) -> list[Activity]:
    """The latest request events, reviews, releases, builds and failures, newest first (never an address)."""

    items = [
        Activity(
            at=event.created_at,
            kind=event.kind,
            text=f"Request #{event.request_id}: {without_addresses(event.message)}",
            url=reverse("optout-review-request", args=[event.request_id]),
        )
        for event in RequestEvent.objects.order_by("-created_at", "-pk")[:ACTIVITY_SHOWN]
    ]
    reviews = list(Review.objects.select_related("dataset", "repository", "reviewer").order_by("-created_at")[:10])
    decisions = {
        (repository_id, dataset_id): pk
        for pk, repository_id, dataset_id in DatasetDecision.objects.filter(
            repository_id__in=[review.repository_id for review in reviews]
        ).values_list("pk", "repository_id", "dataset_id")
    }
    for review in reviews:
        decision = decisions.get((review.repository_id, review.dataset_id))
        items.append(
            Activity(
                at=review.created_at,
                kind="license_review",
                text=f"{review.reviewer.get_username()} settled {review.repository.canonical} in "
                f"{review.dataset.slug}: {review.decision}",
                url=reverse("audits-review-decision", args=[decision]) if decision else "",
            )
        )
    for release in Release.objects.select_related("dataset").order_by("-created_at")[:10]:
        counts = release.counts
        items.append(
            Activity(
                at=release.created_at,
                kind="release",
                text=f"Release {release.version} of {release.dataset.slug} published: "
                f"{counts.get('repositories', 0):,} repositories, {counts.get('namespaces', 0):,} namespaces, "
                f"+{counts.get('added', 0):,} / −{counts.get('removed', 0):,}",
                url=reverse("admin:governance_release_change", args=[release.pk]),
            )
        )
    for report in BuildReport.objects.select_related("dataset", "release").order_by("-reported_at")[:10]:
        items.append(
            Activity(
                at=report.reported_at,
                kind="build",
                text=f"Build {report.build_id} applied release {report.release.version} of {report.dataset.slug}",
                url=reverse("admin:governance_buildreport_change", args=[report.pk]),
            )
        )
    items += [Activity(at=job.at, kind=f"{job.kind}_failed", text=f"{job.label} failed", url=job.url) for job in failed]
    return sorted(items, key=lambda item: item.at, reverse=True)[:ACTIVITY_SHOWN]


def without_addresses(text: str) -> str:
    """Event messages are written without addresses; this makes sure none reaches the page."""
    return _EMAIL.sub("[address]", text)


def _first_line(text: str) -> str:
    return next(iter((text or "").strip().splitlines()), "")[:300]
