"""The shared cache's table, used when no broker is configured (settings.CACHES: DatabaseCache "governance_cache").

Made by migrate, so `make run` and the tests never need a separate createcachetable; made whatever the cache is
now, so removing the broker later finds it in place.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "governance_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_import_waiting_for_worker")]

    operations = [migrations.RunPython(create, drop)]
