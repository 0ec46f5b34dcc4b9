"""License policies by category: datasets that exist keep their explicit lists and decide exactly as before (no
category allowed, nothing denied); datasets made from now on allow every Permissive and Public Domain license."""

from django.db import migrations, models

import governance.models


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_cache_table")]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="allowed_categories",
            field=models.JSONField(blank=True, default=list),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="dataset",
            name="allowed_categories",
            field=models.JSONField(
                blank=True,
                default=governance.models.default_allowed_categories,
                help_text="scancode license categories the dataset's policy allows (Permissive, Public Domain, …)",
                validators=[governance.models.validate_license_categories],
            ),
        ),
        migrations.AddField(
            model_name="dataset",
            name="denied_licenses",
            field=models.JSONField(blank=True, default=list, help_text="SPDX license ids refused whatever their category"),
        ),
        migrations.AlterField(
            model_name="dataset",
            name="allowed_licenses",
            field=models.JSONField(blank=True, default=list, help_text="SPDX license ids allowed whatever their category"),
        ),
    ]
