"""Each exclusion keeps the name a batch check looks up (`target`), so a check probes one index per name.

Before, every name went name → repository → live exclusion, and every namespace through a second index: at
1,000,000 exclusions the statement for 10,000 names made ~38,000 index probes where now it makes ~19,000.
On PostgreSQL the lookup index compares bytes (`COLLATE "C"`, the order Python sorts the names in): equality
is the same under any deterministic collation, and byte comparison does not depend on the server's locale.
The two per-kind indexes of 0003 are replaced by this one.
"""

from django.db import migrations, models
from django.db.models import F, Q

FILL = """
UPDATE optout_exclusion SET target = CASE
    WHEN repository_id IS NULL THEN namespace
    ELSE (SELECT canonical FROM governance_repository r WHERE r.id = optout_exclusion.repository_id)
END
"""


def lookup_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS exclusion_repository_live")
    schema_editor.execute("DROP INDEX IF EXISTS exclusion_namespace_live")
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS exclusion_target_live ON optout_exclusion ((target COLLATE "C")) '
        "INCLUDE (scope, dataset_id, id) WHERE revoked_at IS NULL"
    )


def lookup_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS exclusion_target_live")
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
        ("optout", "0003_check_lookup_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="exclusion",
            name="target",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The repository's canonical name, or the namespace",
                max_length=1100,
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="exclusion",
            constraint=models.CheckConstraint(
                condition=Q(scope="repository") & ~Q(target="") | Q(scope="namespace", target=F("namespace")),
                name="exclusion_target_named",
            ),
        ),
        migrations.RunPython(lookup_index_create, lookup_index_drop),
    ]
