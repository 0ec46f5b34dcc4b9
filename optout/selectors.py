"""Reads on requests and the registry."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from governance.models import BuildReport, Dataset, Release
from optout.models import ImportedRecord, OptOutRequest, Verification


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


@dataclass
class StatusPage:
    request: OptOutRequest
    verifications: list[Verification]
    events: list
    datasets: list[Dataset]
    releases: list = None

    @property
    def reservation_snippets(self) -> tuple[ReservationSnippet, ...]:
        """Offered once a proof is verified: the owner has shown they can commit to the repository."""
        verified = (OptOutRequest.State.VERIFIED, OptOutRequest.State.IN_REVIEW, OptOutRequest.State.ACTIVE)
        return RESERVATION_SNIPPETS if self.request.state in (*verified, OptOutRequest.State.APPLIED) else ()

    @property
    def checking(self) -> bool:
        """A check asked for from the page in the last two minutes may still be running."""
        asked = self.request.last_check_requested_at
        return bool(self.waiting and asked and asked > timezone.now() - timedelta(minutes=2))

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
class ReleaseLine:
    dataset: Dataset
    version: int
    published_at: object
    builds: list  # BuildReport rows of this release or later ones


def request_releases(*, request: OptOutRequest) -> list[ReleaseLine]:
    """Per dataset, the first published release that carries this request's exclusions, and the builds since."""
    sources = request.exclusion_sources.filter(revoked_at__isnull=True, exclusion__revoked_at__isnull=True)
    since = sources.aggregate(first=Min("exclusion__since"))["first"]
    if since is None:
        return []
    datasets = Dataset.objects.all() if request.all_datasets else request.datasets.all()
    lines = []
    for dataset in datasets.order_by("slug"):
        first = Release.objects.filter(dataset=dataset, frozen_at__gte=since).order_by("version").first()
        if first is None:
            continue
        builds = list(
            BuildReport.objects.filter(dataset=dataset, release__version__gte=first.version)
            .select_related("release")
            .order_by("reported_at")[:20]
        )
        lines.append(ReleaseLine(dataset=dataset, version=first.version, published_at=first.created_at, builds=builds))
    return lines


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
        releases=request_releases(request=request),
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
