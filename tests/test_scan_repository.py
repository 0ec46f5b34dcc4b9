"""manage.py scan_repository: the real scancode on real git repositories built from scancode's own license texts.

Expected verdicts live in tests/data/license_verdicts.json; `REGENERATE_TEST_DATA=1` rewrites it
from what the code says now, to be reviewed in the diff.
"""

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audits import scancode
from audits.models import BlobFinding, DatasetDecision, Scan, Verdict
from audits.services import dataset_policy_changed
from governance.git import local_repository_commit
from governance.models import Dataset, DatasetRepository, Repository
from tests.audit_repositories import CASES, COPYRIGHT, PYTHON_MODULE

pytestmark = pytest.mark.django_db

VERDICTS_FILE = Path(__file__).parent / "data" / "license_verdicts.json"
REGENERATE = os.environ.get("REGENERATE_TEST_DATA") == "1"

# A dataset policy unlike the default one: MIT and weak copyleft only, and a human looks at unlicensed code.
# A policy of an explicit list alone, as datasets made before categories keep.
DATASET_POLICY = {
    "slug": "mit-and-lgpl",
    "allowed_categories": [],
    "allowed_licenses": ["MIT", "LGPL-2.1-only"],
    "no_license": "needs_review",
}


def scan_command(*arguments: str) -> tuple[list[dict], int]:
    """Run `scan_repository --json` in this process: its JSON lines and its exit status."""
    out = StringIO()
    status = 0
    try:
        call_command("scan_repository", *arguments, "--json", stdout=out, stderr=StringIO())
    except SystemExit as exit_:
        status = exit_.code
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()], status


def scan_one(path: Path, *arguments: str) -> dict:
    reports, status = scan_command(str(path), *arguments)
    assert status == 0, reports
    assert len(reports) == 1
    return reports[0]


def expected_shape(report: dict) -> dict:
    """The part of a report a case's expectation fixes: what it is, and why, without paths or counts."""
    return {
        "classification": report["classification"],
        "declared_license": report["declared_license"],
        "effective_license": report["effective_license"],
        "decisions": report["decisions"],
        "reasons": [
            {key: reason[key] for key in ("code", "file", "license") if reason.get(key)} for reason in report["reasons"]
        ],
        "notes": [note["code"] for note in report["notes"]],
    }


@pytest.fixture
def dataset_policy():
    return Dataset.objects.create(name="MIT and LGPL", **DATASET_POLICY)


def expected_verdicts() -> dict:
    if not VERDICTS_FILE.exists():
        return {}
    return json.loads(VERDICTS_FILE.read_text())


@pytest.mark.parametrize("case", list(CASES))
def test_scan_repository_gives_the_expected_verdict(case, tmp_path, dataset_policy):
    path = tmp_path / case
    commit = CASES[case](path)

    report = scan_one(path, "--dataset", dataset_policy.slug)

    assert report["commit"] == commit
    assert report["repository"] == Repository.objects.get().canonical
    assert report["scanner_version"] == scancode.scanner_version()
    assert report["files_scanned"] + report["files_reused"] >= 1
    assert set(report["decisions"]) == {"default", dataset_policy.slug}
    actual = expected_shape(report)
    if REGENERATE:
        verdicts = expected_verdicts()
        verdicts[case] = actual
        VERDICTS_FILE.parent.mkdir(exist_ok=True)
        ordered = {name: verdicts[name] for name in CASES if name in verdicts}
        VERDICTS_FILE.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")
    expected = expected_verdicts().get(case)
    assert expected is not None, f"no expectation for {case}; run with REGENERATE_TEST_DATA=1 and review the diff"
    assert actual == expected


def test_every_case_has_an_expectation_and_no_expectation_is_left_over():
    assert set(expected_verdicts()) == set(CASES)


def test_a_repeated_scan_of_an_unchanged_repository_reuses_its_verdict(tmp_path):
    path = tmp_path / "mit"
    CASES["mit"](path)
    first = scan_one(path)
    assert first["reused_verdict"] is False and first["files_scanned"] == 2

    again = scan_one(path)

    assert again["reused_verdict"] is True
    assert again["commit"] == first["commit"]
    assert Scan.objects.count() == 1 and Verdict.objects.count() == 1


def test_a_new_commit_scans_only_the_blob_that_changed(tmp_path):
    path = tmp_path / "mit"
    CASES["mit"](path)
    first = scan_one(path, "--deep")
    assert (first["files_total"], first["files_scanned"], first["files_reused"]) == (3, 3, 0)

    changed = local_repository_commit(
        path, {"src/greet.py": PYTHON_MODULE.replace("Hello", "Hi")}, message="Shorter greeting"
    )
    second = scan_one(path, "--deep")

    assert second["reused_verdict"] is False and second["commit"] == changed
    assert (second["files_scanned"], second["files_reused"]) == (1, 2)
    assert second["classification"] == "permissive" and second["decisions"] == {"default": "include"}


