"""A label for every file of a scanned commit, on a real repository through the real scancode: the file's own
notice, then the nearest license file or manifest up the tree, then the repository's declared license."""

import pytest

from audits.models import FileLabel
from audits.scancode import license_text
from audits.services import scan_repository
from governance.git import local_repository_commit
from tests.audit_repositories import COPYRIGHT, PYTHON_MODULE

pytestmark = pytest.mark.django_db

GPL_NOTICE = """/*
 * Copyright (C) 2019 Some Author
 *
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 */
"""
C_BODY = "int answer(void)\n{\n    return 42;\n}\n"

MIXED_TREE = {
    "LICENSE": COPYRIGHT + license_text("mit"),
    "README.md": "# mixed\n\nA library with parts under other licenses.\n",
    "src/main.c": C_BODY,
    "src/gpl_part.c": GPL_NOTICE + C_BODY,
    "src/apache_part.c": "// SPDX-License-Identifier: Apache-2.0\n" + C_BODY,
    "tests/gzip/LICENSE": license_text("gpl-3.0"),
    "tests/gzip/deeper/run.sh": "#!/bin/sh\necho test\n",
    "tests/gzip/own.sh": "#!/bin/sh\n# SPDX-License-Identifier: MIT\necho mine\n",
    "vendor/tiny/package.json": '{"name": "tiny", "version": "1.0.0", "license": "ISC"}\n',
    "vendor/tiny/index.js": "module.exports = 1;\n",
    "pkg/pyproject.toml": '[project]\nname = "pkg"\nversion = "1"\nlicense = {file = "LEGAL.txt"}\n',
    "pkg/LEGAL.txt": COPYRIGHT + license_text("bsd-new"),
    "pkg/mod.py": PYTHON_MODULE,
    "dist/app.min.js": "var a=1;" * 200 + "\n",
}


@pytest.fixture
def labels(make_repository):
    outcome = scan_repository(source=str(make_repository("acme/mixed", MIXED_TREE)))
    return {label.path: label for label in FileLabel.objects.filter(scan=outcome.scan)}


def _governs(label) -> tuple[str, str, str]:
    return label.license, label.origin, label.license_type


def test_every_file_of_the_commit_gets_a_label(labels):
    assert sorted(labels) == sorted(MIXED_TREE)


def test_a_file_without_a_notice_of_its_own_takes_the_declared_license(labels):
    assert _governs(labels["src/main.c"]) == ("MIT", "root", "permissive")
    assert labels["src/main.c"].source == "LICENSE"
    assert labels["src/main.c"].language == "C"


def test_a_license_notice_in_the_header_governs_its_file(labels):
    assert _governs(labels["src/gpl_part.c"]) == ("GPL-2.0-or-later", "own_notice", "non_permissive")


def test_an_spdx_line_is_read_exactly(labels):
    assert _governs(labels["src/apache_part.c"]) == ("Apache-2.0", "own_notice", "permissive")


def test_a_license_file_governs_its_directory_and_everything_below_it(labels):
    assert _governs(labels["tests/gzip/deeper/run.sh"]) == ("GPL-3.0-only", "directory", "non_permissive")
    assert labels["tests/gzip/deeper/run.sh"].source == "tests/gzip/LICENSE"


def test_a_files_own_notice_wins_over_its_directorys_license(labels):
    assert _governs(labels["tests/gzip/own.sh"]) == ("MIT", "own_notice", "permissive")


def test_a_manifest_below_the_root_governs_its_directory_and_marks_vendored_code(labels):
    assert _governs(labels["vendor/tiny/index.js"]) == ("ISC", "directory", "permissive")
    assert labels["vendor/tiny/index.js"].source == "vendor/tiny/package.json"
    assert labels["vendor/tiny/index.js"].is_vendor
    assert not labels["src/main.c"].is_vendor


def test_a_manifest_pointing_at_a_file_takes_that_files_license(labels):
    assert _governs(labels["pkg/mod.py"]) == ("BSD-3-Clause", "directory", "permissive")


def test_generated_files_are_flagged(labels):
    assert labels["dist/app.min.js"].is_generated
    assert not labels["src/main.c"].is_generated


def test_a_new_head_scan_keeps_only_its_own_labels(make_repository):
    path = make_repository("acme/twice", {"LICENSE": license_text("mit"), "a.c": C_BODY})
    first = scan_repository(source=str(path))
    local_repository_commit(path, {"LICENSE": license_text("mit"), "a.c": C_BODY, "b.c": C_BODY}, message="b")
    second = scan_repository(source=str(path))
    assert not FileLabel.objects.filter(scan=first.scan).exists()
    assert sorted(second.scan.labels.values_list("path", flat=True)) == ["LICENSE", "a.c", "b.c"]
