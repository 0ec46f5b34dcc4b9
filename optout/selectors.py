"""Reads on requests and the registry."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.db.models import Count, Min, Q
from django.utils import timezone

from governance.models import BuildReport, Dataset, Release
from governance.selectors import release_next_due, releases_carrying
from optout.models import ImportedRecord, OptOutRequest, Verification
from optout.services.proofs import check_ask_wait


@dataclass(frozen=True)
class ReservationSnippet:
    file: str  # where to commit it, from the repository's root
    content: str
    read_by: str  # who reads it


# What an owner can commit so that the reservation travels with the code to forks and mirrors, and crawlers
# other than this portal see it; each is a whole-repository reservation for the reservation check too.
RESERVATION_SNIPPETS = (
    ReservationSnippet(".gitattributes", "* ai-training=false\n", "tools that read git attributes"),
    ReservationSnippet("ai.txt", "User-Agent: *\nDisallow: /\n", "crawlers that follow ai.txt (robots.txt syntax)"),
    ReservationSnippet(
        ".well-known/tdmrep.json",
        '[{"location": "/", "tdm-reservation": 1}]\n',
        "text and data mining crawlers (W3C TDMRep)",
    ),
)


CHECK_FOLLOWED_FOR = timedelta(minutes=2)
EXCLUDED_STATES = (OptOutRequest.State.ACTIVE, OptOutRequest.State.APPLIED)


@dataclass
class StatusPage:
    request: OptOutRequest
    verifications: list[Verification]
    events: list
    datasets: list[Dataset]

    @cached_property
    def outlook(self) -> list["DatasetOutlook"]:
        """Read only when shown: the page's script polls for the rest, and this reads release files."""
        return request_outlook(request=self.request)

    @property
    def reservation_snippets(self) -> tuple[ReservationSnippet, ...]:
        """Offered once a proof is verified: the owner has shown they can commit to the repository."""
        verified = (OptOutRequest.State.VERIFIED, OptOutRequest.State.IN_REVIEW, OptOutRequest.State.ACTIVE)
        return RESERVATION_SNIPPETS if self.request.state in (*verified, OptOutRequest.State.APPLIED) else ()

    @property
    def checking(self) -> bool:
        """A check asked for from the page in the last two minutes has not read every waiting proof yet.

        Two minutes at most: a check held back by the budgets (optout/budgets.py) goes on without the page.
        """
        asked = self.request.last_check_requested_at
        if not asked or asked <= timezone.now() - CHECK_FOLLOWED_FOR:
            return False
        return any(
            verification.state in Verification.WAITING_STATES
            and (verification.last_checked_at is None or verification.last_checked_at < asked)
            for verification in self.verifications
        )

    @property
    def verify_wait_seconds(self) -> int:
        """Seconds before "Verify now" (and the re-inclusion check) may be pressed again; 0: now."""
        return math.ceil(check_ask_wait(self.request, now=timezone.now()).total_seconds())

    @property
    def targets_heading(self) -> str:
        """The repositories table's first column: they are "Excluded" only once the request is."""
        return "Excluded" if self.request.state in EXCLUDED_STATES else "Repository"

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything the page shows about the proofs changes."""
        parts = [self.request.state] + [
            f"{v.pk}:{v.public_state}:{v.last_checked_at.isoformat() if v.last_checked_at else ''}"
            for v in self.verifications
        ]
        return "|".join(parts)

    @property
    def waiting(self) -> int:
        """Repositories whose proof is still awaited."""
        return sum(1 for verification in self.verifications if verification.state in Verification.WAITING_STATES)


@dataclass
class DatasetOutlook:
    """For one dataset of an excluded request: its next release, the releases carrying the exclusion, the builds."""

    dataset: Dataset
    next_due: datetime | None  # None: published by its maintainers, on no schedule
    last_release: Release | None
    carrying: list[Release]  # newest first, at most RELEASES_SHOWN
    carrying_count: int
    first_carrying: Release | None
    builds: list[BuildReport]  # builds that applied one of the carrying releases, newest first

    @property
    def due_now(self) -> bool:
        return self.next_due is not None and self.next_due <= timezone.now()

    @property
    def carrying_earlier(self) -> int:
        """Carrying releases not listed."""
        return self.carrying_count - len(self.carrying)


RELEASES_SHOWN = 10
BUILDS_SHOWN = 10


def request_outlook(*, request: OptOutRequest) -> list[DatasetOutlook]:
    """Per dataset of an excluded request: when its next release is due, which releases and builds carry it."""
    if request.state not in EXCLUDED_STATES:
        return []
    datasets = Dataset.objects.all() if request.all_datasets else request.datasets.all()
    outlook = []
    for dataset in datasets.order_by("slug"):
        in_force = list(
            request.exclusion_sources.in_force(dataset).values_list(
                "exclusion__target", "exclusion__scope", "exclusion__since"
            )
        )
        targets = {(target, scope) for target, scope, _ in in_force}
        carrying = Release.objects.none()
        if targets:
            # A release carries the request once it lists all of it: from the last of its exclusions in force.
            since = max(since for _, _, since in in_force)
            carrying = releases_carrying(dataset=dataset, targets=targets, since=since)
        first = carrying.first()
        builds = []
        if first is not None:
            builds = list(
                BuildReport.objects.filter(dataset=dataset, release__version__gte=first.version)
                .select_related("release")
                .only("build_id", "reported_at", "release__version")
                .order_by("-reported_at")[:BUILDS_SHOWN]
            )
        outlook.append(
            DatasetOutlook(
                dataset=dataset,
                next_due=release_next_due(dataset=dataset),
                last_release=dataset.releases.defer("manifest").order_by("-version").first(),
                carrying=list(carrying.order_by("-version")[:RELEASES_SHOWN]),
                carrying_count=carrying.count(),
                first_carrying=first,
                builds=builds,
            )
        )
    return outlook


def request_status(*, request: OptOutRequest) -> StatusPage:
    """Everything a requester's private status page shows."""
    verifications = list(request.verifications.select_related("repository", "proof_repository"))
    events = list(request.events.only("kind", "message", "created_at"))
    datasets = list(Dataset.objects.all()) if request.all_datasets else list(request.datasets.all())
    return StatusPage(
        request=request,
        verifications=verifications,
        events=events,
        datasets=datasets,
    )


def imported_record_of(*, request: OptOutRequest) -> ImportedRecord | None:
    """The provenance of an imported request (its author included: for maintainers' pages only)."""
    return ImportedRecord.objects.filter(request=request).first()


def review_queue(*, state: str | None = None, older_than_days: int | None = None):
    """Requests for maintainers, oldest first, with their proof counts."""
    requests = (
        OptOutRequest.objects.annotate(
            targets=Count("verifications"),
            verified=Count("verifications", filter=Q(verifications__state=Verification.State.VERIFIED)),
            first_proof=Min("verifications__verified_at"),
        )
        .select_related("imported_record")
        .order_by("created_at")
    )
    requests = requests.filter(state=state) if state else requests.filter(state=OptOutRequest.State.IN_REVIEW)
    if older_than_days:
        requests = requests.filter(created_at__lte=timezone.now() - timedelta(days=older_than_days))
    return requests


def review_counts() -> dict[str, int]:
    return dict(OptOutRequest.objects.values_list("state").annotate(count=Count("id")).values_list("state", "count"))