def _project(size: int) -> dict[str, str]:
    files = {"LICENSE": COPYRIGHT + scancode.license_text("bsd-new"), "README.md": "# project\n\nTools.\n"}
    for number in range(size):
        files[f"src/module_{number}.py"] = f"VALUE = {number}\n\n\ndef value() -> int:\n    return VALUE * 2\n"
    return files


def test_a_fork_scanned_deep_reuses_the_blobs_scanned_for_the_original(tmp_path):
    original_files = _project(6)
    local_repository_commit(tmp_path / "upstream" / "tool", original_files, message="Initial commit")
    original = scan_one(tmp_path / "upstream" / "tool", "--deep")
    scanned = len(original_files)
    assert (original["files_total"], original["files_scanned"]) == (scanned, scanned)
    fork_files = {**original_files, "src/module_3.py": "VALUE = 33\n"}
    local_repository_commit(tmp_path / "forker" / "tool", fork_files, message="Fork with a change")
    blobs_before = BlobFinding.objects.count()

    fork = scan_one(tmp_path / "forker" / "tool", "--deep")

    assert fork["repository"] != original["repository"] and fork["reused_verdict"] is False
    assert fork["files_reused"] >= scanned - 1
    assert fork["files_scanned"] == 1
    assert BlobFinding.objects.count() == blobs_before + 1
    assert (fork["classification"], fork["declared_license"]) == ("permissive", "BSD-3-Clause")


def test_a_source_that_cannot_be_read_gets_an_error_line_and_the_others_still_run(tmp_path):
    CASES["mit"](tmp_path / "good")
    not_a_repository = tmp_path / "plain-folder"
    not_a_repository.mkdir()
    (not_a_repository / "LICENSE").write_text("MIT\n")
    missing = tmp_path / "missing"

    reports, status = scan_command(str(missing), str(not_a_repository), str(tmp_path / "good"))

    assert status == 1
    assert len(reports) == 3
    missing_line, folder_line, good_line = reports
    assert missing_line["source"] == str(missing) and str(missing) in missing_line["error"]
    assert folder_line["source"] == str(not_a_repository) and folder_line["error"]
    assert good_line["classification"] == "permissive" and good_line["decisions"] == {"default": "include"}


def test_exit_status_is_zero_when_every_source_completed(tmp_path):
    CASES["mit"](tmp_path / "a")
    CASES["bsd-3-clause"](tmp_path / "b")

    reports, status = scan_command(str(tmp_path / "a"), str(tmp_path / "b"))

    assert status == 0
    assert [report["declared_license"] for report in reports] == ["MIT", "BSD-3-Clause"]


def test_dataset_option_adds_that_datasets_decision(tmp_path, dataset_policy):
    CASES["apache-2.0"](tmp_path / "apache")

    without = scan_one(tmp_path / "apache")
    with_dataset = scan_one(tmp_path / "apache", "--dataset", dataset_policy.slug)

    assert without["decisions"] == {"default": "include"}
    assert with_dataset["decisions"] == {"default": "include", dataset_policy.slug: "exclude"}


def test_an_unknown_dataset_is_refused_before_anything_is_scanned(tmp_path):
    CASES["mit"](tmp_path / "mit")

    with pytest.raises(CommandError, match="no dataset 'nope'"):
        call_command("scan_repository", str(tmp_path / "mit"), "--dataset", "nope", "--json", stdout=StringIO())

    assert not Scan.objects.exists()


def test_changing_a_datasets_policy_reclassifies_stored_verdicts_without_a_new_scan(tmp_path, dataset_policy):
    CASES["apache-2.0"](tmp_path / "apache")
    CASES["no-license"](tmp_path / "scripts")
    for name in ["apache", "scripts"]:
        scan_one(tmp_path / name)
    for repository in Repository.objects.all():
        DatasetRepository.objects.create(dataset=dataset_policy, repository=repository)
    dataset_policy_changed(dataset=dataset_policy)

    def decisions() -> dict[str, str]:
        return {
            Path(decision.repository.canonical).name: decision.decision
            for decision in DatasetDecision.objects.filter(dataset=dataset_policy).select_related("repository")
        }

    assert decisions() == {"apache": "exclude", "scripts": "needs_review"}
    scans = Scan.objects.count()

    dataset_policy.allowed_licenses = ["MIT", "Apache-2.0"]
    dataset_policy.no_license = "exclude"
    dataset_policy.save()
    dataset_policy_changed(dataset=dataset_policy)

    assert decisions() == {"apache": "include", "scripts": "exclude"}
    assert Scan.objects.count() == scans and Verdict.objects.count() == 2
    # The command reports the stored decision, with the same verdict.
    report = scan_one(tmp_path / "apache", "--dataset", dataset_policy.slug)
    assert report["reused_verdict"] is True and report["decisions"][dataset_policy.slug] == "include"


