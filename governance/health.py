"""Whether the broker answers: /healthz and `make test` ask the same question."""

from django.conf import settings


def broker_status(timeout: float = 2.0) -> dict:
    """{"ok": bool, "detail": str}; in inline mode there is no broker to be down."""
    if not settings.CELERY_BROKER_URL:
        return {"ok": True, "detail": "none: tasks run inline"}
    from governance.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        return {"ok": True, "detail": connection.transport_cls}
    except Exception as error:  # unreachable, refused, bad credentials: all mean "down"
        return {"ok": False, "detail": f"unreachable: {type(error).__name__}"}
