"""The transparency report counts imported records (one bar per registry) and reservations found in
repositories apart from owners' proofs; a record's author never reaches it."""

import json

import pytest

from governance.services import dataset_get_or_create
from optout.models import OptOutRequest
from tests.import_helpers import AUTHOR, VERSION_1, export_written, imported

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(client, tmp_path, settings):
    settings.TRANSPARENCY_CACHE_SECONDS = 0
    dataset_get_or_create(slug="the-stack")
    imported(export_written(tmp_path, VERSION_1), source="issues-registry")
    OptOutRequest.objects.create(
        origin=OptOutRequest.Origin.RESERVATION,
        state=OptOutRequest.State.ACTIVE,
        proof_token="reservation-test",
        verified_at="2026-11-30T12:00:00Z",
    )
    return client.get("/transparency/the-stack/verification.json").content.decode()


def test_imported_records_have_a_bar_of_their_own_named_after_the_registry(report):
    rows = {row["method"]: (row["label"], row["requests"]) for row in json.loads(report)["rows"]}
    assert rows["imported:issues-registry"] == ("Imported from issues-registry", 4)
    assert rows["reservation"] == ("Reservation found in the repository", 1)
    assert rows["proof_automatic"][1] == rows["administrative"][1] == 0


def test_no_author_of_an_imported_record_is_in_the_report(report, client):
    assert AUTHOR not in report and "alice" not in report
    assert AUTHOR not in client.get("/transparency/the-stack/").content.decode()
