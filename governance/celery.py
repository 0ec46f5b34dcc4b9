"""The Celery app. Tasks carry only a row id; the database is the source of truth."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The schedule lives in code: Celery's own beat, no database scheduler to migrate.
app.conf.beat_schedule = {
    "inventory-import-sweep": {
        "task": "governance.tasks.inventory_import_sweep",
        "schedule": crontab(minute="*/5"),
    },
    "releases-publish-due": {
        "task": "governance.tasks.releases_publish_due",
        "schedule": crontab(minute=7),
    },
    "blob-listings-sweep": {
        "task": "governance.tasks.blob_listings_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "audits-rescans-sweep": {
        "task": "audits.tasks.rescans_sweep",
        "schedule": crontab(minute="*/15"),
    },
    "optout-verification-sweep": {
        "task": "optout.tasks.verification_sweep",
        "schedule": crontab(minute="*/5"),
    },
}


@worker_init.connect
def _scancode_index_preload(**kwargs) -> None:
    """Load scancode's license index in the worker's parent, before the pool forks, so its children share it."""
    import django
    from django.conf import settings

    django.setup()
    if settings.AUDITS_PRELOAD_INDEX:
        from audits.scancode import index_load

        index_load()
