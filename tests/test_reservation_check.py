"""optout/services/reservations.py: reservations read from real repositories become exclusions, and are revoked."""

from unittest import mock

import pytest

import optout.services.reservations
from governance.git import git_run, local_repository_commit
from governance.identity import parse_repository
from governance.services import dataset_get_or_create, repository_from_ref
from optout.models import Exclusion, OptOutRequest, RequestEvent, ReservationCheck, ReservedFile
from optout.services import reservation_check

pytestmark = pytest.mark.django_db

WHOLE = {".gitattributes": "* ai-training=false\n", "src/app.py": "print('hi')\n"}
VENDORED = {
    ".gitattributes": "vendor/** ai-training=false\n",
    "vendor/lib/a.py": "a = 1\n",
    "vendor/b.py": "b = 2\n",
    "src/app.py": "print('hi')\n",
}


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


def registered(path):
    return repository_from_ref(ref=parse_repository(path.as_uri()))


def blob_of(path, name):
    return git_run("rev-parse", f"HEAD:{name}", cwd=path).decode().strip()


def reasons_in_force(repository):
    return [exclusion.reasons for exclusion in Exclusion.objects.in_force().filter(repository=repository)]


def reserved(repository):
    return {row.path: row.blob_id for row in ReservedFile.objects.in_force().filter(repository=repository)}


def event_kinds(check):
    return list(RequestEvent.objects.filter(request=check.request).values_list("kind", flat=True))


def test_a_whole_repository_reservation_excludes_it_and_the_batch_check_answers_so(make_repository, dataset, client):
    path = make_repository("acme/lib", WHOLE)
    repository = registered(path)
    check = reservation_check(repository_id=repository.pk)
    assert reasons_in_force(repository) == ["reservation:gitattributes"]
    assert check.request.origin == OptOutRequest.Origin.RESERVATION
    assert check.request.state == OptOutRequest.State.ACTIVE and check.request.all_datasets
    assert check.evidence["reservations"] == [
        {"kind": "gitattributes", "file": ".gitattributes", "line": 1, "text": "* ai-training=false", "paths": []}
    ]
    body = {"repositories": [path.as_uri()]}
    results = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert results[0]["excluded"] is True and results[0]["reasons"] == ["reservation:gitattributes"]


def test_ai_txt_disallowing_everything_reserves_the_whole_repository(make_repository):
    repository = registered(make_repository("acme/lib", {"ai.txt": "User-Agent: *\nDisallow: /\n"}))
    reservation_check(repository_id=repository.pk)
    assert reasons_in_force(repository) == ["reservation:ai-txt"]


def test_a_path_reservation_reserves_exactly_the_covered_files_and_not_the_repository(make_repository):
    path = make_repository("acme/lib", VENDORED)
    repository = registered(path)
    check = reservation_check(repository_id=repository.pk)
    assert reserved(repository) == {
        "vendor/b.py": blob_of(path, "vendor/b.py"),
        "vendor/lib/a.py": blob_of(path, "vendor/lib/a.py"),
    }
    assert set(ReservedFile.objects.values_list("reason", flat=True)) == {"reservation:gitattributes"}
    assert reasons_in_force(repository) == []
    assert check.evidence["reserved_files"] == 2 and "reservation-files" in event_kinds(check)


def test_the_reservation_removed_in_a_later_commit_is_revoked_with_an_event(make_repository):
    path = make_repository("acme/lib", WHOLE)
    repository = registered(path)
    first = reservation_check(repository_id=repository.pk)
    (path / ".gitattributes").unlink()
    local_repository_commit(path, {}, message="no reservation any more")
    second = reservation_check(repository_id=repository.pk)
    assert reasons_in_force(repository) == []
    assert Exclusion.objects.get(repository=repository).revoked_at is not None
    assert second.request == first.request and second.evidence["reservations"] == []
    assert event_kinds(second)[-1] == "reservation-revoked"


def test_reserved_files_no_longer_covered_are_revoked_and_new_ones_added(make_repository):
    path = make_repository("acme/lib", VENDORED)
    repository = registered(path)
    reservation_check(repository_id=repository.pk)
    (path / "vendor" / "b.py").unlink()
    local_repository_commit(path, {"vendor/lib/a.py": "a = 2\n", "vendor/c.py": "c = 3\n"}, message="vendor moves")
    check = reservation_check(repository_id=repository.pk)
    assert reserved(repository) == {
        "vendor/lib/a.py": blob_of(path, "vendor/lib/a.py"),
        "vendor/c.py": blob_of(path, "vendor/c.py"),
    }
    assert ReservedFile.objects.filter(repository=repository, revoked_at__isnull=False).count() == 2
    assert event_kinds(check)[-2:] == ["reservation-files-revoked", "reservation-files"]


def test_a_whole_reservation_narrowed_to_a_path_lifts_the_exclusion_and_reserves_the_files(make_repository):
    path = make_repository("acme/lib", {**VENDORED, ".gitattributes": "* ai-training=false\n"})
    repository = registered(path)
    reservation_check(repository_id=repository.pk)
    local_repository_commit(path, {".gitattributes": "vendor/** ai-training=false\n"}, message="narrower")
    reservation_check(repository_id=repository.pk)
    assert reasons_in_force(repository) == []
    assert set(reserved(repository)) == {"vendor/b.py", "vendor/lib/a.py"}


