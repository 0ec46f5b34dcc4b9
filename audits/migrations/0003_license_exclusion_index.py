"""A partial index over the license `exclude` decisions, PostgreSQL only, for the batch check.

The check looks up license exclusions only when the dataset has any (one probe of this index); then each
known repository costs one probe of an index that holds the excluded ones alone.
"""

from django.db import migrations


def index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS decision_exclude_live ON audits_datasetdecision (dataset_id, repository_id) "
            "INCLUDE (verdict_id) WHERE decision = 'exclude'"
        )


def index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS decision_exclude_live")


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0002_review_stale_reason"),
    ]

    operations = [migrations.RunPython(index_create, index_drop)]
