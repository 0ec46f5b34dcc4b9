"""One answer to "what is excluded for dataset D, and why": the lookup on `/`, the batch check, the
Spawning-compatible endpoint and a published release agree for every repository, whatever the source: owners'
opt-outs, administrative exclusions, imported records, reservations found in repositories, license decisions."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from exclusions.release_files import blobs_read
from governance.models import DatasetRepository
from governance.services import dataset_get_or_create, repository_ensure
from governance.tokens import pipeline_token_issue
from optout.models import OptOutRequest, ReservedFile
from optout.registry import exclusion_add, exclusion_sources_revoke
from releases import exclusions
from releases.publication import release_folder, release_publish
from releases.selectors import inventory_lookup
from tests.review_helpers import repository_named, verdict_written

pytestmark = pytest.mark.django_db

# Every kind of source, and what the-stack must answer for each repository (sorted public reasons).
EXPECTED = {
    "github.com/owner/opted-out": ["opt-out"],
    "github.com/whole-org/any-repository": ["opt-out"],  # under an opted-out namespace
    "gitlab.com/group/sub/project": ["opt-out"],  # under an opted-out parent group
    "github.com/legal/taken-down": ["administrative"],
    "github.com/imported/listed": ["opt-out"],  # a record of an existing registry
    "github.com/imported-owner/any": ["opt-out"],  # under an owner an existing registry lists
    "github.com/reserved/whole": ["reservation:gitattributes"],  # `* ai-training=false` in the repository
    "github.com/reserved/partly": [],  # `vendor/** ai-training=false`: files alone, not the repository
    "github.com/copyleft/agpl-server": ["license:AGPL-3.0-only"],
    "github.com/copyleft/both": ["license:GPL-3.0-only", "opt-out"],
    "github.com/owner/withdrawn": [],  # its only source was withdrawn
    "github.com/other/elsewhere-only": [],  # excluded from another dataset only
    "github.com/permissive/mit": [],  # the policy keeps it
    "github.com/nobody/unknown": [],  # in no registry at all
}


def _opt_out(
    *, repository: str = "", namespace: str = "", datasets=(), origin=OptOutRequest.Origin.OWNER, reason="opt-out"
) -> OptOutRequest:
    request = OptOutRequest.objects.create(
        origin=origin,
        state=OptOutRequest.State.ACTIVE,
        scope=OptOutRequest.Scope.NAMESPACE if namespace else OptOutRequest.Scope.REPOSITORIES,
        namespace=namespace,
        all_datasets=not datasets,
        proof_token=f"token-{repository or namespace}",
    )
    request.datasets.set(datasets)
    repository = repository_ensure(text=repository) if repository else None
    exclusion_add(request=request, repository=repository, namespace=namespace, reason=reason)
    return request


@pytest.fixture
def registry():
    """the-stack, with opt-outs, a namespace, a subgroup, an administrative and a withdrawn exclusion, imported
    records, a whole and a path reservation, license decisions, and an exclusion of another dataset only."""
    the_stack = dataset_get_or_create(slug="the-stack")[0]
    other = dataset_get_or_create(slug="other")[0]
    for canonical, license_expression in [
        ("github.com/copyleft/agpl-server", "AGPL-3.0-only"),
        ("github.com/copyleft/both", "GPL-3.0-only"),
        ("github.com/permissive/mit", "MIT"),
    ]:
        repository = repository_named(canonical)
        DatasetRepository.objects.create(dataset=the_stack, repository=repository)
        verdict_written(repository, effective=license_expression)
    _opt_out(repository="github.com/owner/opted-out")
    _opt_out(repository="github.com/copyleft/both")
    _opt_out(namespace="github.com/whole-org")
    _opt_out(namespace="gitlab.com/group")
    _opt_out(repository="github.com/other/elsewhere-only", datasets=[other])
    exclusion_sources_revoke(request=_opt_out(repository="github.com/owner/withdrawn"))
    _opt_out(repository="github.com/imported/listed", origin=OptOutRequest.Origin.IMPORTED)
    _opt_out(namespace="github.com/imported-owner", origin=OptOutRequest.Origin.IMPORTED)
    reservation = OptOutRequest.Origin.RESERVATION
    _opt_out(repository="github.com/reserved/whole", origin=reservation, reason="reservation:gitattributes")
    partly = _opt_out(namespace="github.com/reserved-partly-holder", origin=reservation)
    exclusion_sources_revoke(request=partly)  # what stays of a path reservation: its files (blobs.parquet)
    ReservedFile.objects.create(
        request=partly,
        repository=repository_ensure(text="github.com/reserved/partly"),
        path="vendor/lib.py",
        blob_id="1" * 40,
        reason="reservation:gitattributes",
        since=timezone.now(),
    )
    call_command("exclude", "the-stack", "github.com/legal/taken-down", "--reason", "court order", stdout=StringIO())
    return the_stack


def _checked(client, query: str = "") -> dict:
    body = json.dumps({"repositories": list(EXPECTED)})
    answer = client.post(f"/api/v1/datasets/the-stack/check/{query}", body, content_type="application/json")
    assert answer.status_code == 200
    return {result["repository"]: result["reasons"] for result in answer.json()["results"]}


def test_the_batch_check_answers_for_every_kind_of_source(client, registry):
    assert _checked(client) == EXPECTED


def test_the_lookup_on_the_home_page_gives_the_checks_answer(registry):
    for canonical, reasons in EXPECTED.items():
        (match,) = [match for match in inventory_lookup(text=canonical).matches if match.dataset.slug == "the-stack"]
        assert (match.excluded, list(match.reasons)) == (bool(reasons), reasons), canonical


def test_the_home_page_says_a_license_excluded_repository_is_excluded(client, registry):
    page = client.get("/", {"q": "https://github.com/copyleft/agpl-server"}).content.decode()
    assert "Excluded</span>" in page and "license:AGPL-3.0-only" in page


def test_the_spawning_endpoint_opts_out_what_the_check_excludes(client, registry):
    token = pipeline_token_issue(name="compat", dataset_slugs=["the-stack"])[1]
    urls = [f"https://{canonical}" for canonical in EXPECTED]
    answer = client.post(
        "/api/v2/query/urls/", "\n".join(urls), content_type="text/plain", HTTP_AUTHORIZATION=f"API {token}"
    )
    opted_out = {entry["url"].removeprefix("https://"): entry["optOut"] for entry in answer.json()["urls"]}
    assert opted_out == {canonical: bool(reasons) for canonical, reasons in EXPECTED.items()}


def test_a_published_release_answers_as_the_live_registry(client, registry):
    release = release_publish(dataset_slug="the-stack")
    assert _checked(client, f"?release={release.version}") == EXPECTED
    assert list(blobs_read(release_folder(release) / "blobs.parquet")) == ["1" * 40]  # the reserved file alone


def test_the_indexed_statement_and_the_querysets_spell_the_same_rule(registry):
    canonicals = set(EXPECTED)
    namespaces = {"github.com/whole-org", "gitlab.com/group/sub", "gitlab.com/group", "github.com/owner"}
    in_sql = sorted(exclusions._reasons_in_sql(registry, canonicals, namespaces))
    assert in_sql == sorted(exclusions._reasons_in_orm(registry, canonicals, namespaces))
    assert ((("gitlab.com/group", "namespace"), "opt-out")) in in_sql


def test_an_exclusion_in_force_for_every_dataset_covers_a_dataset_made_later(client, registry):
    dataset_get_or_create(slug="later")
    body = json.dumps({"repositories": ["github.com/owner/opted-out", "github.com/legal/taken-down"]})
    answer = client.post("/api/v1/datasets/later/check/", body, content_type="application/json").json()
    assert [result["reasons"] for result in answer["results"]] == [["opt-out"], []]
