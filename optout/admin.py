from django.contrib import admin

from optout.models import Exclusion, ExclusionSource, ImportedRecord, OptOutRequest, RequestEvent, Verification


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
    list_display = ["id", "origin", "scope", "namespace", "state", "created_at", "confirmed_at", "verified_at"]
    list_filter = ["state", "origin", "scope"]
    search_fields = ["email", "namespace", "verifications__repository__canonical"]
    inlines = [ImportedRecordInline, VerificationInline, EventInline]
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
