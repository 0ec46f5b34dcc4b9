"""The Celery app. Tasks carry only a row id; the database is the source of truth."""

import os
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init

from governance.scratch import scratch_claim, scratch_sweep, sigterm_exits

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
# Scans, and the other work that fetches repositories (blob listings, reservation checks), so long fetches wait
# among themselves.
SCAN_TASKS = frozenset(
    {
        "audits.tasks.scan_task",
        "audits.tasks.scan_chunk_task",
        "audits.tasks.scan_finish_task",
        "audits.tasks.rescans_sweep",
        "governance.tasks.blob_listing_task",
        "governance.tasks.blob_listings_sweep",
        "optout.tasks.reservation_check_task",
        "optout.tasks.reservations_sweep",
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


def _every(setting: str) -> timedelta:
    from django.conf import settings

    return timedelta(seconds=getattr(settings, setting))


# The schedule lives in code: Celery's own beat, no database scheduler to migrate. Sweeps run on short
# intervals, not crontab slots: beat advances an entry before sending it and drops a tick it cannot send
# (broker down), so an interval entry runs again one interval after the broker is back, where a crontab
# entry would wait for its next slot. A sweep left in the queue past its interval is dropped (`expires`):
# the next one does the same work, so a worker coming back after an outage does not run a backlog of them.
app.conf.beat_schedule = {
    "inventory-import-sweep": {
        "task": "governance.tasks.inventory_import_sweep",
        "schedule": _every("INVENTORY_SWEEP_SECONDS"),
        "options": {"expires": _every("INVENTORY_SWEEP_SECONDS").total_seconds()},
    },
    "releases-publish-due": {
        "task": "governance.tasks.releases_publish_due",
        "schedule": crontab(minute=7),
    },
    "releases-webhook-deliveries-sweep": {
        "task": "releases.tasks.webhook_deliveries_sweep",
        "schedule": _every("WEBHOOK_SWEEP_SECONDS"),
        "options": {"expires": _every("WEBHOOK_SWEEP_SECONDS").total_seconds()},
    },
    "blob-listings-sweep": {
        "task": "governance.tasks.blob_listings_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "audits-rescans-sweep": {
        "task": "audits.tasks.rescans_sweep",
        "schedule": _every("AUDITS_RESCANS_SECONDS"),
        "options": {"expires": _every("AUDITS_RESCANS_SECONDS").total_seconds()},
    },
    "audits-scans-sweep": {
        "task": "audits.tasks.scans_sweep",
        "schedule": _every("AUDITS_SWEEP_SECONDS"),
        "options": {"expires": _every("AUDITS_SWEEP_SECONDS").total_seconds()},
    },
    "optout-reservations-sweep": {
        "task": "optout.tasks.reservations_sweep",
        "schedule": _every("OPTOUT_RESERVATIONS_SWEEP_SECONDS"),
        "options": {"expires": _every("OPTOUT_RESERVATIONS_SWEEP_SECONDS").total_seconds()},
    },
    "optout-verification-sweep": {
        "task": "optout.tasks.verification_sweep",
        "schedule": _every("OPTOUT_SWEEP_SECONDS"),
        "options": {"expires": _every("OPTOUT_SWEEP_SECONDS").total_seconds()},
    },
}


@worker_init.connect
def _worker_preload(sender=None, **kwargs) -> None:
    """Each installed app loads what its tasks need in the worker's parent, before the pool forks, so children share it.

    An AppConfig may offer `worker_preload(queues)`, `queues` being the names of the queues this worker consumes
    (-Q), so the ground floor never imports an app (audits loads scancode's license index this way).
    """
    import django
    from django.apps import apps

    django.setup()
    consumed = frozenset(sender.app.amqp.queues.consume_from if sender is not None else ())
    for config in apps.get_app_configs():
        preload = getattr(config, "worker_preload", None)
        if preload is not None:
            preload(consumed)
    scratch_sweep()  # what workers killed on this machine left behind


@worker_process_init.connect
def _scratch_own(**kwargs) -> None:
    """Each pool process works in a scratch folder of its own, and exits cleanly on SIGTERM (governance/scratch.py)."""
    scratch_claim()
    sigterm_exits()
