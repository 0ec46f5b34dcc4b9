"""manage.py import_optouts: records of an existing registry become imported requests in force, idempotently."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from governance.services import dataset_get_or_create
from optout.models import ImportedRecord, OptOutRequest, RequestEvent
from tests.import_helpers import AUTHOR, VERSION_1, VERSION_2, export_written, imported, in_force, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_version(tmp_path):
    path = export_written(tmp_path, VERSION_1, extra_lines=["{not json"])
    return path, imported(path)


def test_every_readable_record_is_created_and_every_bad_one_fails_with_its_line(first_version):
    _, summary = first_version
    assert (summary["read"], summary["created"], summary["updated"], summary["unchanged"]) == (8, 4, 0, 0)
    assert [problem["line"] for problem in summary["failed"]] == [4, 5, 7, 8]
    reasons = {problem["line"]: problem["reason"] for problem in summary["failed"]}
    assert "issue 2 again (first at line 2)" in reasons[4]
    assert "contains a space" in reasons[5]
    assert "no issue number" in reasons[7]
    assert reasons[8].startswith("not JSON")


def test_each_record_is_a_request_in_force_with_its_provenance(first_version):
    path, summary = first_version
    record = ImportedRecord.objects.select_related("request").get(source="issues", record_id="2")
    assert record.request.origin == OptOutRequest.Origin.IMPORTED
    assert record.request.state == OptOutRequest.State.ACTIVE
    assert (record.author, record.line, record.file_sha256) == (AUTHOR, 2, summary["file_sha256"])
    assert record.repositories == ["github.com/bob/lib", "github.com/bob/tool"]
    assert in_force("github.com/bob/tool") and in_force("github.com/bob/lib")
    sources = {source.reason for source in record.request.exclusion_sources.all()}
    assert sources == {"opt-out"}


def test_owners_become_github_namespaces_even_when_another_person_filed_them(first_version):
    assert in_force("github.com/alice")
    record = ImportedRecord.objects.get(record_id="3")
    assert (record.author, record.namespaces) == ("carol", ["github.com/dave"])
    assert record.request.scope == OptOutRequest.Scope.NAMESPACE and record.request.namespace == "github.com/dave"
    assert in_force("github.com/dave")


def test_a_record_with_an_unreadable_name_excludes_none_of_its_names(first_version):
    assert not ImportedRecord.objects.filter(record_id="5").exists()
    assert not in_force("github.com/mallory/other")


def test_importing_the_same_file_again_changes_nothing(first_version):
    path, _ = first_version
    before = row_counts()
    summary = imported(path)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 4)
    assert summary["missing"] == [] and len(summary["failed"]) == 4
    assert row_counts() == before


def test_a_newer_version_adds_updates_and_lists_the_missing_record_without_revoking_it(first_version, tmp_path):
    summary = imported(export_written(tmp_path, VERSION_2, name="v2.jsonl"))
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (1, 1, 2)
    assert summary["missing"] == ["6"] and summary["revoked"] == []
    assert in_force("github.com/frank/gone")  # listed, not revoked
    assert in_force("github.com/heidi/app") and in_force("github.com/bob/new")
    assert not in_force("github.com/bob/lib") and in_force("github.com/bob/tool")
    record = ImportedRecord.objects.get(record_id="2")
    assert record.repositories == ["github.com/bob/new", "github.com/bob/tool"]
    kinds = list(RequestEvent.objects.filter(request=record.request).values_list("kind", flat=True))
    assert kinds.count("import_dropped") == 1 and kinds.count("excluded") == 3


def test_revoke_missing_revokes_the_record_the_registry_dropped(first_version, tmp_path):
    path = export_written(tmp_path, VERSION_2, name="v2.jsonl")
    imported(path)
    summary = imported(path, "--revoke-missing")
    assert summary["missing"] == ["6"] and summary["revoked"] == ["6"]
    assert not in_force("github.com/frank/gone")
    record = ImportedRecord.objects.select_related("request").get(record_id="6")
    assert record.revoked_at is not None and record.request.state == OptOutRequest.State.WITHDRAWN
    assert record.request.events.filter(kind="import_revoked").exists()
    assert imported(path, "--revoke-missing")["missing"] == []  # revoked once, not listed again


def test_a_revoked_record_listed_again_is_in_force_again(first_version, tmp_path):
    imported(export_written(tmp_path, VERSION_2, name="v2.jsonl"), "--revoke-missing")
    summary = imported(first_version[0])
    assert summary["updated"] >= 1 and in_force("github.com/frank/gone")
    assert ImportedRecord.objects.get(record_id="6").request.state == OptOutRequest.State.ACTIVE


def test_a_dry_run_reports_the_changes_and_writes_nothing(first_version, tmp_path):
    path = export_written(tmp_path, VERSION_2, name="v2.jsonl")
    before = row_counts()
    summary = imported(path, "--dry-run", "--revoke-missing")
    assert summary["dry_run"] and (summary["created"], summary["updated"]) == (1, 1)
    assert summary["revoked"] == ["6"]
    assert row_counts() == before and in_force("github.com/frank/gone")


def test_records_can_be_limited_to_some_datasets(tmp_path):
    dataset_get_or_create(slug="the-stack")
    dataset_get_or_create(slug="other")
    imported(export_written(tmp_path, VERSION_2), "--dataset", "the-stack")
    request = ImportedRecord.objects.get(record_id="8").request
    assert not request.all_datasets and [dataset.slug for dataset in request.datasets.all()] == ["the-stack"]
    assert request.exclusion_sources.get().exclusion.dataset.slug == "the-stack"


def test_the_summary_is_printed_as_text_with_every_failure(first_version):
    out = StringIO()
    call_command("import_optouts", "issues", str(first_version[0]), "--format", "jsonl-issues", stdout=out)
    text = out.getvalue()
    assert "line 5: failed:" in text
    assert "8 read, 0 created, 0 updated, 4 unchanged, 0 missing, 0 revoked, 4 failed" in text
    assert AUTHOR not in text


def test_the_author_is_in_no_summary(first_version):
    assert AUTHOR not in json.dumps(first_version[1])


def test_a_file_that_cannot_be_read_stops_the_command_with_a_message(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_optouts", "issues", str(tmp_path / "missing.jsonl"), "--format", "urls")
    with pytest.raises(CommandError, match="is a folder"):
        call_command("import_optouts", "issues", str(tmp_path), "--format", "urls")


def test_an_unknown_dataset_or_an_unusable_source_name_is_refused(tmp_path):
    path = export_written(tmp_path, VERSION_2)
    with pytest.raises(CommandError, match="Unknown dataset"):
        call_command("import_optouts", "issues", str(path), "--format", "jsonl-issues", "--dataset", "nope")
    with pytest.raises(CommandError, match="Source name"):
        call_command("import_optouts", "a b", str(path), "--format", "jsonl-issues")


def test_a_line_that_is_not_utf8_fails_alone(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'\xff\xfe{"issue": 1}\n' + json.dumps(VERSION_2[3]).encode() + b"\n")
    summary = imported(path)
    assert summary["created"] == 1 and summary["failed"] == [{"line": 1, "reason": "not UTF-8 text"}]
