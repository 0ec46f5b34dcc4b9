from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance.health import broker_status


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_status(), "broker": broker_status()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


def _database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "detail": connection.vendor}
    except Exception as error:  # any failure to reach it is the answer, not a 500
        return {"ok": False, "detail": f"{connection.vendor} unreachable: {type(error).__name__}"}
