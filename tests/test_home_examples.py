"""The home page offers repositories of the inventory to try the lookup with: one excluded, one not."""

import pytest

from governance.models import Dataset, DatasetRepository
from optout.services import exclusion_administrative
from releases.selectors import lookup_examples
from tests.review_helpers import repository_named, verdict_written

pytestmark = pytest.mark.django_db


def in_inventory(dataset, *canonicals):
    for canonical in canonicals:
        DatasetRepository.objects.create(dataset=dataset, repository=repository_named(canonical))


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


def test_the_home_page_links_an_excluded_and_a_kept_repository_to_the_lookup(client, dataset):
    in_inventory(dataset, "github.com/acme/kept", "github.com/acme/taken-down", "github.com/zeta/kept-too")
    exclusion_administrative(
        dataset_slug=None, targets=["github.com/acme/taken-down"], namespace=False, reason="Legal takedown"
    )

    page = client.get("/").content.decode()

    assert 'href="/?q=github.com/acme/taken-down"' in page and 'href="/?q=github.com/acme/kept"' in page
    assert page.index("github.com/acme/taken-down</code></a> (excluded)") < page.index("github.com/acme/kept</code>")
    assert "excluded" in client.get("/?q=github.com/acme/taken-down").content.decode().split("lookup-result")[1]


def test_a_repository_excluded_for_its_license_is_not_offered_as_kept(dataset):
    in_inventory(dataset, "github.com/acme/a-copyleft", "github.com/acme/b-permissive")
    verdict_written(
        DatasetRepository.objects.get(repository__canonical="github.com/acme/a-copyleft").repository,
        effective="GPL-3.0-only",
    )

    examples = lookup_examples()

    # The copyleft one comes first by name, and is what a lookup shows as excluded (for its license).
    assert [(example.canonical, example.excluded) for example in examples] == [("github.com/acme/b-permissive", False)]


def test_only_what_exists_is_offered(client, dataset):
    assert lookup_examples() == []
    assert "lookup-examples" not in client.get("/").content.decode()

    in_inventory(dataset, "github.com/acme/kept")

    assert [(example.canonical, example.excluded) for example in lookup_examples()] == [("github.com/acme/kept", False)]
    assert "(excluded)" not in client.get("/").content.decode()


def test_the_examples_are_found_once_per_cache_period(client, dataset, settings, django_assert_num_queries):
    settings.TRANSPARENCY_CACHE_SECONDS = 300
    in_inventory(dataset, "github.com/acme/kept")
    first = client.get("/").content.decode()
    assert 'href="/?q=github.com/acme/kept"' in first

    in_inventory(dataset, "github.com/aaa/newer")
    with django_assert_num_queries(1):  # the datasets table; the examples come from the cache
        assert client.get("/").content.decode().count("lookup-examples") == first.count("lookup-examples")
