"""optout/registry.py: the exclusions in force, and the reasons each answers with, as sources come and go."""

import json

import pytest

from exclusions.release_files import repositories_read
from governance.services import dataset_get_or_create, repository_ensure
from optout.models import Exclusion, OptOutRequest
from optout.registry import exclusion_add, exclusion_sources_revoke
from releases.publication import release_folder, release_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def repository():
    dataset_get_or_create(slug="the-stack")
    return repository_ensure(text="github.com/acme/tool")


def request_made(origin: str, token: str) -> OptOutRequest:
    return OptOutRequest.objects.create(state="active", origin=origin, proof_token=token)


def answers(client) -> tuple[list[str], list[str]]:
    """What the live check says of the repository, and what a release published now says."""
    body = json.dumps({"repositories": ["acme/tool"]})
    result = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()
    release = release_publish(dataset_slug="the-stack")
    published = repositories_read(release_folder(release) / "repositories.parquet")
    rows = {row.repository: list(row.reasons) for row in published}
    return result["results"][0]["reasons"], rows.get("github.com/acme/tool", [])


def test_the_check_answers_with_the_reasons_of_live_sources_as_the_release_does(client, repository):
    owner, takedown = request_made("owner", "proof-1"), request_made("administrative", "proof-2")
    exclusion_add(request=owner, repository=repository, reason="opt-out")
    exclusion_add(request=takedown, repository=repository, reason="administrative")
    exclusion_add(request=takedown, repository=repository, reason="administrative")  # again: still once
    assert answers(client) == (["administrative", "opt-out"], ["administrative", "opt-out"])

    exclusion_sources_revoke(request=owner)
    assert answers(client) == (["administrative"], ["administrative"])

    exclusion_sources_revoke(request=takedown)
    exclusion = Exclusion.objects.get(repository=repository)
    assert exclusion.revoked_at is not None and exclusion.reasons == "administrative"  # the last ones, kept
    assert answers(client) == ([], [])

    exclusion_add(request=owner, repository=repository, reason="opt-out")  # in force again
    assert answers(client) == (["opt-out"], ["opt-out"])
