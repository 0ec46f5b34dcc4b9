"""What an owner's status page says happens next: the next release, the releases and builds carrying the exclusion."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.selectors import release_next_due, releases_carrying
from governance.services import dataset_get_or_create
from optout import services
from optout.models import Exclusion
from optout.selectors import request_outlook
from releases.publication import build_report_record, release_publish
from tests.optout_helpers import commit_proof, file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


@pytest.fixture
def excluded(dataset, make_repository):
    """A request whose repository is proven and excluded, with its status token."""
    path = make_repository("dana/parser", {"parser.py": "def parse(): ...\n"})
    confirmation = file_and_confirm(repositories=[path.as_uri()])
    commit_proof(make_repository, "dana/parser", confirmation.request.proof_token)
    services.optout_request_verify_now(request=confirmation.request)
    confirmation.request.refresh_from_db()
    assert confirmation.request.state == "active"
    return confirmation


def status_page(client, confirmation) -> str:
    return client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()


def test_a_scheduled_dataset_is_next_due_one_period_after_its_last_release(dataset):
    dataset.publish_every_hours = 24
    dataset.save()
    assert release_next_due(dataset=dataset) <= timezone.now()  # never published: due now
    release = release_publish(dataset_slug="the-stack")
    assert release_next_due(dataset=dataset) == release.created_at + timedelta(hours=24)


def test_a_dataset_without_a_schedule_has_no_next_release_due(dataset):
    release_publish(dataset_slug="the-stack")
    assert release_next_due(dataset=dataset) is None


def test_the_page_says_when_the_next_scheduled_release_is_due(client, dataset, excluded):
    dataset.publish_every_hours = 6
    dataset.save()
    release = release_publish(dataset_slug="the-stack")
    due = release.created_at + timedelta(hours=6)
    page = status_page(client, excluded)
    assert f'Next release due <time datetime="{due.isoformat()}">{due:%Y-%m-%d %H:%M} UTC</time>' in page
    assert "(one every 6 hours)" in page


def test_without_a_schedule_the_page_names_the_maintainers_and_the_last_release(client, dataset, excluded):
    assert "Releases are published by the maintainers, on no schedule; none has been published yet." in (
        status_page(client, excluded)
    )
    release = release_publish(dataset_slug="the-stack")
    assert f'the last one is release 1, published <time datetime="{release.created_at.isoformat()}">' in (
        status_page(client, excluded)
    )


def test_releases_carrying_the_exclusion_are_those_listing_it_with_a_link_to_their_manifest(client, dataset, excluded):
    assert "No published release carries it yet: the next one will." in status_page(client, excluded)
    release_publish(dataset_slug="the-stack")
    release_publish(dataset_slug="the-stack")
    page = status_page(client, excluded)
    assert "Excluded from releases " in page
    for version in (1, 2):
        manifest = f"/api/v1/datasets/the-stack/releases/{version}/manifest.json"
        assert f'<a href="{manifest}">{version}</a>' in page
        assert json.loads(b"".join(client.get(manifest).streaming_content))["version"] == version


def test_a_release_frozen_after_the_exclusion_but_not_listing_it_does_not_carry_it(dataset, excluded):
    exclusion = Exclusion.objects.get()
    Exclusion.objects.filter(pk=exclusion.pk).update(revoked_at=timezone.now(), reasons="")
    unlisting = release_publish(dataset_slug="the-stack")
    # As if the exclusion's write had committed only after this release read the registry.
    Exclusion.objects.filter(pk=exclusion.pk).update(revoked_at=None, reasons="opt-out", since=unlisting.frozen_at)
    listing = release_publish(dataset_slug="the-stack")

    carrying = releases_carrying(dataset=dataset, targets={(exclusion.target, "repository")}, since=exclusion.since)
    assert list(carrying) == [listing]


def test_only_the_builds_that_applied_a_carrying_release_are_listed(client, dataset, excluded):
    exclusion = Exclusion.objects.get()
    Exclusion.objects.filter(pk=exclusion.pk).update(revoked_at=timezone.now(), reasons="")
    before = release_publish(dataset_slug="the-stack")
    Exclusion.objects.filter(pk=exclusion.pk).update(revoked_at=None, reasons="opt-out", since=timezone.now())
    carrying = release_publish(dataset_slug="the-stack")
    build_report_record(dataset=dataset, version=before.version, build_id="nightly-1")
    build_report_record(dataset=dataset, version=carrying.version, build_id="nightly-2")

    [outlook] = request_outlook(request=excluded.request)
    assert [build.build_id for build in outlook.builds] == ["nightly-2"]
    page = status_page(client, excluded)
    assert "Applied by build <code>nightly-2</code> (release 2," in page and "nightly-1" not in page


def test_a_long_run_of_releases_lists_the_latest_and_counts_the_earlier_ones(client, dataset, excluded):
    for _ in range(12):
        release_publish(dataset_slug="the-stack")
    [outlook] = request_outlook(request=excluded.request)
    assert [release.version for release in outlook.carrying] == list(range(12, 2, -1))
    assert outlook.carrying_count == 12 and outlook.first_carrying.version == 1
    assert "and 2 earlier ones back to release 1." in status_page(client, excluded)


def test_a_request_not_excluded_yet_has_no_outlook(dataset, make_repository):
    confirmation = file_and_confirm(repositories=[make_repository("w/r", {"a": "1"}).as_uri()])
    release_publish(dataset_slug="the-stack")
    assert request_outlook(request=confirmation.request) == []


def test_the_poll_of_the_page_script_reads_no_release(client, dataset, excluded):
    release_publish(dataset_slug="the-stack")
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/opt-out/r/{excluded.status_token}/", {"format": "json"})
    assert queries.captured_queries and not any('"governance_release"' in q["sql"] for q in queries.captured_queries)
