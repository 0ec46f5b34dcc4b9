from django.contrib import admin, messages
from django.db.models import Count

from audits.services import dataset_policy_changed
from governance.models import Dataset


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
        if change and {"allowed_licenses", "no_license"} & set(form.changed_data):
            # A new policy applies to the stored verdicts at once, without rescanning anything.
            reclassified = dataset_policy_changed(dataset=obj)
            messages.info(request, f"Policy changed: {reclassified:,} stored verdict(s) reclassified.")
