"""A verdict says what its scan could not see: notice files over the cap and files over the size cap, with counts,
in `scan_repository --json` and on the scan page; a scan that saw everything says nothing."""

import pytest

from audits.scancode import license_text
from audits.selectors import verdict_report
from audits.services import scan_repository
from tests.audit_repositories import COPYRIGHT

pytestmark = pytest.mark.django_db

NOTICE = "# SPDX-License-Identifier: MIT\nprint('hello')\n"


def _tree(notices: int) -> dict[str, str]:
    tree = {"LICENSE": COPYRIGHT + license_text("mit"), "big.txt": "x" * 5000}
    tree.update({f"src/part_{n}.py": NOTICE.replace("hello", f"hello {n}") for n in range(notices)})
    return tree


def test_notice_files_over_the_cap_and_files_over_the_size_cap_are_counted(make_repository, settings):
    settings.AUDITS_NOTICE_CANDIDATES_MAX = 2
    settings.AUDITS_MAX_FILE_BYTES = 4000
    outcome = scan_repository(source=str(make_repository("acme/many", _tree(5))))
    assert outcome.verdict.truncated == {"notices_over_cap": 3, "too_large": 1}
    assert verdict_report(outcome.verdict, scan=outcome.scan)["truncated"] == {"notices_over_cap": 3, "too_large": 1}


def test_a_scan_that_saw_everything_is_not_truncated(make_repository):
    outcome = scan_repository(source=str(make_repository("acme/few", _tree(2))))
    assert outcome.verdict.truncated == {}


def test_the_scan_page_says_what_was_cut(make_repository, settings, client, reviewer):
    settings.AUDITS_NOTICE_CANDIDATES_MAX = 1
    outcome = scan_repository(source=str(make_repository("acme/cut", _tree(3))))
    client.force_login(reviewer)
    page = client.get(f"/review/scans/{outcome.scan.pk}/").content.decode()
    assert 'id="verdict-truncated"' in page
    assert "2 notices_over_cap" in page


def test_files_past_the_notice_cap_still_get_their_spdx_line_as_their_label(make_repository, settings):
    settings.AUDITS_NOTICE_CANDIDATES_MAX = 1
    outcome = scan_repository(source=str(make_repository("acme/labels", _tree(3))))
    labels = dict(outcome.scan.labels.filter(path__startswith="src/").values_list("path", "origin"))
    assert labels == {f"src/part_{n}.py": "own_notice" for n in range(3)}
