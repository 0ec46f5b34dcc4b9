"""Reads on requests and the registry."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from governance.models import Dataset
from optout.models import Exclusion, OptOutRequest, Verification


def _namespace_chain(namespace: str) -> list[str]:
    """`gitlab.com/a/b` → [`gitlab.com/a/b`, `gitlab.com/a`]: a namespace exclusion covers its subgroups."""
    host, _, path = namespace.partition("/")
    parts = path.split("/") if path else []
    return [f"{host}/{'/'.join(parts[:end])}" for end in range(len(parts), 0, -1)]


def exclusions_covering(*, canonical: str, namespace: str, dataset: Dataset | None = None):
    """Active exclusions that cover a repository (itself, or a namespace above it), for one dataset or any."""
    matches = Exclusion.objects.filter(revoked_at__isnull=True).filter(
        Q(repository__canonical=canonical) | Q(repository__isnull=True, namespace__in=_namespace_chain(namespace))
    )
    if dataset is not None:
        matches = matches.filter(Q(dataset=dataset) | Q(dataset__isnull=True))
    return matches.select_related("repository", "dataset").prefetch_related("sources")


def exclusions_of_namespace(*, namespace: str, dataset: Dataset | None = None):
    matches = Exclusion.objects.filter(revoked_at__isnull=True).filter(
        Q(repository__isnull=True, namespace__in=_namespace_chain(namespace)) | Q(repository__namespace=namespace)
    )
    if dataset is not None:
        matches = matches.filter(Q(dataset=dataset) | Q(dataset__isnull=True))
    return matches.select_related("repository", "dataset").prefetch_related("sources")


def exclusion_reasons(exclusions) -> list[str]:
    """Public reason codes only: never a requester's words."""
    return sorted(
        {source.reason for exclusion in exclusions for source in exclusion.sources.all() if source.revoked_at is None}
    )


@dataclass
class StatusPage:
    request: OptOutRequest
    verifications: list[Verification]
    events: list
    datasets: list[Dataset]

    @property
    def checking(self) -> bool:
        """A check asked for from the page in the last two minutes may still be running."""
        asked = self.request.last_check_requested_at
        return bool(self.waiting and asked and asked > timezone.now() - timedelta(minutes=2))

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything the page shows about the proofs changes."""
        parts = [self.request.state] + [
            f"{v.pk}:{v.state}:{v.last_checked_at.isoformat() if v.last_checked_at else ''}" for v in self.verifications
        ]
        return "|".join(parts)

    @property
    def waiting(self) -> int:
        """Repositories whose proof is still awaited."""
        return sum(1 for verification in self.verifications if verification.state in Verification.WAITING_STATES)


def request_status(*, request: OptOutRequest) -> StatusPage:
    """Everything a requester's private status page shows."""
    verifications = list(request.verifications.select_related("repository", "proof_repository"))
    events = list(request.events.only("kind", "message", "created_at"))
    datasets = list(Dataset.objects.all()) if request.all_datasets else list(request.datasets.all())
    return StatusPage(request=request, verifications=verifications, events=events, datasets=datasets)


def review_queue(*, state: str | None = None, older_than_days: int | None = None):
    """Requests for maintainers, oldest first, with their proof counts."""
    requests = OptOutRequest.objects.annotate(
        targets=Count("verifications"),
        verified=Count("verifications", filter=Q(verifications__state=Verification.State.VERIFIED)),
        first_proof=Min("verifications__verified_at"),
    ).order_by("created_at")
    requests = requests.filter(state=state) if state else requests.filter(state=OptOutRequest.State.IN_REVIEW)
    if older_than_days:
        requests = requests.filter(created_at__lte=timezone.now() - timedelta(days=older_than_days))
    return requests


def review_counts() -> dict[str, int]:
    return dict(OptOutRequest.objects.values_list("state").annotate(count=Count("id")).values_list("state", "count"))
