"""Celery tasks: each takes a row id, reloads the row and calls one domain function."""

from celery import shared_task

from governance import services
from governance.queueing import task_send


@shared_task(name="governance.tasks.inventory_import_task")
def inventory_import_task(import_id: int) -> None:
    services.inventory_import_run(import_id=import_id)


@shared_task(name="governance.tasks.inventory_import_sweep")
def inventory_import_sweep() -> None:
    services.inventory_import_sweep()


@shared_task(name="governance.tasks.blob_listing_task")
def blob_listing_task(repository_id: int) -> None:
    from governance.blobs import blob_listing_run

    blob_listing_run(repository_id=repository_id)


@shared_task(name="governance.tasks.blob_listings_sweep")
def blob_listings_sweep() -> None:
    from governance.blobs import blob_listings_queue

    blob_listings_queue()


@shared_task(name="governance.tasks.releases_publish_due")
def releases_publish_due() -> None:
    from governance.publication import releases_due

    for slug in releases_due():
        task_send(release_publish_task, slug)


@shared_task(name="governance.tasks.release_publish_task")
def release_publish_task(dataset_slug: str) -> None:
    from governance.publication import release_publish

    release_publish(dataset_slug=dataset_slug)
