"""Reads on datasets, repositories and the inventory."""

from django.db.models import Count, Max

from governance.models import Dataset, InventoryImport


def dataset_list_with_counts():
    """Datasets with the size of their inventory and the time of its last change."""
    return Dataset.objects.annotate(
        repositories=Count("inventory", distinct=True), last_change=Max("inventory__updated_at")
    ).order_by("slug")


def inventory_import_recent(*, limit: int = 10):
    return InventoryImport.objects.select_related("dataset").order_by("-created_at")[:limit]
