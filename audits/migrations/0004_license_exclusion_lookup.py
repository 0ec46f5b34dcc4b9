"""The constraint on `target` (filled by 0003), and on PostgreSQL the index the batch check reads a dataset's
license exclusions from: only the `exclude` decisions, by bytewise name, with the verdict to name the license.
"""

from django.db import migrations, models
from django.db.models import Q


def index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS decision_exclude_target ON audits_datasetdecision "
            "(dataset_id, (target COLLATE \"C\")) INCLUDE (verdict_id) WHERE decision = 'exclude'"
        )


def index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS decision_exclude_target")


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0003_datasetdecision_target"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="datasetdecision",
            constraint=models.CheckConstraint(condition=~Q(target=""), name="dataset_decision_target_named"),
        ),
        migrations.RunPython(index_create, index_drop),
    ]
