"""Fixtures of the client tests: a live portal with release 1, and that release pulled."""

import pytest

from governance.models import Repository, RepositoryBlob
from governance.services import dataset_get_or_create
from releases.publication import release_publish
from tests.client_helpers import OWN_BLOB, exclude, run


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


@pytest.fixture
def portal(live_server, live_server_connections_closed, dataset):
    """The live portal's address, with release 1: a repository (with a blob), a GitHub owner, a GitLab group."""
    exclude("github.com/opted/out")
    exclude("github.com/gone-owner", namespace=True)
    exclude("gitlab.com/group", namespace=True)
    RepositoryBlob.objects.create(
        repository=Repository.objects.get(canonical="github.com/opted/out"), blob_id=OWN_BLOB, size=10
    )
    release_publish(dataset_slug="the-stack")
    return live_server.url


@pytest.fixture
def pulled(portal, tmp_path, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    return directory
