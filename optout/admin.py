from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from optout.models import (
    Exclusion,
    ExclusionSource,
    ImportedRecord,
    OptOutRequest,
    RequestEvent,
    ReservationCheck,
    ReservedFile,
    Verification,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VerificationInline(ReadOnlyInline):
    model = Verification
    fields = [
        *("repository", "namespace", "proof_repository", "proof_url", "method", "state", "attempts", "result"),
        *("detail", "verified_at"),
    ]
    readonly_fields = fields


class ReservedFileInline(ReadOnlyInline):
    """The files a reservation request's path reservations cover (none for other requests)."""

    model = ReservedFile
    fields = ["path", "blob_id", "reason", "since", "revoked_at"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ["created_at", "kind", "message", "actor"]
    readonly_fields = fields


class ImportedRecordInline(admin.StackedInline):
    """Where an imported request came from; the author is shown here, to maintainers only."""

    model = ImportedRecord
    can_delete = False
    fields = [*("source", "record_id", "author", "file_sha256", "line", "repositories", "namespaces", "datasets")]
    fields += ["imported_at", "updated_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OptOutRequest)
class OptOutRequestAdmin(admin.ModelAdmin):
    # Few columns, so the list fits a laptop beside the admin's sidebars; the request's page has every date.
    list_display = ["id", "origin", "scope", "namespace", "state", "created_at", "verified_at"]
    list_filter = ["state", "origin", "scope"]
    search_fields = [
        *("email", "namespace", "verifications__repository__canonical"),
        "reservation_checks__repository__canonical",
    ]
    inlines = [ImportedRecordInline, VerificationInline, ReservedFileInline, EventInline]
    # The history is append-only: the admin shows requests, domain functions change them.
    readonly_fields = [field.name for field in OptOutRequest._meta.fields if field.name != "id"]
    exclude = ["status_token_hash", "confirm_token_hash", "datasets"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportedRecord)
class ImportedRecordAdmin(admin.ModelAdmin):
    list_display = ["record_id", "source", "request", "line", "imported_at", "updated_at", "revoked_at"]
    list_filter = ["source", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["record_id", "author", "repositories", "namespaces"]
    readonly_fields = [field.name for field in ImportedRecord._meta.fields if field.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SourceInline(ReadOnlyInline):
    model = ExclusionSource
    fields = ["request", "reason", "created_at", "revoked_at"]
    readonly_fields = fields


@admin.register(Exclusion)
class ExclusionAdmin(admin.ModelAdmin):
    list_display = ["target_display", "scope", "dataset", "since", "revoked_at"]
    list_filter = ["scope", "dataset", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["repository__canonical", "namespace"]
    list_select_related = ["repository", "dataset"]
    readonly_fields = ["scope", "repository", "namespace", "target", "reasons", "dataset", "since", "revoked_at"]
    inlines = [SourceInline]

    @admin.display(description="excluded")
    def target_display(self, exclusion):
        return exclusion.target

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReservationCheck)
class ReservationCheckAdmin(admin.ModelAdmin):
    """What the reservation check last read in each repository: the evidence, and the request it feeds."""

    list_display = ["repository", "commit", "checked_at", "next_check_at", "found", "error"]
    list_filter = [("request", admin.EmptyFieldListFilter), ("error", admin.EmptyFieldListFilter)]
    search_fields = ["repository__canonical"]
    list_select_related = ["repository"]
    fields = [
        *("repository", "commit", "read_at", "checked_at", "next_check_at", "failures", "error"),
        *("request_link", "evidence"),
    ]
    readonly_fields = fields

    @admin.display(description="reservations, malformed")
    def found(self, check):
        return f"{len(check.evidence.get('reservations', []))}, {len(check.evidence.get('malformed', []))}"

    @admin.display(description="reservation request (its history)")
    def request_link(self, check):
        if check.request_id is None:
            return "none: no reservation found yet"
        url = reverse("admin:optout_optoutrequest_change", args=[check.request_id])
        return format_html('<a href="{}">Request {}</a>', url, check.request_id)

    def has_add_permission(self, request):
        return False

    # Read-only: the admin shows what the check read (view permission), only the check writes it.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