def _long_license_file() -> str:
    # The MIT text, then some 200 kB of prose scancode must read through.
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "tempor"]
    lines = [" ".join(words[(row + column) % len(words)] for column in range(12)) for row in range(3_000)]
    return COPYRIGHT + scancode.license_text("mit") + "\n" + "\n".join(lines) + "\n"


@pytest.fixture
def index_loaded():
    """The license index loaded before a tiny time limit applies: an alarm that went off while scancode
    loads it makes scancode take its cache for corrupt and rebuild it (minutes), in place."""
    scancode.index_load()


def test_a_key_file_cut_short_by_the_time_limit_needs_review(tmp_path, settings, index_loaded):
    settings.AUDITS_FILE_TIMEOUT_SECONDS = 0.05
    local_repository_commit(tmp_path / "slow", {"LICENSE": _long_license_file()}, message="Initial commit")

    report = scan_one(tmp_path / "slow")

    assert report["decisions"] == {"default": "needs_review"}
    assert {"code": "timed_out", "file": "LICENSE"} in [
        {key: reason[key] for key in ("code", "file") if key in reason} for reason in report["reasons"]
    ]
    assert BlobFinding.objects.get().timed_out is True


def test_file_scan_reports_a_timeout(tmp_path, index_loaded):
    location = tmp_path / "LICENSE"
    location.write_text(_long_license_file())

    finding = scancode.file_scan(location, timeout=0.01)

    assert finding.timed_out is True
    assert finding.error == ""


def test_files_over_the_size_cap_are_skipped_without_failing_the_scan(tmp_path, settings):
    settings.AUDITS_MAX_FILE_BYTES = 100_000
    notice = "/* SPDX-License-Identifier: GPL-2.0-only */\n"
    path = tmp_path / "big-files"
    local_repository_commit(
        path,
        {
            "LICENSE": scancode.license_text("mit"),
            # Over the cap, and carrying a notice phrase that git grep would look for.
            "data/huge.c": notice + "int x;\n" * 30_000,
            "src/small.c": "int y;\n",
        },
        message="big",
    )
    report = scan_one(path)
    assert report["files_skipped"]["too_large"] == 1
    assert report["effective_license"] == "MIT" and report["decisions"]["default"] == "include"


def test_a_finding_cut_short_by_a_shorter_time_limit_is_scanned_again(tmp_path, settings, index_loaded):
    path = tmp_path / "retimed"
    local_repository_commit(path, {"LICENSE": scancode.license_text("mit")}, message="one")
    first = scan_one(path)
    BlobFinding.objects.update(timed_out=True, seconds=0.5, license_expression="", spdx_expression="", detections=[])
    Verdict.objects.all().delete()  # so the unchanged head does not keep the old verdict
    again = scan_one(path)
    assert first["files_scanned"] == again["files_scanned"] == 1
    assert again["effective_license"] == "MIT"
    assert BlobFinding.objects.get().timed_out is False


def test_a_vendored_license_file_with_a_txt_suffix_governs_its_directory_not_noise(tmp_path):
    path = tmp_path / "mit-vendoring-gpl-license-txt"
    local_repository_commit(
        path,
        {
            "LICENSE": COPYRIGHT + scancode.license_text("mit"),
            "third_party/getopt/COPYING.txt": scancode.license_text("gpl-2.0"),
            "main.py": PYTHON_MODULE,
        },
        message="Initial commit",
    )

    report = scan_one(path)

    assert report["decisions"] == {"default": "include"}
    assert [(reason["code"], reason.get("count")) for reason in report["reasons"]] == [
        ("license_allowed", None),
        ("files_excluded", 1),
    ]


def test_a_scan_of_another_ref_keeps_the_head_verdict_in_force(tmp_path, dataset_policy, client, maintainer):
    from audits.models import RepositoryAudit
    from governance.git import git_run

    path = tmp_path / "relicensed"
    CASES["apache-2.0"](path)
    git_run("tag", "v1.0", cwd=path)
    CASES["mit"](path)  # the head: MIT since
    head = scan_one(path, "--dataset", dataset_policy.slug)
    repository = Repository.objects.get(canonical=head["repository"])
    DatasetRepository.objects.create(dataset=dataset_policy, repository=repository)
    dataset_policy_changed(dataset=dataset_policy)

    old = scan_one(path, "--ref", "v1.0")

    assert old["effective_license"] == "Apache-2.0" and old["in_force"] is False
    assert old["decisions"][dataset_policy.slug] == "exclude"  # what this verdict would bring, not the stored one
    in_force = RepositoryAudit.objects.get(repository=repository).verdict
    assert in_force.effective_license == "MIT" and in_force.commit == head["commit"]
    decision = DatasetDecision.objects.get(dataset=dataset_policy, repository=repository)
    assert decision.decision == "include" and decision.verdict_id == in_force.pk
    client.force_login(maintainer)
    page = client.get(f"/review/scans/{Scan.objects.get(ref='v1.0').pk}/").content.decode()
    assert "not of the default branch" in page and f"scan #{in_force.scan_id}" in page
    assert scan_one(path)["in_force"] is True
