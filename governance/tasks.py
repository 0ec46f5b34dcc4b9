"""Celery tasks: each takes a row id, reloads the row and calls one domain function."""

from celery import shared_task

from governance import services


@shared_task(name="governance.tasks.inventory_import_task")
def inventory_import_task(import_id: int) -> None:
    services.inventory_import_run(import_id=import_id)


@shared_task(name="governance.tasks.inventory_import_sweep")
def inventory_import_sweep() -> None:
    services.inventory_import_sweep()
