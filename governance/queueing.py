"""Sending tasks to the broker without ever failing the caller: the row is the truth, the message a hint.

Every enqueue goes through `task_send` (or `task_send_on_commit`). When the broker cannot be reached
the rows concerned record it (`enqueue_failed_at`: "waiting for a worker"), the caller goes on, and
the periodic sweep sends the work again once the broker is back. Publishing is bounded by the short
retry policy and socket timeouts in settings, so a web request never hangs on a dead broker.
"""

import logging
import socket

from celery import current_app
from celery.app.task import Task
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down, refuses us or does not answer in time: Celery turns
# connection errors into kombu's OperationalError; the others can surface from the transport directly.
BROKER_ERRORS = (OperationalError, ConnectionError, socket.timeout, TimeoutError)


def task_named(name: str) -> Task:
    """The registered task called `name`: senders name a task instead of importing its module, so a service
    never imports the tasks that call it (no import cycle), and the name is the contract routing already uses."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # autodiscovery is lazy outside a worker
    return current_app.tasks[name]


def task_send(
    task: Task | str, *args, kwargs: dict | None = None, countdown: float | None = None, waiting: QuerySet | None = None
) -> bool:
    """Send `task(*args, **kwargs)`; False when the broker could not take it, after marking `waiting` rows as such.

    `task` is a task or its registered name (`"optout.tasks.verification_check_task"`).

    `waiting` holds the rows whose work this message carries (they need an `enqueue_failed_at` field):
    marked when the send fails, cleared when a later send succeeds. `countdown` delays the run by that many seconds.
    """
    if isinstance(task, str):
        task = task_named(task)
    try:
        task.apply_async(args=args, kwargs=kwargs, countdown=countdown)
    except BROKER_ERRORS as failure:
        logger.warning("broker unreachable, %s%r left for the sweep: %s", task.name, args, failure)
        if waiting is not None:
            waiting.update(enqueue_failed_at=timezone.now())
        return False
    if waiting is not None:
        waiting.filter(enqueue_failed_at__isnull=False).update(enqueue_failed_at=None)
    return True


def task_send_on_commit(task: Task | str, *args, kwargs: dict | None = None, waiting: QuerySet | None = None) -> None:
    """`task_send` once the current transaction commits (never before the row exists)."""
    transaction.on_commit(lambda: task_send(task, *args, kwargs=kwargs, waiting=waiting))
