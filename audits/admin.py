"""License audits in the admin: everything read-only except starting scans; decisions change on the review page."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from audits import services
from audits.models import BlobFinding, DatasetDecision, DirectoryReview, FileExclusion, FileLabel, Review, Scan, Verdict
from governance.models import Repository


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by scans and reviews only: they are evidence, never typed in or edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _scan_link(scan_id):
    url = reverse("audits-scan-detail", args=[scan_id])
    return format_html('<a href="{}">scan #{} page</a>', url, scan_id)


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = [
        "repository",
        "status",
        "step",
        "progress_bar",
        "deep",
        "commit_short",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "deep", "requested_by"]
    search_fields = ["repository__canonical", "commit"]
    list_select_related = ["repository"]
    readonly_fields = ["page"] + [field.name for field in Scan._meta.fields]
    actions = ["scan_again", "deep_scan"]
    show_full_result_count = False

    @admin.display(description="progress")
    def progress_bar(self, scan):
        return format_html(
            '<progress max="{}" value="{}" aria-label="files done">{} of {}</progress> {} / {}',
            scan.files_to_scan or 1,
            scan.files_done if scan.files_to_scan else int(scan.status == Scan.Status.DONE),
            scan.files_done,
            scan.files_to_scan,
            scan.files_done,
            scan.files_to_scan,
        )

    @admin.display(description="commit")
    def commit_short(self, scan):
        return scan.commit[:12]

    @admin.display(description="live page")
    def page(self, scan):
        return _scan_link(scan.pk)

    def has_rescan_permission(self, request):
        return request.user.has_perm("audits.review_license")

    def _request_scans(self, request, queryset, *, deep: bool | None):
        depth: dict[int, bool] = {}
        for repository_id, scan_deep in queryset.values_list("repository_id", "deep"):
            depth[repository_id] = depth.get(repository_id, False) or scan_deep
        busy = set(
            Scan.objects.filter(
                repository_id__in=depth, status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING]
            ).values_list("repository_id", flat=True)
        )
        for repository in Repository.objects.filter(pk__in=depth.keys() - busy):
            services.scan_request(
                repository=repository, deep=depth[repository.pk] if deep is None else deep, requested_by="admin"
            )
        message = f"{len(depth) - len(busy)} scan(s) queued; each scan's page shows its progress."
        if busy:
            message += f" {len(busy)} repositor{'y was' if len(busy) == 1 else 'ies were'} being scanned already."
        self.message_user(request, message)

    @admin.action(description="Scan again (same depth)", permissions=["rescan"])
    def scan_again(self, request, queryset):
        self._request_scans(request, queryset, deep=None)

    @admin.action(description="Deep scan (every file)", permissions=["rescan"])
    def deep_scan(self, request, queryset):
        self._request_scans(request, queryset, deep=True)


@admin.register(Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = ["repository", "classification", "effective_license", "commit_short", "deep", "created_at"]
    list_filter = ["classification", "deep"]
    search_fields = ["repository__canonical", "commit", "effective_license"]
    list_select_related = ["repository"]
    readonly_fields = ["scan_page"] + [field.name for field in Verdict._meta.fields]
    show_full_result_count = False

    @admin.display(description="commit")
    def commit_short(self, verdict):
        return verdict.commit[:12]

    @admin.display(description="scan")
    def scan_page(self, verdict):
        return _scan_link(verdict.scan_id)


@admin.register(DatasetDecision)
class DatasetDecisionAdmin(ReadOnlyAdmin):
    """Decisions are computed from verdicts and policies; a maintainer changes one by reviewing it, with a reason."""

    list_display = ["repository", "dataset", "decision", "computed", "reviewed", "updated_at", "review_page"]
    list_filter = ["decision", "computed", "dataset"]
    search_fields = ["repository__canonical"]
    list_select_related = ["repository", "dataset", "review"]
    readonly_fields = ["review_page"] + [field.name for field in DatasetDecision._meta.fields]
    show_full_result_count = False

    @admin.display(boolean=True, description="reviewed")
    def reviewed(self, decision):
        return decision.review_id is not None

    @admin.display(description="review")
    def review_page(self, decision):
        return format_html(
            '<a href="{}">evidence and review</a>', reverse("audits-review-decision", args=[decision.pk])
        )


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = [
        "repository",
        "dataset",
        "decision",
        "reason_code",
        "reviewer",
        "created_at",
        "stale_at",
        "stale_reason",
    ]
    list_filter = ["decision", "reason_code", "dataset", ("stale_at", admin.EmptyFieldListFilter)]
    search_fields = ["repository__canonical", "comment"]
    list_select_related = ["repository", "dataset", "reviewer"]
    readonly_fields = [field.name for field in Review._meta.fields]


@admin.register(BlobFinding)
class BlobFindingAdmin(ReadOnlyAdmin):
    list_display = ["blob_id", "spdx_expression", "is_license_text", "timed_out", "skipped", "scanner_version"]
    list_filter = ["is_license_text", "timed_out", "scanner_version"]
    search_fields = ["blob_id"]
    search_help_text = "A git blob SHA-1 (The Stack's blob_id), all 40 characters."
    readonly_fields = [field.name for field in BlobFinding._meta.fields]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # An exact match on the stored lower-case SHA uses the unique index; a LIKE over millions of rows would not.
        term = search_term.strip().lower()
        if not term:
            return queryset, False
        return queryset.filter(blob_id=term), False


@admin.register(FileLabel)
class FileLabelAdmin(ReadOnlyAdmin):
    list_display = ["path", "license_type", "license", "origin", "source", "language", "is_vendor", "is_generated"]
    list_filter = ["license_type", "origin", "is_vendor", "is_generated"]
    search_fields = ["path", "blob_id", "license"]
    show_full_result_count = False


@admin.register(FileExclusion)
class FileExclusionAdmin(ReadOnlyAdmin):
    list_display = ["path", "license", "directory", "dataset", "overruled_by"]
    list_filter = ["dataset"]
    search_fields = ["path", "blob_id", "license"]
    list_select_related = ["dataset"]
    show_full_result_count = False


@admin.register(DirectoryReview)
class DirectoryReviewAdmin(ReadOnlyAdmin):
    list_display = [
        "repository",
        "directory",
        "license",
        "dataset",
        "reason_code",
        "reviewer",
        "created_at",
        "withdrawn_at",
    ]
    list_filter = ["dataset", "reason_code"]
    search_fields = ["repository__canonical", "directory", "license"]
    list_select_related = ["repository", "dataset", "reviewer"]
    actions = ["withdraw"]

    @admin.action(description="Withdraw: exclude these files again from the next release")
    def withdraw(self, request, queryset):
        for review_id in queryset.filter(withdrawn_at__isnull=True).values_list("pk", flat=True):
            services.directory_review_withdraw(review_id=review_id)
