from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance import selectors
from governance.exceptions import GovernanceError
from governance.health import broker_status


@require_GET
def home(request):
    query = request.GET.get("q", "").strip()[:1000]
    lookup, lookup_error = None, None
    if query:
        try:
            lookup = selectors.inventory_lookup(text=query)
        except GovernanceError as error:
            lookup_error = str(error)
    return render(
        request,
        "governance/home.html",
        {
            "datasets": selectors.dataset_list_with_counts(),
            "query": query,
            "lookup": lookup,
            "lookup_error": lookup_error,
        },
    )


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
