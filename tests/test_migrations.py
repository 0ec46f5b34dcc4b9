"""Migrations that rewrite data: run them forward over rows made by the migration before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def latest_schema_after():
    """Every later test needs the whole schema back, whatever migrations came after the ones named here."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrated_to(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


def test_existing_exclusions_get_the_name_the_check_looks_up_and_their_live_reasons():
    apps = migrated_to(("optout", "0003_check_lookup_indexes"))
    Repository = apps.get_model("governance", "Repository")
    Exclusion = apps.get_model("optout", "Exclusion")
    repository = Repository.objects.create(
        canonical="github.com/acme/tool", host="github.com", namespace="github.com/acme", clone_url="x"
    )
    OptOutRequest = apps.get_model("optout", "OptOutRequest")
    ExclusionSource = apps.get_model("optout", "ExclusionSource")
    now = timezone.now()
    by_repository = Exclusion.objects.create(scope="repository", repository=repository, since=now)
    by_namespace = Exclusion.objects.create(scope="namespace", namespace="gitlab.com/group/sub", since=now)
    withdrawn = Exclusion.objects.create(scope="namespace", namespace="github.com/gone", since=now, revoked_at=now)
    for number, (exclusion, reason, revoked_at) in enumerate(
        [
            (by_repository, "opt-out", None),
            (by_repository, "administrative", None),
            (by_repository, "legal", now),  # withdrawn: not a reason any more
            (by_namespace, "opt-out", None),
            (withdrawn, "opt-out", now),
        ]
    ):
        request = OptOutRequest.objects.create(state="active", proof_token=f"token-{number}")
        ExclusionSource.objects.create(exclusion=exclusion, request=request, reason=reason, revoked_at=revoked_at)

    apps = migrated_to(("optout", "0005_exclusion_lookup"))
    Exclusion = apps.get_model("optout", "Exclusion")
    assert Exclusion.objects.get(pk=by_repository.pk).target == "github.com/acme/tool"
    assert Exclusion.objects.get(pk=by_namespace.pk).target == "gitlab.com/group/sub"
    assert [Exclusion.objects.get(pk=row.pk).reasons for row in (by_repository, by_namespace, withdrawn)] == [
        "administrative,opt-out",
        "opt-out",
        "opt-out",
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'optout_exclusion'")
            names = {row[0] for row in cursor.fetchall()}
        assert "exclusion_target_live" in names and "exclusion_namespace_live" not in names


def test_existing_license_decisions_get_the_name_the_check_looks_up():
    apps = migrated_to(("audits", "0002_review_stale_reason"))
    Repository = apps.get_model("governance", "Repository")
    Dataset = apps.get_model("governance", "Dataset")
    Scan = apps.get_model("audits", "Scan")
    Verdict = apps.get_model("audits", "Verdict")
    DatasetDecision = apps.get_model("audits", "DatasetDecision")
    repository = Repository.objects.create(
        canonical="github.com/acme/gpl", host="github.com", namespace="github.com/acme", clone_url="x"
    )
    dataset = Dataset.objects.create(slug="the-stack", name="The Stack")
    scan = Scan.objects.create(repository=repository, commit="a" * 40, status="done")
    verdict = Verdict.objects.create(
        scan=scan, repository=repository, commit="a" * 40, classification="copyleft", evidence_digest="d"
    )
    decision = DatasetDecision.objects.create(
        dataset=dataset,
        repository=repository,
        verdict=verdict,
        computed="exclude",
        decision="exclude",
        since=timezone.now(),
    )

    apps = migrated_to(("audits", "0004_license_exclusion_lookup"))
    assert apps.get_model("audits", "DatasetDecision").objects.get(pk=decision.pk).target == "github.com/acme/gpl"
