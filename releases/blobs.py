"""Blob lists of excluded repositories, so copies of their files in forks can be dropped by blob id.

Only the trees are fetched (no file content). Left out, because they are not the owner's to
withdraw: the empty blob, license texts (LICENSE*, COPYING*, NOTICE* …, the same text sits in
millions of repositories), and at publication every blob that an inventory repository which did
not opt out also holds.
"""

import re
from pathlib import PurePosixPath

from django.db import transaction

from governance.fetch_policy import offline_readable
from governance.git import GitError, tree_blobs_list
from governance.models import BlobListing, Dataset, Repository, RepositoryBlob
from governance.queueing import task_send_on_commit
from releases.exclusions import excluded_repository_ids

EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
_LICENSE_NAME = re.compile(r"^(licen[cs]e|copying|notice|unlicense|copyright|patents)([-._].*)?$", re.I)
_WRITE_CHUNK = 10_000


def _is_owner_blob(path: str, blob_id: str) -> bool:
    return blob_id != EMPTY_BLOB and not _LICENSE_NAME.match(PurePosixPath(path).name)


def blob_listing_run(*, repository_id: int) -> BlobListing:
    """List a repository's blobs with git (trees only) and store the ones that are the owner's."""
    listing, _ = BlobListing.objects.get_or_create(repository_id=repository_id)
    claimed = (
        BlobListing.objects.filter(pk=listing.pk)
        .exclude(status=BlobListing.Status.RUNNING)
        .update(status=BlobListing.Status.RUNNING)
    )
    if claimed != 1:
        return listing  # another worker is listing it
    repository = Repository.objects.get(pk=repository_id)
    try:
        tree = tree_blobs_list(repository.clone_url)
    except GitError as error:
        BlobListing.objects.filter(pk=listing.pk).update(status=BlobListing.Status.FAILED, error=str(error)[:500])
        listing.refresh_from_db()
        _reservation_check_send(repository_id)
        return listing
    kept = {blob.blob_id: blob.size for blob in tree.blobs if _is_owner_blob(blob.path, blob.blob_id)}
    with transaction.atomic():
        RepositoryBlob.objects.filter(repository_id=repository_id).delete()
        rows = [
            RepositoryBlob(repository_id=repository_id, blob_id=blob_id, size=size) for blob_id, size in kept.items()
        ]
        for start in range(0, len(rows), _WRITE_CHUNK):
            RepositoryBlob.objects.bulk_create(rows[start : start + _WRITE_CHUNK])
        BlobListing.objects.filter(pk=listing.pk).update(
            status=BlobListing.Status.DONE,
            commit=tree.commit,
            blobs=len(kept),
            skipped=len(tree.blobs) - len(kept),
            error="",
        )
    listing.refresh_from_db()
    _reservation_check_send(repository_id)
    return listing


def _reservation_check_send(repository_id: int) -> None:
    """A listed repository's reservations are read too, failed listing or not: a failed check records its error
    and is retried by the reservation sweep, which otherwise covers only inventory repositories."""
    task_send_on_commit("optout.tasks.reservation_check_task", repository_id)


def _missing(dataset):
    return (
        Repository.objects.filter(pk__in=excluded_repository_ids(dataset))
        .exclude(blob_listing__status__in=[BlobListing.Status.DONE, BlobListing.Status.RUNNING])
        .values_list("pk", flat=True)
    )


def blob_listings_run_missing(*, dataset_slug: str, on_disk_only: bool = False) -> int:
    """List, now and here, the excluded repositories of a dataset that have no listing yet.

    `on_disk_only` lists only file:// repositories: the demo's other rows name repositories that exist nowhere,
    and it never reaches the network.
    """
    dataset = Dataset.objects.filter(slug=dataset_slug).first()
    missing = _missing(dataset) if dataset else Repository.objects.none()
    if on_disk_only:
        missing = missing.filter(clone_url__startswith="file://")
    missing = list(missing)
    for repository_id in missing:
        blob_listing_run(repository_id=repository_id)
    return len(missing)


def blob_listings_queue() -> int:
    """Queue listings for excluded repositories that have none yet (or whose last one failed)."""
    queued = 0
    for dataset in Dataset.objects.all():
        for repository_id in offline_readable(_missing(dataset))[:1000]:
            task_send_on_commit("governance.tasks.blob_listing_task", repository_id)
            queued += 1
    return queued
