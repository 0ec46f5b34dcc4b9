"""Constraints and the lookup indexes for the check's columns (filled by 0004); the indexes on PostgreSQL only."""

from django.db import migrations, models
from django.db.models import F, Q


def lookup_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS exclusion_repository_live")
    schema_editor.execute("DROP INDEX IF EXISTS exclusion_namespace_live")
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS exclusion_target_live ON optout_exclusion ((target COLLATE "C")) '
        "INCLUDE (scope, dataset_id, reasons) WHERE revoked_at IS NULL"
    )
    # The check no longer goes through the repository table (license decisions keep the name too: audits 0004).
    schema_editor.execute("DROP INDEX IF EXISTS repository_canonical_id")


def lookup_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS exclusion_target_live")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS repository_canonical_id ON governance_repository (canonical) INCLUDE (id)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS exclusion_repository_live ON optout_exclusion (repository_id) "
        "INCLUDE (id, dataset_id) WHERE revoked_at IS NULL AND repository_id IS NOT NULL"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS exclusion_namespace_live ON optout_exclusion (namespace) "
        "INCLUDE (id, dataset_id) WHERE revoked_at IS NULL AND repository_id IS NULL"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("optout", "0004_exclusion_target"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="exclusion",
            constraint=models.CheckConstraint(
                condition=Q(revoked_at__isnull=False) | ~Q(reasons=""), name="exclusion_in_force_has_reasons"
            ),
        ),
        migrations.AddConstraint(
            model_name="exclusion",
            constraint=models.CheckConstraint(
                condition=Q(scope="repository") & ~Q(target="") | Q(scope="namespace", target=F("namespace")),
                name="exclusion_target_named",
            ),
        ),
        migrations.RunPython(lookup_index_create, lookup_index_drop),
    ]