def test_a_malformed_file_is_evidence_and_excludes_nothing(make_repository):
    repository = registered(make_repository("acme/lib", {"tdmrep.json": '[{"location": "/", "tdm-reservation": 7}]'}))
    check = reservation_check(repository_id=repository.pk)
    assert [(each["kind"], each["file"]) for each in check.evidence["malformed"]] == [("tdmrep", "tdmrep.json")]
    assert check.request is None and not Exclusion.objects.exists() and not ReservedFile.objects.exists()
    assert not OptOutRequest.objects.exists() and check.error == ""


def test_a_file_that_is_not_json_at_all_is_malformed_too(make_repository):
    repository = registered(make_repository("acme/lib", {".well-known/tdmrep.json": "{not json"}))
    check = reservation_check(repository_id=repository.pk)
    assert check.evidence["malformed"][0]["file"] == ".well-known/tdmrep.json"
    assert not Exclusion.objects.exists()


def test_a_reservation_file_over_the_size_limit_is_evidence_only(make_repository, monkeypatch):
    monkeypatch.setattr(optout.services.reservations, "MAX_FILE_BYTES", 10)
    repository = registered(make_repository("acme/lib", WHOLE))
    check = reservation_check(repository_id=repository.pk)
    assert check.evidence["malformed"][0]["file"] == ".gitattributes"
    assert "not read" in check.evidence["malformed"][0]["error"] and not Exclusion.objects.exists()


def test_a_repository_without_reservations_gets_no_request(make_repository):
    repository = registered(make_repository("acme/lib", {"README.md": "hi\n"}))
    check = reservation_check(repository_id=repository.pk)
    assert check.request is None and check.evidence["reservations"] == [] and check.next_check_at > check.checked_at


def test_an_unchanged_head_moves_only_the_dates_without_a_fetch(make_repository):
    repository = registered(make_repository("acme/lib", WHOLE))
    first = reservation_check(repository_id=repository.pk)
    with (
        mock.patch.object(
            optout.services.reservations, "root_files_fetch", autospec=True, side_effect=AssertionError("fetched")
        ) as fetch,
        mock.patch.object(optout.services.reservations, "tree_blobs_list", autospec=True) as listing,
    ):
        second = reservation_check(repository_id=repository.pk)
    fetch.assert_not_called()
    listing.assert_not_called()
    assert second.checked_at > first.checked_at and second.read_at == first.read_at
    assert second.evidence == first.evidence and reasons_in_force(repository) == ["reservation:gitattributes"]


def test_checking_twice_the_same_head_changes_nothing(make_repository):
    path = make_repository("acme/lib", {**VENDORED, "ai.txt": "User-Agent: *\nDisallow: /\n"})
    repository = registered(path)
    reservation_check(repository_id=repository.pk)
    ReservationCheck.objects.update(commit="")  # as if read for the first time: the full path runs again
    check = reservation_check(repository_id=repository.pk)
    assert ReservedFile.objects.count() == 2 and OptOutRequest.objects.count() == 1
    assert Exclusion.objects.get().sources.count() == 1 and reasons_in_force(repository) == ["reservation:ai-txt"]
    assert event_kinds(check) == ["reservation", "reservation-excluded", "reservation-files"]


def test_an_unreachable_repository_keeps_its_error_and_revokes_nothing(make_repository):
    path = make_repository(
        "acme/lib", {**VENDORED, ".gitattributes": "* ai-training=false\nvendor/** ai-training=false\n"}
    )
    repository = registered(path)
    first = reservation_check(repository_id=repository.pk)
    path.rename(path.with_name("moved"))
    second = reservation_check(repository_id=repository.pk)
    assert "could not be read" in second.error and second.failures == 1
    assert second.commit == first.commit and second.evidence == first.evidence
    assert reasons_in_force(repository) == ["reservation:gitattributes"] and len(reserved(repository)) == 2
    assert event_kinds(second) == event_kinds(first)


def test_a_failed_tree_listing_revokes_nothing_and_is_retried(make_repository):
    path = make_repository("acme/lib", VENDORED)
    repository = registered(path)
    reservation_check(repository_id=repository.pk)
    head = local_repository_commit(path, {"vendor/d.py": "d = 4\n"}, message="more vendored code")
    with mock.patch.object(
        optout.services.reservations,
        "tree_blobs_list",
        autospec=True,
        side_effect=optout.services.reservations.GitError("the host could not be reached"),
    ):
        failed = reservation_check(repository_id=repository.pk)
    assert failed.error and failed.commit != head and len(reserved(repository)) == 2
    assert reservation_check(repository_id=repository.pk).error == "" and len(reserved(repository)) == 3


def test_maintainers_see_the_evidence_and_the_reservation_request_history_in_the_admin(
    make_repository, client, maintainer
):
    repository = registered(make_repository("acme/lib", {**VENDORED, "tdmrep.json": "{not json"}))
    check = reservation_check(repository_id=repository.pk)
    client.force_login(maintainer)
    listing = client.get("/admin/optout/reservationcheck/", {"q": "acme/lib"}).content.decode()
    assert "1, 1" in listing
    page = client.get(f"/admin/optout/reservationcheck/{check.pk}/change/").content.decode()
    assert "vendor/** ai-training=false" in page and "tdmrep.json" in page
    assert f"/admin/optout/optoutrequest/{check.request_id}/change/" in page
    history = client.get(f"/admin/optout/optoutrequest/{check.request_id}/change/").content.decode()
    assert "vendor/lib/a.py" in history and "reservation-files" in history
    assert client.post(f"/admin/optout/reservationcheck/{check.pk}/change/", {"error": "x"}).status_code == 403
