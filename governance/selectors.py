"""Reads on datasets, repositories and the inventory."""

from dataclasses import dataclass

from django.db.models import Count, Max

from governance.identity import RepositoryParseError, parse_namespace, parse_repository
from governance.models import Dataset, DatasetRepository, InventoryImport


def dataset_list_with_counts():
    """Datasets with the size of their inventory and the time of its last change."""
    return Dataset.objects.annotate(
        repositories=Count("inventory", distinct=True), last_change=Max("inventory__updated_at")
    ).order_by("slug")


@dataclass(frozen=True)
class InventoryMatch:
    dataset: Dataset
    repositories: list[str]  # canonical names found in this dataset (capped)
    total: int
    excluded: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class InventoryLookup:
    query: str
    kind: str  # "repository" or "namespace"
    canonical: str
    matches: list[InventoryMatch]


LOOKUP_LIMIT = 50


def inventory_lookup(*, text: str) -> InventoryLookup:
    """Which datasets hold a repository (or any repository under an owner); raises on unreadable input."""
    from optout.selectors import exclusion_reasons, exclusions_covering, exclusions_of_namespace

    text = text.strip()
    try:
        ref = parse_repository(text)
        kind, canonical = "repository", ref.canonical
        entries = DatasetRepository.objects.filter(repository__canonical=canonical)

        def exclusions(dataset):
            return exclusions_covering(canonical=canonical, namespace=ref.namespace, dataset=dataset)

    except RepositoryParseError as repository_error:
        try:
            canonical = parse_namespace(text)
        except RepositoryParseError:
            raise repository_error from None
        kind = "namespace"
        entries = DatasetRepository.objects.filter(repository__namespace=canonical)

        def exclusions(dataset):
            return exclusions_of_namespace(namespace=canonical, dataset=dataset).filter(repository__isnull=True)

    matches = []
    for dataset in Dataset.objects.order_by("slug"):
        in_dataset = entries.filter(dataset=dataset)
        names = list(
            in_dataset.order_by("repository__canonical").values_list("repository__canonical", flat=True)[:LOOKUP_LIMIT]
        )
        total = len(names) if len(names) < LOOKUP_LIMIT else in_dataset.count()
        in_force = list(exclusions(dataset))
        matches.append(
            InventoryMatch(
                dataset=dataset,
                repositories=names,
                total=total,
                excluded=bool(in_force),
                reasons=tuple(exclusion_reasons(in_force)),
            )
        )
    return InventoryLookup(query=text, kind=kind, canonical=canonical, matches=matches)


def inventory_import_recent(*, limit: int = 10):
    return InventoryImport.objects.select_related("dataset").order_by("-created_at")[:limit]
