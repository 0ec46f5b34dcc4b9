"""Migrations that rewrite data: run them forward over rows made by the migration before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def latest_schema_after():
    """Each test migrates back to an older state: the tests after it need every migration again."""
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
    # Datasets as they were then too: their policy columns came later.
    apps = migrated_to(("audits", "0002_review_stale_reason"), ("governance", "0006_cache_table"))
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


def test_existing_proof_checks_keep_reading_the_clone_url_they_always_read():
    apps = migrated_to(("optout", "0005_exclusion_lookup"))
    Repository = apps.get_model("governance", "Repository")
    OptOutRequest = apps.get_model("optout", "OptOutRequest")
    Verification = apps.get_model("optout", "Verification")
    repository = Repository.objects.create(
        canonical="git.example.org/team/tool",
        host="git.example.org",
        namespace="git.example.org/team",
        clone_url="https://git.example.org/team/tool.git",
    )
    request = OptOutRequest.objects.create(state="awaiting_proof", proof_token="token-proof-url")
    by_owner = Verification.objects.create(request=request, repository=repository, proof_repository=repository)
    administrative = Verification.objects.create(request=request, repository=repository, method="administrative")

    apps = migrated_to(("optout", "0006_proof_url"))
    Verification = apps.get_model("optout", "Verification")
    assert Verification.objects.get(pk=by_owner.pk).proof_url == "https://git.example.org/team/tool.git"
    assert Verification.objects.get(pk=administrative.pk).proof_url == ""


def test_existing_datasets_keep_their_explicit_license_lists_and_decide_as_before():
    from audits.policy import Policy, policy_allows

    apps = migrated_to(("governance", "0006_cache_table"))
    Dataset = apps.get_model("governance", "Dataset")
    listed = Dataset.objects.create(slug="listed", name="Listed", allowed_licenses=["MIT", "Apache-2.0"])
    before = Policy(name="listed", allowed=frozenset({"mit", "apache-2.0"}), no_license="include")
    # Permissive by category, not on the list: refused before the migration, so refused after it.
    expressions = ["MIT", "Apache-2.0 OR GPL-2.0-only", "curl", "ISC", "GPL-2.0-only", "LicenseRef-my-license"]

    apps = migrated_to(("governance", "0007_license_categories"))
    migrated = apps.get_model("governance", "Dataset").objects.get(pk=listed.pk)
    assert (migrated.allowed_categories, migrated.allowed_licenses, migrated.denied_licenses) == (
        [],
        ["MIT", "Apache-2.0"],
        [],
    )
    after = Policy.from_dataset(migrated)
    assert [policy_allows(e, after) for e in expressions] == [policy_allows(e, before) for e in expressions]
    assert [policy_allows(e, after) for e in expressions] == [True, True, False, False, False, False]


def test_a_dataset_made_after_the_migration_allows_permissive_and_public_domain_licenses():
    from audits.policy import Policy, policy_allows
    from governance.services import dataset_get_or_create

    dataset = dataset_get_or_create(slug="fresh", name="Fresh")[0]
    assert dataset.allowed_categories == ["Permissive", "Public Domain"]
    assert (dataset.allowed_licenses, dataset.denied_licenses) == ([], [])
    assert policy_allows("curl", Policy.from_dataset(dataset)) is True
