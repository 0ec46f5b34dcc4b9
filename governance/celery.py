"""The Celery app. Tasks carry only a row id; the database is the source of truth."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Proof checks and scans go to queues of their own (names in settings), each served by its own worker command
# (Procfile, docker-compose.yml): a visitor's slow hosts or a deep scan then hold only their own workers.
PROOF_TASKS = frozenset(
    {
        "optout.tasks.optout_request_verify_task",
        "optout.tasks.verification_check_task",
        "optout.tasks.optout_request_reinclusion_task",
    }
)
# Scans, and the other work that fetches whole repositories (blob listings), so long fetches wait among themselves.
SCAN_TASKS = frozenset(
    {
        "audits.tasks.scan_task",
        "audits.tasks.scan_chunk_task",
        "audits.tasks.rescans_sweep",
        "governance.tasks.blob_listing_task",
        "governance.tasks.blob_listings_sweep",
    }
)


def task_queue(name, args, kwargs, options, task=None, **rest):
    """The one routing rule: which queue a task goes to (None: the default queue, for everything else)."""
    from django.conf import settings

    if name in PROOF_TASKS:
        # "Verify now" marks its checks interactive: they have a queue (and worker) no background check can hold.
        interactive = bool((kwargs or {}).get("interactive"))
        return {"queue": settings.PROOF_CHECKS_NOW_QUEUE if interactive else settings.PROOF_CHECKS_QUEUE}
    if name in SCAN_TASKS:
        return {"queue": settings.SCANS_QUEUE}
    return None


app.conf.task_routes = (task_queue,)

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
def _scancode_index_preload(sender=None, **kwargs) -> None:
    """Load scancode's license index in the worker's parent, before the pool forks, so its children share it."""
    import django
    from django.conf import settings

    django.setup()
    # Only a worker that runs scans needs the index (-Q without the scans queue: proof checks, the default queue).
    consumed = sender.app.amqp.queues.consume_from if sender is not None else {}
    if settings.AUDITS_PRELOAD_INDEX and settings.SCANS_QUEUE in consumed:
        from audits.scancode import index_load

        index_load()
