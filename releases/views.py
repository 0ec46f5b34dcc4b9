from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from governance.access import any_permission_required
from governance.exceptions import GovernanceError
from governance.identity import without_credentials
from governance.models import Dataset
from governance.selectors import dataset_list_with_counts
from releases.reports.overview import review_overview
from releases.reports.transparency import transparency_datasets, transparency_report_cached
from releases.reports.transparency_charts import transparency_charts
from releases.selectors import inventory_lookup, lookup_examples_cached

# Either review permission opens the overview: it shows both queues, each linking to its own pages.
REVIEW_PERMISSIONS = ("optout.review_optoutrequest", "audits.review_license")
_CREDENTIALS_REFUSED = (
    "The text held credentials (a name or password before the host); they are neither kept nor shown. "
    "Paste the URL without them, such as https://github.com/owner/name."
)


# The lookup's form posts, so what someone typed stays out of addresses, histories and access logs; `?q=` links
# still work. Neither way is a password or token pasted with a URL shown back (in the box or in a message).
@require_http_methods(["GET", "POST"])
def home(request):
    query = (request.POST if request.method == "POST" else request.GET).get("q", "").strip()[:1000]
    shown = without_credentials(query)
    lookup, lookup_error = None, None
    if query:
        try:
            lookup = inventory_lookup(text=query)
        except GovernanceError as error:
            # A message quotes the text, maybe cut short: only the text without credentials may be quoted.
            lookup_error = without_credentials(str(error)) if shown == query else _CREDENTIALS_REFUSED
    return render(
        request,
        "releases/home.html",
        {
            "datasets": dataset_list_with_counts(),
            "query": shown,
            "lookup": lookup,
            "lookup_error": lookup_error,
            "examples": lookup_examples_cached(),
        },
    )


@require_GET
def transparency(request, slug=None):
    """The public report: `/transparency/` shows the most recently published dataset, `/transparency/<slug>/` any."""
    datasets, dataset = transparency_datasets(slug=slug)
    if dataset is None and slug is not None:
        raise Http404(f"No dataset {slug!r}: the datasets are listed at /transparency/")
    if dataset is None:
        return render(request, "releases/transparency.html", {"datasets": datasets, "report": None})
    report = transparency_report_cached(dataset=dataset)
    figures = [(report.figures[key], charts) for key, charts in transparency_charts(report).items()]
    return render(
        request,
        "releases/transparency.html",
        {"datasets": datasets, "report": report, "summary": report.figures["summary"], "figures": figures},
    )


@require_GET
def transparency_download(request, slug, figure=None, fmt="json"):
    """The report's numbers: the whole report as JSON, or one figure as CSV or JSON; JSON errors when not found."""
    dataset = Dataset.objects.filter(slug=slug).first()
    if dataset is None:
        return _not_found(f"No dataset {slug!r}: the datasets are listed at /transparency/")
    report = transparency_report_cached(dataset=dataset)
    if figure is None:
        return JsonResponse(report.as_dict(), json_dumps_params={"indent": 2, "ensure_ascii": False})
    if figure not in report.figures:
        return _not_found(f"No figure {figure!r}: choose from {', '.join(report.figures)}")
    if fmt == "csv":
        response = HttpResponse(report.figures[figure].as_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slug}-{figure}.csv"'
        return response
    return JsonResponse(report.figure_as_dict(figure), json_dumps_params={"indent": 2, "ensure_ascii": False})


def _not_found(detail: str) -> JsonResponse:
    return JsonResponse({"code": "not_found", "detail": detail}, status=404)


@never_cache
@any_permission_required(*REVIEW_PERMISSIONS, refusal="The overview is for maintainers who review requests or licenses")
@require_GET
def review_overview_page(request):
    return render(request, "releases/review_overview.html", {"overview": review_overview()})
