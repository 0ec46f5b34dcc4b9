from django.contrib import admin, messages
from django.db.models import Count

from audits.services import dataset_policy_changed
from governance.models import Dataset
from releases.models import Webhook, WebhookDelivery

# The fields of a dataset's license policy: a change to any of them reclassifies the stored verdicts.
POLICY_FIELDS = {"allowed_categories", "allowed_licenses", "denied_licenses", "no_license"}


# Registered here, on the floor that may call the audits app: saving a new policy reclassifies stored verdicts.
@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "inventory_size", "no_license", "created_at"]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(inventory_size=Count("inventory"))

    @admin.display(ordering="inventory_size", description="repositories")
    def inventory_size(self, dataset):
        return f"{dataset.inventory_size:,}"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and POLICY_FIELDS & set(form.changed_data):
            # A new policy applies to the stored verdicts at once, without rescanning anything.
            reclassified = dataset_policy_changed(dataset=obj)
            messages.info(request, f"Policy changed: {reclassified:,} stored verdict(s) reclassified.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log to read: rows are made by the API and the workers only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    # `secret` is in no list, field or search: it signs deliveries and is never shown.
    list_display = ["url", "dataset", "token", "created_at"]
    list_filter = ["dataset"]
    search_fields = ["url"]
    list_select_related = ["dataset", "token"]
    fields = readonly_fields = ["dataset", "token", "url", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "release",
        "webhook_url",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "release__dataset"]
    list_select_related = ["release__dataset", "webhook"]
    fields = readonly_fields = [
        "release",
        "webhook",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_status_code",
        "last_error",
        "created_at",
        "finished_at",
    ]

    @admin.display(description="webhook", ordering="webhook__url")
    def webhook_url(self, delivery):
        return delivery.webhook.url
