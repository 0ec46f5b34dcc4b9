"""Celery tasks of publication, release notifications and blob listings. The older ones keep the `governance.tasks.`
prefix they were published under (routing, beat and queued messages use the names), though the code lives here now."""

from celery import shared_task

from governance.queueing import task_send
from releases.blobs import blob_listing_run, blob_listings_queue
from releases.notifications import webhook_deliveries_sweep, webhook_delivery_attempt
from releases.publication import release_publish, releases_due


@shared_task(name="governance.tasks.blob_listing_task")
def blob_listing_task(repository_id: int) -> None:
    blob_listing_run(repository_id=repository_id)


@shared_task(name="governance.tasks.blob_listings_sweep")
def blob_listings_sweep() -> None:
    blob_listings_queue()


@shared_task(name="governance.tasks.releases_publish_due")
def releases_publish_due() -> None:
    for slug in releases_due():
        task_send(release_publish_task, slug)


@shared_task(name="governance.tasks.release_publish_task")
def release_publish_task(dataset_slug: str) -> None:
    release_publish(dataset_slug=dataset_slug)


@shared_task(name="releases.tasks.webhook_delivery_task")
def webhook_delivery_task(delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="releases.tasks.webhook_deliveries_sweep")
def webhook_deliveries_sweep_task() -> None:
    webhook_deliveries_sweep()
