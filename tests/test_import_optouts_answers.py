"""Imported exclusions as readers see them: the `urls` format, the check, the lookup, a release, the
maintainers' pages; the author never leaves the maintainers' pages."""

import json

import pytest

from governance.services import dataset_get_or_create
from optout.models import ImportedRecord
from releases.publication import release_folder, release_publish
from tests.import_helpers import AUTHOR, VERSION_2, export_written, imported, in_force

pytestmark = pytest.mark.django_db

URLS = [
    "https://github.com/Psf/Requests",  # 1
    "git@github.com:psf/requests.git",  # 2: the same repository again
    "https://raw.githubusercontent.com/pallets/flask/main/README.md",  # 3: a file of a repository
    "https://gitlab.com/group/sub/project/-/tree/main",  # 4: a subgroup's project
    "ssh://git@git.example.org/team/tool.git",  # 5: a git remote on a self-hosted host
    "https://example.com/images/cat.png",  # 6: a web page, not a repository
    "https://github.com/orgs/acme",  # 7: an organisation's page
    "",  # 8: blank
    "mailto:someone@example.org",  # 9
]


@pytest.fixture
def the_stack():
    return dataset_get_or_create(slug="the-stack")[0]


@pytest.fixture
def issues(tmp_path, the_stack):
    return imported(export_written(tmp_path, VERSION_2))


def test_the_urls_format_reads_every_spelling_and_skips_what_is_not_a_repository(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("\n".join(URLS) + "\n")
    summary = imported(path, source="spawning", file_format="urls")
    assert (summary["read"], summary["created"], summary["failed"]) == (8, 4, [])
    assert [skipped["line"] for skipped in summary["skipped"]] == [2, 6, 7, 9]
    assert "same repository as line 1" in summary["skipped"][0]["reason"]
    assert "not a known forge" in summary["skipped"][1]["reason"]
    records = sorted(ImportedRecord.objects.filter(source="spawning").values_list("record_id", "line"))
    assert records == [
        ("git.example.org/team/tool", 5),
        ("github.com/pallets/flask", 3),
        ("github.com/psf/requests", 1),
        ("gitlab.com/group/sub/project", 4),
    ]
    assert in_force("github.com/pallets/flask")


def test_a_urls_record_keeps_its_id_when_lines_move(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("https://github.com/a/one\nhttps://github.com/a/two\n")
    imported(path, source="spawning", file_format="urls")
    path.write_text("https://github.com/a/new\nhttps://github.com/a/two\n")
    summary = imported(path, source="spawning", file_format="urls")
    assert (summary["created"], summary["unchanged"], summary["missing"]) == (1, 1, ["github.com/a/one"])


def test_the_batch_check_answers_imported_exclusions_with_opt_out_and_no_author(client, issues):
    body = json.dumps({"repositories": ["bob/tool", "alice/anything", "github.com/heidi/app", "nobody/x"]})
    answer = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json")
    assert [result["reasons"] for result in answer.json()["results"]] == [["opt-out"], ["opt-out"], ["opt-out"], []]
    assert AUTHOR not in answer.content.decode()


def test_the_lookup_page_says_excluded_without_the_author(client, issues):
    page = client.get("/", {"q": "https://github.com/bob/tool"}).content.decode()
    assert "Excluded</span>" in page and "opt-out" in page
    assert AUTHOR not in page


def test_a_published_release_lists_imported_exclusions_without_the_author(issues):
    release = release_publish(dataset_slug="the-stack")
    folder = release_folder(release)
    rows = [json.loads(line) for line in (folder / "repositories.jsonl").read_text().splitlines()]
    by_name = {row["repository"]: row for row in rows}
    assert by_name["github.com/bob/tool"]["reasons"] == ["opt-out"]
    assert by_name["github.com/alice"]["scope"] == "namespace"
    for path in folder.iterdir():
        assert AUTHOR.encode() not in path.read_bytes(), path.name


def test_the_review_queue_and_request_page_show_where_an_import_came_from(client, maintainer, issues):
    client.force_login(maintainer)
    record = ImportedRecord.objects.get(record_id="2")
    queue = client.get("/review/requests/", {"state": "active"}).content.decode()
    assert "Imported from issues (record 2)" in queue
    page = client.get(f"/review/requests/{record.request_id}/").content.decode()
    assert "Imported from issues (record 2)" in page
    assert AUTHOR in page  # maintainers only
    assert record.file_sha256 in page


def test_the_admin_filters_requests_by_origin_and_shows_the_author_to_maintainers(admin_client, issues):
    listing = admin_client.get("/admin/optout/optoutrequest/", {"origin__exact": "imported"})
    assert listing.status_code == 200 and "origin" in listing.content.decode()
    record = ImportedRecord.objects.get(record_id="2")
    page = admin_client.get(f"/admin/optout/optoutrequest/{record.request_id}/change/").content.decode()
    assert AUTHOR in page


def test_an_imported_request_has_no_public_status_page(issues):
    record = ImportedRecord.objects.select_related("request").get(record_id="2")
    assert record.request.status_token_hash is None
