"""Writes on the exclusion registry. Rows are never deleted: revocation is a timestamp and an event."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.models import Dataset, Repository
from optout.models import Exclusion, ExclusionSource, OptOutRequest


def _exclusion_for(*, repository: Repository | None, namespace: str, dataset: Dataset | None, reason: str) -> Exclusion:
    lookup = (
        {"repository": repository, "dataset": dataset}
        if repository
        else {
            "repository": None,
            "namespace": namespace,
            "dataset": dataset,
        }
    )
    scope = Exclusion.Scope.REPOSITORY if repository else Exclusion.Scope.NAMESPACE
    try:
        with transaction.atomic():
            exclusion, _ = Exclusion.objects.select_for_update().get_or_create(
                **lookup,
                defaults={
                    "scope": scope,
                    "namespace": "" if repository else namespace,
                    "target": repository.canonical if repository else namespace,
                    "reasons": reason,
                    "since": timezone.now(),
                },
            )
    except IntegrityError:
        # Another worker created it between our read and our insert: it exists now.
        exclusion = Exclusion.objects.select_for_update().get(**lookup)
    return exclusion


def exclusion_add(
    *, request: OptOutRequest, repository: Repository | None = None, namespace: str = "", reason: str = "opt-out"
) -> list[Exclusion]:
    """Put a repository or namespace in force for the request's datasets; one source per request."""
    datasets = [None] if request.all_datasets else list(request.datasets.all())
    exclusions = []
    with transaction.atomic():
        for dataset in datasets:
            exclusion = _exclusion_for(repository=repository, namespace=namespace, dataset=dataset, reason=reason)
            if exclusion.revoked_at is not None:
                exclusion.revoked_at = None
                exclusion.since = timezone.now()
                exclusion.reasons = reason
                exclusion.save(update_fields=["revoked_at", "since", "reasons"])
            if not exclusion.sources.filter(request=request, revoked_at__isnull=True).exists():
                ExclusionSource.objects.create(exclusion=exclusion, request=request, reason=reason)
            _reasons_refresh(exclusion)
            exclusions.append(exclusion)
    return exclusions


def exclusion_sources_revoke(*, request: OptOutRequest) -> int:
    """Withdraw a request's sources; an exclusion stays in force while another request still holds it."""
    now = timezone.now()
    with transaction.atomic():
        sources = list(ExclusionSource.objects.select_for_update().filter(request=request, revoked_at__isnull=True))
        ExclusionSource.objects.filter(pk__in=[source.pk for source in sources]).update(revoked_at=now)
        # Each exclusion locked (in id order) before its sources are counted: exclusion_add holds the same lock
        # while it adds one, so a source added meanwhile is never missed.
        for exclusion in (
            Exclusion.objects.select_for_update()
            .filter(pk__in={source.exclusion_id for source in sources}, revoked_at__isnull=True)
            .order_by("pk")
        ):
            if not _reasons_refresh(exclusion):
                Exclusion.objects.filter(pk=exclusion.pk).update(revoked_at=now)
    return len(sources)


def _reasons_refresh(exclusion: Exclusion) -> str:
    """Write down the public reasons of an exclusion's live sources (its row is locked); empty when none is left."""
    live = exclusion.sources.filter(revoked_at__isnull=True).values_list("reason", flat=True)
    reasons = ",".join(sorted(set(live)))
    if reasons and reasons != exclusion.reasons:
        exclusion.reasons = reasons
        Exclusion.objects.filter(pk=exclusion.pk).update(reasons=reasons)
    return reasons
