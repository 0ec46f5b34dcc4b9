"""Files a dataset's policy refuses in a repository it keeps are excluded alone: they reach blobs.parquet with
`license:<SPDX>` and their path, the batch check still answers "not excluded" for the repository, the client's
`filter` drops exactly those files and keeps their neighbours, and a maintainer can keep a directory's files."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audits.file_exclusions import file_exclusions_by_directory
from audits.models import DatasetDecision, FileLabel
from audits.services import decisions_refresh, directory_review_record, directory_review_withdraw, scan_repository
from exclusions.release_files import blob_rows_read
from governance.exceptions import GovernanceError
from governance.models import DatasetRepository
from governance.services import dataset_get_or_create
from releases.publication import release_folder, release_publish
from tests.client_helpers import run
from tests.test_file_labels import MIXED_TREE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept_with_files(make_repository):
    """acme/mixed (MIT, with GPL files) in the-stack's inventory, scanned, decided."""
    dataset = dataset_get_or_create(slug="the-stack")[0]
    outcome = scan_repository(source=str(make_repository("acme/mixed", MIXED_TREE)))
    DatasetRepository.objects.create(dataset=dataset, repository=outcome.repository)
    decisions_refresh(dataset=dataset)
    return DatasetDecision.objects.get(dataset=dataset, repository=outcome.repository)


def _blob(decision, path: str) -> str:
    return FileLabel.objects.get(scan=decision.verdict.scan, path=path).blob_id


GPL_FILES = ["src/gpl_part.c", "tests/gzip/LICENSE", "tests/gzip/deeper/run.sh"]


def test_the_repository_stays_in_and_its_gpl_files_are_excluded_alone(kept_with_files):
    assert kept_with_files.decision == "include"
    assert sorted(kept_with_files.file_exclusions.values_list("path", flat=True)) == GPL_FILES
    assert kept_with_files.reasons[-1]["code"] == "files_excluded"
    assert kept_with_files.reasons[-1]["count"] == 3


def test_file_exclusions_reach_blobs_parquet_with_their_reason_and_path(kept_with_files):
    release = release_publish(dataset_slug="the-stack")
    rows = {row["path"]: row for row in pq.read_table(release_folder(release) / "blobs.parquet").to_pylist()}
    assert sorted(rows) == GPL_FILES
    assert rows["src/gpl_part.c"] == {
        "blob_id": _blob(kept_with_files, "src/gpl_part.c"),
        "reason": "license:GPL-2.0-or-later",
        "path": "src/gpl_part.c",
    }
    assert rows["tests/gzip/deeper/run.sh"]["reason"] == "license:GPL-3.0-only"
    assert release.counts["repositories"] == 0
    assert len(list(blob_rows_read(release_folder(release) / "blobs.parquet"))) == 3


def test_the_batch_check_answers_that_the_repository_is_not_excluded(kept_with_files, client):
    release_publish(dataset_slug="the-stack")
    answer = client.post(
        "/api/v1/datasets/the-stack/check/", {"repositories": ["acme/mixed"]}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert answer.json()["results"][0]["excluded"] is False


def test_the_clients_filter_drops_the_excluded_file_and_keeps_its_neighbours(
    kept_with_files, live_server, live_server_connections_closed, tmp_path, capsys
):
    release_publish(dataset_slug="the-stack")
    assert run("pull", live_server.url, "the-stack", "--dir", tmp_path / "pulled", capsys=capsys)[0] == 0
    paths = ["src/gpl_part.c", "src/main.c", "src/apache_part.c", "tests/gzip/own.sh"]
    shard = pa.table(
        {"repo_name": ["acme/mixed"] * 4, "path": paths, "blob_id": [_blob(kept_with_files, p) for p in paths]}
    )
    pq.write_table(shard, tmp_path / "shard.parquet")
    status, _ = run("filter", tmp_path / "pulled", tmp_path / "shard.parquet", "--output", tmp_path / "out.parquet")
    assert status == 0
    assert pq.read_table(tmp_path / "out.parquet").column("path").to_pylist() == paths[1:]


def test_the_review_page_groups_file_exclusions_by_the_directory_their_license_comes_from(kept_with_files):
    groups = {(g["directory"], g["license"]): g["files"] for g in file_exclusions_by_directory(kept_with_files)}
    assert groups == {("src", "GPL-2.0-or-later"): 1, ("tests/gzip", "GPL-3.0-only"): 2}


def _keep(decision, maintainer, directory: str, license_: str, *, comment: str = "Test scripts, never shipped"):
    return directory_review_record(
        decision_id=decision.pk,
        directory=directory,
        license=license_,
        reason_code="vendored_separate",
        comment=comment,
        reviewer=maintainer,
    )


def test_a_maintainer_keeps_a_directorys_files_and_the_next_release_lists_the_others(kept_with_files, maintainer):
    _keep(kept_with_files, maintainer, "tests/gzip", "GPL-3.0-only")
    release = release_publish(dataset_slug="the-stack")
    rows = pq.read_table(release_folder(release) / "blobs.parquet").to_pylist()
    assert [row["path"] for row in rows] == ["src/gpl_part.c"]


def test_the_review_page_shows_the_directories_and_takes_a_decision(kept_with_files, client, maintainer):
    client.force_login(maintainer)
    page = client.get(f"/review/licenses/{kept_with_files.pk}/")
    assert b"tests/gzip" in page.content and b"Keep these files" in page.content
    answer = client.post(
        f"/review/licenses/{kept_with_files.pk}/directories/",
        {"directory": "src", "license": "GPL-2.0-or-later", "reason_code": "false_positive", "comment": "Not ours"},
    )
    assert answer.status_code == 302
    assert not kept_with_files.file_exclusions.filter(path="src/gpl_part.c", overruled_by__isnull=True).exists()


def test_a_withdrawn_directory_review_excludes_the_files_again(kept_with_files, maintainer):
    review = _keep(kept_with_files, maintainer, "src", "GPL-2.0-or-later")
    directory_review_withdraw(review_id=review.pk)
    assert kept_with_files.file_exclusions.filter(path="src/gpl_part.c", overruled_by__isnull=True).exists()


def test_a_directory_review_needs_a_comment_and_a_directory_with_exclusions(kept_with_files, maintainer):
    with pytest.raises(GovernanceError, match="say why"):
        _keep(kept_with_files, maintainer, "src", "GPL-2.0-or-later", comment=" ")
    with pytest.raises(GovernanceError, match="no file under docs"):
        _keep(kept_with_files, maintainer, "docs", "GPL-2.0-or-later")


def test_on_a_phone_a_maintainer_keeps_a_directorys_files_from_the_review_page(
    kept_with_files, live_server, browser_page, client, maintainer
):
    client.force_login(maintainer)
    session = client.cookies["sessionid"]
    browser_page.context.add_cookies([{"name": "sessionid", "value": session.value, "url": live_server.url}])
    browser_page.set_viewport_size({"width": 390, "height": 844})
    browser_page.goto(f"{live_server.url}/review/licenses/{kept_with_files.pk}/")
    assert browser_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    row = browser_page.locator("tr", has_text="tests/gzip")
    row.get_by_label("Reason").select_option("vendored_separate")
    row.get_by_label("Why they may stay").fill("Test scripts from gzip, never shipped")
    row.get_by_role("button", name="Keep these files").click()
    browser_page.get_by_text("kept by a maintainer").wait_for()
    assert kept_with_files.file_exclusions.filter(directory="tests/gzip", overruled_by__isnull=True).count() == 0
