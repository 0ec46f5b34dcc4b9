import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.validators import validate_slug
from django.shortcuts import redirect
from django.utils.html import format_html

from governance.exceptions import GovernanceError
from governance.models import (
    BuildReport,
    DatasetRepository,
    InventoryImport,
    PipelineToken,
    Release,
    Repository,
)
from governance.services import inventory_import_create

admin.site.site_header = "Dataset governance"
admin.site.site_title = "Dataset governance admin"


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["canonical", "host", "namespace", "created_at"]
    list_filter = ["host"]
    search_fields = ["canonical"]
    readonly_fields = ["canonical", "host", "namespace", "clone_url", "created_at"]

    def has_add_permission(self, request):
        # Identity comes from the parser only (inventory imports, requests), never typed by hand.
        return False


@admin.register(DatasetRepository)
class DatasetRepositoryAdmin(admin.ModelAdmin):
    list_display = ["repository", "dataset", "commit", "updated_at"]
    list_filter = ["dataset"]
    search_fields = ["repository__canonical", "commit"]
    list_select_related = ["repository", "dataset"]
    raw_id_fields = ["repository"]
    readonly_fields = ["added_at", "updated_at"]
    show_full_result_count = False


class InventoryUploadForm(forms.Form):
    dataset = forms.CharField(
        max_length=100,
        validators=[validate_slug],
        help_text="Slug of the dataset; a new slug creates the dataset with the default license policy.",
    )
    file = forms.FileField(
        help_text="JSON Lines, CSV (either may be .gz) or Parquet, with a repo_name or repository column "
        "and optionally commit."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = Path(upload.name).name.lower()
        if not name.endswith((".jsonl", ".ndjson", ".csv", ".jsonl.gz", ".ndjson.gz", ".csv.gz", ".parquet")):
            raise forms.ValidationError("Use a .jsonl, .csv (either may end in .gz) or .parquet file.")
        return upload


@admin.register(InventoryImport)
class InventoryImportAdmin(admin.ModelAdmin):
    list_display = [
        "source_name",
        "dataset",
        "status",
        "progress_bar",
        "rows_read",
        "rows_failed",
        "repositories_added",
        "repositories_updated",
        "created_at",
    ]
    list_filter = ["status", "dataset"]
    readonly_fields = [field.name for field in InventoryImport._meta.fields] + ["refused_rows"]
    exclude = ["row_errors"]

    @admin.display(description="progress")
    def progress_bar(self, inventory_import):
        return format_html(
            '<progress max="100" value="{}" aria-label="progress">{}%</progress>',
            round(inventory_import.progress * 100),
            round(inventory_import.progress * 100),
        )

    @admin.display(description="refused rows (first 1,000)")
    def refused_rows(self, inventory_import):
        if not inventory_import.row_errors:
            return "none"
        lines = "\n".join(f"row {row}: {message}" for row, message in inventory_import.row_errors)
        return format_html("<pre style='white-space:pre-wrap;max-height:30em;overflow:auto'>{}</pre>", lines)

    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        form = InventoryUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            folder = Path(settings.DATA_DIR) / "inventory-uploads" / uuid.uuid4().hex
            folder.mkdir(parents=True)
            target = folder / Path(upload.name).name
            with open(target, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                inventory_import = inventory_import_create(
                    dataset_slug=form.cleaned_data["dataset"], source_path=str(target), source_name=upload.name
                )
            except GovernanceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Import of {upload.name} queued; this page shows its progress.")
                return redirect("admin:governance_inventoryimport_change", inventory_import.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import an inventory file",
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        from django.template.response import TemplateResponse

        return TemplateResponse(request, "admin/governance/inventory_upload.html", context)


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["dataset", "version", "created_at", "repositories", "namespaces", "blobs"]
    list_filter = ["dataset"]
    readonly_fields = ["dataset", "version", "created_at", "frozen_at", "path", "manifest"]

    @admin.display(description="repositories")
    def repositories(self, release):
        return f"{release.counts.get('repositories', 0):,}"

    @admin.display(description="namespaces")
    def namespaces(self, release):
        return f"{release.counts.get('namespaces', 0):,}"

    @admin.display(description="blobs")
    def blobs(self, release):
        return f"{release.counts.get('blobs', 0):,}"

    def has_add_permission(self, request):
        return False  # published by manage.py publish_release or the schedule, never typed in

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PipelineToken)
class PipelineTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["name", "prefix", "created_at", "last_used_at"]
    fields = ["name", "prefix", "datasets", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # manage.py issue_token shows the secret once; the admin never could

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        from django.utils import timezone

        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{revoked} token(s) revoked; pipelines using them now get 401.")


@admin.register(BuildReport)
class BuildReportAdmin(admin.ModelAdmin):
    list_display = ["build_id", "dataset", "release", "reported_at"]
    list_filter = ["dataset"]
    readonly_fields = ["dataset", "release", "build_id", "notes", "token", "reported_at"]

    def has_add_permission(self, request):
        return False
