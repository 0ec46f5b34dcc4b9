"""Heartbeats for long steps, so a short stall threshold never takes live work for lost work.

A scan's fetch or a big chunk can run for minutes inside one call (git, scancode). While it runs, a
thread touches the row's `heartbeat_at` every `every` seconds; the sweeps take a row as lost only
when its heartbeat is older than the stall threshold (several beats).
"""

import logging
import threading
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def heartbeat_touch(queryset) -> int:
    """Set `heartbeat_at` to now on these rows, skipping rows another transaction holds (it is alive too)."""
    with transaction.atomic():
        ids = list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True))
        return queryset.model.objects.filter(pk__in=ids).update(heartbeat_at=timezone.now()) if ids else 0


@contextmanager
def heartbeat(queryset, *, every: float):
    """Touch these rows every `every` seconds until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    heartbeat_touch(queryset)
                except Exception:  # a missed beat is not worth failing the work it watches
                    logger.warning("heartbeat of %s failed", queryset.model.__name__, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
