"""Maintainers' license pages: the review queue, one decision with its evidence, a scan's progress."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import file_exclusions, selectors, services
from audits.forms import DirectoryReviewForm, LicenseQueueFilterForm, LicenseReviewForm
from audits.models import DatasetDecision, RepositoryAudit, Review, Scan
from governance.access import any_permission_required
from governance.exceptions import GovernanceError

REVIEW_PERMISSION = "audits.review_license"
QUEUE_PAGE_SIZE = 200


_maintainers_only = any_permission_required(
    REVIEW_PERMISSION, refusal="Reviewing licenses needs the permission to settle license verdicts."
)


@_maintainers_only
@require_GET
def review_queue(request):
    form = LicenseQueueFilterForm(request.GET or None)
    dataset = form.cleaned_data["dataset"] if form.is_valid() else ""
    queue = selectors.license_review_queue(dataset_slug=dataset or None)
    waiting = queue.count()
    return render(
        request,
        "audits/review_queue.html",
        {
            "form": form,
            "decisions": queue[:QUEUE_PAGE_SIZE],
            "waiting": waiting,
            "page_size": QUEUE_PAGE_SIZE,
            "dataset": dataset,
            "counts": selectors.license_review_counts(),
        },
    )


@_maintainers_only
@require_http_methods(["GET", "POST"])
def review_decision(request, decision_id):
    decision = get_object_or_404(
        DatasetDecision.objects.select_related("dataset", "repository", "verdict__scan", "review__reviewer"),
        pk=decision_id,
    )
    verdict = decision.verdict
    form = LicenseReviewForm(
        request.POST if request.method == "POST" else None, initial={"evidence_digest": verdict.evidence_digest}
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_record(
                decision_id=decision.pk,
                decision=form.cleaned_data["decision"],
                reason_code=form.cleaned_data["reason_code"],
                comment=form.cleaned_data["comment"],
                reviewer=request.user,
                evidence_digest=form.cleaned_data["evidence_digest"],
            )
        except GovernanceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{decision.repository} is now “{review.decision}” for {decision.dataset.slug}. "
                "It holds until a scan finds different evidence.",
            )
            return redirect("audits-review-queue")
    reviews = (
        Review.objects.filter(dataset=decision.dataset, repository=decision.repository)
        .select_related("reviewer", "verdict")
        .order_by("-created_at")
    )
    history = [{"review": review, "in_force": decision.review_id == review.pk} for review in reviews]
    evidence = sorted(verdict.evidence, key=lambda item: (item.get("noise", False), item.get("file", "")))
    file_groups = file_exclusions.file_exclusions_by_directory(decision)
    return render(
        request,
        "audits/review_decision.html",
        {
            "decision": decision,
            "verdict": verdict,
            "scan": verdict.scan,
            "evidence": evidence,
            "noise_files": sum(1 for item in evidence if item.get("noise")),
            "history": history,
            "form": form,
            "file_groups": file_groups,
            "reason_choices": Review.ReasonCode.choices,
        },
        status=400 if request.method == "POST" else 200,
    )


@_maintainers_only
@require_POST
def review_directory(request, decision_id):
    decision = get_object_or_404(DatasetDecision.objects.select_related("dataset", "repository"), pk=decision_id)
    form = DirectoryReviewForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Say why these files may stay: " + "; ".join(e for es in form.errors.values() for e in es)
        )
        return redirect("audits-review-decision", decision_id=decision.pk)
    try:
        services.directory_review_record(decision_id=decision.pk, reviewer=request.user, **form.cleaned_data)
    except GovernanceError as error:
        messages.error(request, str(error))
    else:
        where = form.cleaned_data["directory"] or "the root"
        messages.success(
            request,
            f"The files under {where} excluded for {form.cleaned_data['license']} stay in {decision.dataset.slug} "
            "from the next release on.",
        )
    return redirect("audits-review-decision", decision_id=decision.pk)


@never_cache
@_maintainers_only
@require_GET
def scan_page(request, scan_id):
    scan = get_object_or_404(Scan.objects.select_related("repository"), pk=scan_id)
    if request.GET.get("format") == "json":
        # For the page's own script, which moves the progress bar and reloads when the scan ends.
        return JsonResponse(
            {
                "status": scan.status,
                "step": scan.step,
                "files_done": scan.files_done,
                "files_to_scan": scan.files_to_scan,
                "files_scanned": scan.files_scanned,
                "files_reused": scan.files_reused,
            }
        )
    verdict = getattr(scan, "verdict", None)
    latest = RepositoryAudit.objects.filter(repository=scan.repository).values_list("verdict__scan", flat=True).first()
    decisions = (
        DatasetDecision.objects.filter(verdict=verdict).select_related("dataset").order_by("dataset__slug")
        if verdict is not None
        else []
    )
    return render(
        request,
        "audits/scan.html",
        {
            "scan": scan,
            "verdict": verdict,
            "decisions": decisions,
            "latest_scan_id": latest,
            "open": scan.status in (Scan.Status.QUEUED, Scan.Status.RUNNING),
            "skipped": sorted(scan.files_skipped.items()),
            "truncated": sorted(verdict.truncated.items()) if verdict is not None else [],
            "labels": selectors.scan_label_counts(scan),
        },
    )
