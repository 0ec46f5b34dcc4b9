from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance import selectors
from governance.exceptions import GovernanceError
from governance.health import broker_status
from governance.models import Dataset
from governance.reports.overview import review_overview
from governance.reports.transparency import transparency_datasets, transparency_report_cached
from governance.reports.transparency_charts import transparency_charts

# Either review permission opens the overview: it shows both queues, each linking to its own pages.
REVIEW_PERMISSIONS = ("optout.review_optoutrequest", "audits.review_license")


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


@require_GET
def transparency(request, slug=None):
    """The public report: `/transparency/` shows the most recently published dataset, `/transparency/<slug>/` any."""
    datasets, default = transparency_datasets()
    dataset = get_object_or_404(Dataset, slug=slug) if slug else default
    if dataset is None:
        return render(request, "governance/transparency.html", {"datasets": datasets, "report": None})
    report = transparency_report_cached(dataset=dataset)
    figures = [(report.figures[key], charts) for key, charts in transparency_charts(report).items()]
    return render(
        request,
        "governance/transparency.html",
        {"datasets": datasets, "report": report, "summary": report.figures["summary"], "figures": figures},
    )


@require_GET
def transparency_download(request, slug, figure=None, fmt="json"):
    """The report's numbers: the whole report as JSON, or one figure as CSV or JSON."""
    report = transparency_report_cached(dataset=get_object_or_404(Dataset, slug=slug))
    if figure is None:
        return JsonResponse(report.as_dict(), json_dumps_params={"indent": 2, "ensure_ascii": False})
    if figure not in report.figures:
        raise Http404(f"No figure {figure!r}: choose from {', '.join(report.figures)}")
    if fmt == "csv":
        response = HttpResponse(report.figures[figure].as_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slug}-{figure}.csv"'
        return response
    body = {"dataset": slug, "generated_at": report.as_dict()["generated_at"], **report.figures[figure].as_dict()}
    return JsonResponse(body, json_dumps_params={"indent": 2, "ensure_ascii": False})


def _reviewers_only(view):
    """Anonymous visitors go to the login page; signed-in people with neither review permission get 403."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not any(request.user.has_perm(permission) for permission in REVIEW_PERMISSIONS):
            raise PermissionDenied("The overview is for maintainers who review requests or licenses.")
        return view(request, *args, **kwargs)

    return checked


@never_cache
@_reviewers_only
@require_GET
def review_overview_page(request):
    return render(request, "governance/review_overview.html", {"overview": review_overview()})
