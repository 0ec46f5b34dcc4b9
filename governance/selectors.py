"""Reads on datasets, repositories, the inventory and the releases."""

from datetime import datetime, timedelta

from django.db.models import Count, Max

from exclusions.release_files import REPOSITORIES_PARQUET, repositories_lookup
from governance.models import Dataset, InventoryImport, Release

# How many releases after an exclusion came into force are read to find the first one listing it. The first
# normally does; a later one only when the exclusion's write committed after that release was frozen.
FIRST_CARRIER_LOOKS = 5


def dataset_list_with_counts():
    """Datasets with the size of their inventory and the time of its last change."""
    return Dataset.objects.annotate(
        repositories=Count("inventory", distinct=True), last_change=Max("inventory__updated_at")
    ).order_by("slug")


def inventory_import_recent(*, limit: int = 10):
    return InventoryImport.objects.select_related("dataset").order_by("-created_at")[:limit]


def release_next_due(*, dataset: Dataset) -> datetime | None:
    """When the dataset's publication schedule makes its next release due; None when only maintainers publish.

    The periodic run (governance/celery.py, hourly) publishes every dataset whose time has come.
    """
    if not dataset.publish_every_hours:
        return None
    last = dataset.releases.order_by("-version").first()
    if last is None:
        return dataset.created_at  # never published: due since it exists
    return last.created_at + timedelta(hours=dataset.publish_every_hours)


def releases_carrying(*, dataset: Dataset, targets: set[tuple[str, str]], since: datetime):
    """The dataset's releases whose published repositories list holds every (target, scope), oldest first.

    `targets` must have been in force without a break since `since`: then, release files never changing, every
    release after the first one that lists them lists them too. Which release is the first only its file says
    exactly (a release frozen just after `since` may have read the registry before that write committed).
    """
    candidates = dataset.releases.filter(frozen_at__gte=since).order_by("version").defer("manifest")
    names = {target for target, _ in targets}
    for release in candidates[:FIRST_CARRIER_LOOKS]:
        path = release.folder / REPOSITORIES_PARQUET
        if path.exists() and targets <= repositories_lookup(path, names).keys():
            return candidates.filter(version__gte=release.version)
    return Release.objects.none()
