"""bench/dep5.py on real debian/copyright files (tests/data/dep5, see SOURCES.md there): paragraphs, the last
matching Files paragraph, and Debian license names put into the portal's categories."""

from pathlib import Path

import pytest

from bench.dep5 import (
    DEBIAN_TO_SPDX,
    NON_PERMISSIVE,
    PERMISSIVE,
    _spdx_categories,
    copyright_parse,
    license_category,
    spdx_for,
)

DATA = Path(__file__).resolve().parent / "data" / "dep5"


def copyright_of(package: str):
    return copyright_parse((DATA / f"{package}.copyright").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("package", "stanzas", "root"),
    [
        ("jq", 4, "MIT"),
        ("libzstd", 6, "BSD-3-clause or GPL-2"),
        ("tmux", 9, "ISC"),
        ("xz-utils", 20, "PD"),
        ("libgit2", 12, "GPL-2 with linking exception, origin admission"),
    ],
)
def test_every_files_paragraph_is_read_with_the_first_line_of_its_license(package, stanzas, root):
    copyright_ = copyright_of(package)

    assert copyright_.is_dep5
    assert len(copyright_.files_stanzas) == stanzas
    assert copyright_.files_stanzas[0].patterns == ("*",)
    assert copyright_.root_license == root


def test_standalone_license_paragraphs_are_kept_apart_with_their_text():
    copyright_ = copyright_of("libzstd")

    assert sorted(copyright_.licenses) == ["BSD-3-clause", "Expat", "GPL-2", "zlib"]
    assert "provided 'as-is'" in copyright_.licenses["zlib"]


def test_a_license_field_in_the_header_is_no_files_paragraph():
    copyright_ = copyright_of("xz-utils")

    assert copyright_.header["upstream-name"] == "XZ Utils"
    assert "liblzma is in the public domain" in copyright_.header["license"]
    assert copyright_.files_stanzas[0].line == 80


def test_patterns_continue_over_indented_lines():
    stanza = copyright_of("tmux").files_stanzas[1]

    assert stanza.patterns[0] == "compat/bitstring.h"
    assert stanza.patterns[-1] == "compat/vis.h"
    assert len(stanza.patterns) == 10


def test_the_last_matching_paragraph_wins_over_the_root_one():
    jq = copyright_of("jq")

    assert jq.license_for("src/main.c") == "MIT"
    assert jq.license_for("docs/content/manual/manual.yml") == "CC-BY-3.0"
    assert jq.license_for("src/jv_dtoa.c") == "Expat"
    assert jq.license_for("debian/rules") == "GPL-2.0+"


def test_a_later_single_file_paragraph_narrows_an_earlier_folder_one():
    libgit2 = copyright_of("libgit2")

    assert libgit2.license_for("src/libgit2/xdiff/xmerge.c") == "LGPL-2.1+"
    assert libgit2.license_for("src/libgit2/xdiff/xhistogram.c") == "BSD-3-clause"
    assert libgit2.license_for("src/util/rand.c") == "CC0-1.0"
    assert libgit2.license_for("src/util/rand.h") == "GPL-2 with linking exception, origin admission"


def test_star_matches_across_folders_and_question_mark_one_character():
    xz = copyright_of("xz-utils")

    assert xz.license_for("src/scripts/xzdiff.in") == "GPL-2+"
    assert xz.license_for("src/liblzma/check/crc32_table_le.h") == "none"
    assert xz.license_for("src/liblzma/check/crc32_table_xle.h") == "PD"
    assert copyright_of("libzstd").license_for("zlibWrapper/examples/fitblk.c") == "zlib"


def test_a_pattern_matches_the_whole_path_from_the_root():
    tmux = copyright_of("tmux")

    assert tmux.license_for("configure") == "FSFUL"
    assert tmux.license_for("compat/configure") == "ISC"
    assert tmux.license_for("./configure") == "FSFUL"


def test_without_a_root_paragraph_an_unlisted_path_has_no_license():
    copyright_ = copyright_parse(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "# a comment line between fields\nFiles: src/*\nCopyright: someone\nLicense: ISC\n .\n text\n"
    )

    assert copyright_.license_for("src/a.c") == "ISC"
    assert copyright_.license_for("README") is None
    assert copyright_.root_license is None


@pytest.mark.parametrize(
    ("short_name", "category"),
    [
        ("BSD-3-clause or GPL-2", PERMISSIVE),
        ("GPL-2 with linking exception, origin admission", NON_PERMISSIVE),
        ("OpenSSL or SSLeay", PERMISSIVE),
        ("BSD-2-clause or ISC", PERMISSIVE),
        ("FSFUL", PERMISSIVE),
        ("PD", PERMISSIVE),
        ("CC-BY-3.0", PERMISSIVE),
        ("LGPL-2.1+", NON_PERMISSIVE),
        ("GPL-2.0+", NON_PERMISSIVE),
    ],
)
def test_real_license_fields_fall_into_the_portal_categories(short_name, category):
    assert license_category(short_name) == category


def test_or_takes_the_best_branch_and_and_the_worst_part():
    assert license_category("GPL-2+ or Artistic") == NON_PERMISSIVE
    assert license_category("Apache-2.0 or GPL-2+") == PERMISSIVE
    assert license_category("BSD-3-clause and Expat") == PERMISSIVE
    assert license_category("GPL-3+ and ISC") == NON_PERMISSIVE
    assert license_category("libpng OR Apache-2.0 OR BSD-3-clause") == PERMISSIVE


def test_and_binds_tighter_than_or_unless_a_comma_comes_first():
    assert license_category("Expat or GPL-2+ and GPL-3+") == PERMISSIVE  # Expat or (GPL-2+ and GPL-3+)
    assert license_category("Expat or GPL-2+, and GPL-3+") == NON_PERMISSIVE  # (Expat or GPL-2+) and GPL-3+


def test_an_exception_keeps_the_category_of_the_license_it_adds_to():
    assert license_category("LGPL-2.1+ with OpenSSL exception") == NON_PERMISSIVE
    assert license_category("GPL-3+ with Autoconf-data exception") == NON_PERMISSIVE
    assert spdx_for("GPL-2+ with Libtool exception") == "GPL-2.0-or-later"


def test_a_name_that_is_no_license_id_stays_its_own_category():
    assert license_category("probably-PD") == "unmapped:probably-PD"
    assert license_category("BSD-variant") == "unmapped:BSD-variant"
    assert license_category("MIT and other") == "unmapped:other"
    assert license_category("GPL-2+ or BSD-like") == "unmapped:BSD-like"


def test_an_unmapped_part_decides_nothing_the_others_settle():
    assert license_category("BSD-like or MIT") == PERMISSIVE
    assert license_category("BSD-like and GPL-2") == NON_PERMISSIVE


def test_debian_version_spellings_become_spdx_ids():
    assert spdx_for("GPL-2") == "GPL-2.0-only"
    assert spdx_for("GPL-3+") == "GPL-3.0-or-later"
    assert spdx_for("GPL3+") == "GPL-3.0-or-later"
    assert spdx_for("LGPL-2.1+") == "LGPL-2.1-or-later"
    assert spdx_for("GFDL-NIV-1.3+") == "GFDL-1.3-or-later"
    assert spdx_for("Apache-2") == "Apache-2.0"
    assert spdx_for("Expat") == "MIT"


def test_every_spdx_id_of_the_table_is_known_to_scancode():
    unknown = [spdx for value in DEBIAN_TO_SPDX.values() for spdx in value.split(" OR ")]
    unknown = [spdx for spdx in unknown if spdx.lower() not in _spdx_categories()]

    assert unknown == []
