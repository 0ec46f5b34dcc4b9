"""Writes on the exclusion registry. Rows are never deleted: revocation is a timestamp and an event."""

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Q
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


def exclusion_sources_revoke(*, request: OptOutRequest, targets: Iterable[str] | None = None) -> int:
    """Withdraw a request's sources (only those of `targets`, canonical names or namespaces, when given); an
    exclusion stays in force while another request still holds it."""
    now = timezone.now()
    with transaction.atomic():
        live = ExclusionSource.objects.select_for_update().filter(request=request, revoked_at__isnull=True)
        if targets is not None:
            live = live.filter(exclusion__target__in=list(targets))
        sources = list(live)
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


class Placement(NamedTuple):
    """One target a request puts in force: a repository (its id and canonical name) or a namespace."""

    request_id: int
    repository_id: int | None
    target: str  # the canonical name, or the namespace


def exclusions_add_many(*, placements: list[Placement], datasets: list[Dataset], reason: str) -> int:
    """What exclusion_add does, for many requests' targets at once (a whole registry imported): a few statements
    instead of a dozen per target. `datasets` empty: every dataset. Returns the sources added."""
    if not placements:
        return 0
    dataset_ids = [dataset.pk for dataset in datasets] or [None]
    now = timezone.now()
    wanted = {(placement.repository_id, placement.target) for placement in placements}
    with transaction.atomic():
        # ignore_conflicts: the rows that exist already (or that another writer adds meanwhile) stay as they are.
        Exclusion.objects.bulk_create(
            [
                Exclusion(
                    scope=Exclusion.Scope.REPOSITORY if repository_id else Exclusion.Scope.NAMESPACE,
                    repository_id=repository_id,
                    namespace="" if repository_id else target,
                    target=target,
                    dataset_id=dataset_id,
                    reasons=reason,
                    since=now,
                )
                for repository_id, target in wanted
                for dataset_id in dataset_ids
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        datasets_q = Q(dataset_id__in=[pk for pk in dataset_ids if pk]) if datasets else Q(dataset__isnull=True)
        # Locked in id order, as exclusion_sources_revoke locks them, so that a revocation never misses a source.
        rows = (
            Exclusion.objects.select_for_update()
            .filter(datasets_q, target__in={target for _, target in wanted})
            .order_by("pk")
            .values_list("pk", "repository_id", "target", "dataset_id", "revoked_at")
        )
        found, revoked = {}, set()
        for pk, repository_id, target, dataset_id, revoked_at in rows:
            if (repository_id, target) in wanted:
                found[repository_id, target, dataset_id] = pk
                if revoked_at is not None:
                    revoked.add(pk)
        sources = ExclusionSource.objects.bulk_create(
            [
                ExclusionSource(
                    exclusion_id=found[placement.repository_id, placement.target, dataset_id],
                    request_id=placement.request_id,
                    reason=reason,
                )
                for placement in placements
                for dataset_id in dataset_ids
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        _reasons_refresh_many(set(found.values()), revoked=revoked, now=now)
    return len(sources)


def _reasons_refresh_many(exclusion_ids: set[int], *, revoked: set[int], now) -> None:
    """_reasons_refresh for many locked exclusions that just gained a source; the revoked ones come back in force."""
    live = defaultdict(set)
    for exclusion_id, reason in (
        ExclusionSource.objects.filter(exclusion_id__in=exclusion_ids, revoked_at__isnull=True)
        .values_list("exclusion_id", "reason")
        .distinct()
    ):
        live[exclusion_id].add(reason)
    current = dict(Exclusion.objects.filter(pk__in=exclusion_ids).values_list("pk", "reasons"))
    changes = defaultdict(list)
    for exclusion_id in exclusion_ids:
        reasons = ",".join(sorted(live[exclusion_id]))
        if exclusion_id in revoked or reasons != current[exclusion_id]:
            changes[reasons, exclusion_id in revoked].append(exclusion_id)
    for (reasons, back_in_force), ids in changes.items():
        fields = {"reasons": reasons, **({"revoked_at": None, "since": now} if back_in_force else {})}
        Exclusion.objects.filter(pk__in=ids).update(**fields)
