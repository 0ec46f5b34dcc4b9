from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from governance.exceptions import GovernanceError
from governance.identity import RepositoryParseError
from governance.network import client_address
from optout import selectors, services
from optout.forms import OptOutForm, RejectForm, ReviewFilterForm
from optout.models import OptOutRequest
from optout.ratelimits import RateLimited
from optout.targets import namespace_preview, repositories_preview

REVIEW_PERMISSION = "optout.review_optoutrequest"


def _client_ip(request) -> str:
    return client_address(request)


def _private(response):
    """Status and confirmation pages carry a secret in their URL: never cache them or send it to other sites."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def optout_form(request):
    if request.method == "GET":
        initial = {"repositories": request.GET.get("repository", "")[:1000]}
        if request.GET.get("namespace"):
            initial = {"scope": OptOutRequest.Scope.NAMESPACE, "namespace": request.GET["namespace"][:1000]}
        return render(request, "optout/form.html", {"form": OptOutForm(initial=initial)})

    form = OptOutForm(request.POST)
    context = {"form": form}
    if not form.is_valid():
        return render(request, "optout/form.html", context, status=400)
    data = form.cleaned_data
    if data["scope"] == OptOutRequest.Scope.REPOSITORIES:
        context["preview"] = repositories_preview(data["repositories"], limit=settings.OPTOUT_MAX_REPOSITORIES)
        context["limit"] = settings.OPTOUT_MAX_REPOSITORIES
    else:
        try:
            context["namespace_preview"] = namespace_preview(data["namespace"], data["proof_repository"])
        except RepositoryParseError as error:
            context["namespace_error"] = str(error)
    if request.POST.get("action") != "submit":
        return render(request, "optout/form.html", context)
    try:
        services.optout_request_submit(
            email=data["email"],
            scope=data["scope"],
            repositories_text=data["repositories"],
            namespace=data["namespace"],
            proof_repository=data["proof_repository"],
            dataset_slugs=data["datasets"],
            reason=data["reason"],
            ip=_client_ip(request),
        )
    except RateLimited as error:
        context["submit_error"] = str(error)
        response = render(request, "optout/form.html", context, status=429)
        response["Retry-After"] = str(int(error.retry_after.total_seconds()) + 1)
        return response
    except GovernanceError as error:
        context["submit_error"] = str(error)
        return render(request, "optout/form.html", context, status=400)
    return redirect("optout-request-sent")


def optout_sent(request):
    return render(request, "optout/sent.html")


@never_cache
@require_http_methods(["GET", "POST"])
def optout_confirm(request, token):
    # GET only shows a button: link scanners in mail systems must not use up a single-use link.
    if request.method == "GET":
        return _private(render(request, "optout/confirm.html", {"token": token}))
    try:
        confirmation = services.optout_request_confirm(token=token, ip=_client_ip(request))
    except GovernanceError as error:
        return _private(render(request, "optout/confirm.html", {"error": str(error)}, status=410))
    messages.success(
        request, "Thank you: your address is confirmed. Bookmark this page; the link is also in your mail."
    )
    return _private(redirect("optout-request-status", token=confirmation.status_token))


@never_cache
@require_http_methods(["GET", "POST"])
def optout_status(request, token):
    try:
        optout_request = services.optout_request_by_status_token(token=token)
    except GovernanceError as error:
        return _private(render(request, "optout/status_missing.html", {"error": str(error)}, status=404))
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "verify":
                # No message: the page itself says "Checking now…" for as long as the check runs, and no longer.
                services.optout_request_verify_now(request=optout_request, ip=_client_ip(request))
            elif action == "reinclude":
                services.optout_request_reinclusion_start(request=optout_request, ip=_client_ip(request))
                messages.success(request, "Commit the new token below, then press “Check the re-inclusion proof”.")
            elif action == "verify_reinclusion":
                services.optout_request_reinclusion_verify_now(request=optout_request, ip=_client_ip(request))
                messages.success(request, "Checking the re-inclusion proof; reload this page in a moment.")
            elif action == "withdraw":
                if request.POST.get("confirm") != "yes":
                    raise GovernanceError("Tick the box to confirm that you want to withdraw the request.")
                services.optout_request_withdraw(request=optout_request, ip=_client_ip(request))
                messages.success(request, "Your request is withdrawn.")
            else:
                raise GovernanceError("Unknown action.")
        except RateLimited as error:
            # Over a limit: 429 with Retry-After, as documented, and the page itself saying when to try again.
            messages.error(request, str(error))
            page = selectors.request_status(request=optout_request)
            response = render(request, "optout/status.html", {"page": page, "token": token}, status=429)
            response["Retry-After"] = str(int(error.retry_after.total_seconds()) + 1)
            return _private(response)
        except GovernanceError as error:
            messages.error(request, str(error))
        return _private(redirect("optout-request-status", token=token))
    page = selectors.request_status(request=optout_request)
    if request.GET.get("format") == "json":
        # For the page's own script: whether a check still runs, and whether anything changed.
        return _private(JsonResponse({"checking": page.checking, "fingerprint": page.fingerprint}))
    return _private(render(request, "optout/status.html", {"page": page, "token": token}))


@permission_required(REVIEW_PERMISSION, login_url="admin:login")
def review_queue(request):
    form = ReviewFilterForm(request.GET or None)
    state, older = None, None
    if form.is_valid():
        state = form.cleaned_data["state"] or None
        older = form.cleaned_data["older_than_days"]
    requests = selectors.review_queue(state=state, older_than_days=older)[:200]
    return render(
        request,
        "optout/review_queue.html",
        {"form": form, "requests": requests, "counts": selectors.review_counts(), "state": state},
    )


@permission_required(REVIEW_PERMISSION, login_url="admin:login")
@require_http_methods(["GET", "POST"])
def review_request(request, pk):
    optout_request = get_object_or_404(OptOutRequest, pk=pk)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                services.optout_request_approve(request_id=pk, actor=request.user)
                messages.success(request, f"Request {pk} approved: its verified repositories are excluded.")
                return redirect(reverse("optout-review-queue"))
            if request.POST.get("action") == "reject" and reject_form.is_valid():
                services.optout_request_reject(
                    request_id=pk, actor=request.user, reason=reject_form.cleaned_data["reason"]
                )
                messages.success(request, f"Request {pk} rejected; the requester was told why.")
                return redirect(reverse("optout-review-queue"))
        except GovernanceError as error:
            messages.error(request, str(error))
    page = selectors.request_status(request=optout_request)
    imported_record = selectors.imported_record_of(request=optout_request)
    context = {"page": page, "reject_form": reject_form, "imported_record": imported_record}
    return render(request, "optout/review_request.html", context)
