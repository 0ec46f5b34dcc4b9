"""Migrations that rewrite data: run them forward over rows made by the migration before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def migrated_to(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


def test_existing_exclusions_get_the_name_the_check_looks_up():
    apps = migrated_to(("optout", "0003_check_lookup_indexes"))
    Repository = apps.get_model("governance", "Repository")
    Exclusion = apps.get_model("optout", "Exclusion")
    repository = Repository.objects.create(
        canonical="github.com/acme/tool", host="github.com", namespace="github.com/acme", clone_url="x"
    )
    by_repository = Exclusion.objects.create(scope="repository", repository=repository, since=timezone.now())
    by_namespace = Exclusion.objects.create(scope="namespace", namespace="gitlab.com/group/sub", since=timezone.now())

    apps = migrated_to(("optout", "0004_exclusion_target"))
    Exclusion = apps.get_model("optout", "Exclusion")
    assert Exclusion.objects.get(pk=by_repository.pk).target == "github.com/acme/tool"
    assert Exclusion.objects.get(pk=by_namespace.pk).target == "gitlab.com/group/sub"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'optout_exclusion'")
            names = {row[0] for row in cursor.fetchall()}
        assert "exclusion_target_live" in names and "exclusion_namespace_live" not in names
