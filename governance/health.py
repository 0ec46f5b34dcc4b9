"""Whether the broker answers, and how much waits on it: /healthz, `make test` and the overview ask."""

import contextlib

from django.conf import settings

from governance.celery import app


@contextlib.contextmanager
def _broker_connection(timeout: float):
    with app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        yield connection


def broker_status(timeout: float = 2.0) -> dict:
    """{"ok": bool, "detail": str}; in inline mode there is no broker to be down."""
    if not settings.CELERY_BROKER_URL:
        return {"ok": True, "detail": "none: tasks run inline"}
    try:
        with _broker_connection(timeout) as connection:
            return {"ok": True, "detail": connection.transport_cls}
    except Exception as error:  # unreachable, refused, bad credentials: all mean "down"
        return {"ok": False, "detail": f"unreachable: {type(error).__name__}"}


def broker_queue_length(queue: str, timeout: float = 2.0) -> int:
    """Messages waiting in a queue on the broker (0 for a queue nothing was ever sent to); raises when unreachable."""
    from kombu.exceptions import ChannelError

    with _broker_connection(timeout) as connection:
        try:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:
            return 0
