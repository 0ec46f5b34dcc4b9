"""audits/scanning/notices.py: license notices read from a file's header at grep speed, on real headers.

The headers under tests/data/notices are the first 60 lines of real files of curl, libgit2, redis, zstd, tmux,
alsa-utils, commons-io, guava, packageurl-python and six (tests/data/notices/SOURCES.md says which).
"""

import hashlib
from pathlib import Path

import pytest

from audits import scancode
from audits.scanning.notices import (
    HEADER_BYTES,
    NOTICE_FORMAT,
    notice_block,
    notice_header,
    notice_key,
    spdx_identifiers,
)

NOTICES = Path(__file__).parent / "data" / "notices"

MIT_TERMS = """Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:"""


def real(project: str, name: str) -> bytes:
    return (NOTICES / project / name).read_bytes()


def keys(project: str, *names: str) -> set[str]:
    return {notice_key(real(project, name)) for name in names}


def commented(text: str, opener: str, prefix: str, closer: str) -> bytes:
    """`text` as a header comment of one language, followed by a line of code."""
    lines = [opener] if opener else []
    lines += [
        f"{prefix}{line}".rstrip() for line in ["Copyright (c) 2024 Jane Doe <jane@example.org>", "", *text.split("\n")]
    ]
    lines += [closer] if closer else []
    return ("\n".join(lines) + "\n\nint main(void);\n").encode()


# SPDX-License-Identifier lines


@pytest.mark.parametrize(
    ("line", "expression"),
    [
        ("/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */", "GPL-2.0-only WITH Linux-syscall-note"),
        ("# SPDX-License-Identifier: MIT", "MIT"),
        ("// SPDX-License-Identifier: (GPL-2.0+ OR MIT)", "GPL-2.0-or-later OR MIT"),
        ("<!-- SPDX-License-Identifier: MIT -->", "MIT"),
        ("-- SPDX-License-Identifier: Apache-2.0", "Apache-2.0"),
        (".. SPDX-License-Identifier: CC-BY-4.0", "CC-BY-4.0"),
        ("dnl SPDX-License-Identifier: FSFAP", "FSFAP"),
        ("; SPDX-License-Identifier: ISC", "ISC"),
        ("% SPDX-License-Identifier: LPPL-1.3c", "LPPL-1.3c"),
        ('"""SPDX-License-Identifier: BSD-3-Clause"""', "BSD-3-Clause"),
        ("x = 'SPDX-License-Identifier: mit'", "MIT"),
        ('    "SPDX-License-Identifier: Apache-2.0 OR MIT",', "Apache-2.0 OR MIT"),
        ('printf("SPDX-License-Identifier: 0BSD\\n");', "0BSD"),
    ],
)
def test_identifier_is_read_in_every_comment_and_string_style(line, expression):
    found = spdx_identifiers(f"{line}\nint x;\n".encode())
    assert (found.expression, found.lines, found.errors) == (expression, (1,), ())


def test_curl_files_name_curl_s_own_license_id():
    found = spdx_identifiers(real("curl", "url.c"))
    assert (found.expression, found.lines, found.unknown) == ("curl", (21,), ())


def test_a_curl_file_with_an_isc_part_names_both():
    assert spdx_identifiers(real("curl", "curl_path.c")).expression == "curl AND ISC"


def test_zstd_kernel_header_reads_its_choice_of_licenses():
    assert spdx_identifiers(real("zstd", "decompress_sources.h")).expression == "GPL-2.0-or-later OR BSD-3-Clause"


def test_identifier_after_an_encoding_line_keeps_its_file_line_number():
    assert spdx_identifiers(real("packageurl-python", "url2purl.py.txt")).lines == (4,)


def test_several_identifier_lines_are_anded_once_each():
    content = (
        b"// SPDX-License-Identifier: MIT\n"
        b"// SPDX-License-Identifier: GPL-2.0+ OR BSD-2-Clause\n"
        b"# SPDX-License-Identifier: mit\n"
    )
    found = spdx_identifiers(content)
    assert found.expression == "MIT AND (GPL-2.0-or-later OR BSD-2-Clause)"
    assert found.lines == (1, 2, 3)


def test_a_line_that_is_no_expression_is_reported_with_its_line():
    found = spdx_identifiers(b"import re\n\nif 'SPDX-License-Identifier:' in line and ok:\n    pass\n")
    assert (found.expression, found.lines) == ("", (3,))
    assert len(found.errors) == 1 and found.errors[0].startswith("line 3: 'in line and ok:': not an SPDX expression")


def test_an_id_not_on_the_spdx_list_becomes_a_license_ref_and_is_listed():
    found = spdx_identifiers(b"/* SPDX-License-Identifier: Acme-Source-1.0 OR MIT */\n")
    assert found.expression == "LicenseRef-Acme-Source-1.0 OR MIT"
    assert found.unknown == ("Acme-Source-1.0",)


def test_an_identifier_below_the_header_is_not_read():
    content = b"int x;\n" * 60 + b"// SPDX-License-Identifier: MIT\n"
    assert spdx_identifiers(content) is None
    assert spdx_identifiers(content, max_lines=61).expression == "MIT"


def test_bytes_that_are_not_utf8_do_not_hide_an_identifier():
    found = spdx_identifiers(b"/* \xff\xfe Caf\xe9 */\n// SPDX-License-Identifier: MIT\n")
    assert (found.expression, found.lines) == ("MIT", (2,))


def test_a_file_without_identifier_has_none():
    assert spdx_identifiers(real("redis", "server.c")) is None


# The header


def test_header_is_the_first_sixty_lines_byte_for_byte():
    content = b"".join(b"line %d \xe9\r\n" % number for number in range(1, 101))
    assert notice_header(content) == content[: content.index(b"line 61 ")]


def test_shebang_and_encoding_lines_do_not_count_against_the_header():
    content = b"#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\n" + b"x = 1\n" * 100
    assert notice_header(content).count(b"\n") == 62
    assert notice_header(b"#!/bin/sh\n" + b"echo\n" * 100).count(b"\n") == 61


def test_a_short_file_is_its_own_header():
    assert notice_header(b"/* MIT */\nint x;") == b"/* MIT */\nint x;"
    assert notice_header(b"") == b""


def test_a_minified_file_of_one_long_line_is_cut():
    content = b"/*! lib v1 | MIT */" + b"var a=1;" * 1_000_000
    assert notice_header(content) == content[:HEADER_BYTES]


# Keys that real files share


def test_every_curl_file_shares_one_key():
    assert len(keys("curl", "url.c", "http.c", "tool_main.c", "curl.h")) == 1


def test_a_curl_file_with_a_second_license_has_a_key_of_its_own():
    assert keys("curl", "curl_path.c").isdisjoint(keys("curl", "url.c"))
    assert b"SPDX-License-Identifier: curl AND ISC" in notice_block(real("curl", "curl_path.c"))


def test_libgit2_files_share_one_key_without_their_copyright_line():
    assert len(keys("libgit2", "repository.c", "commit.c", "repository.h", "pqueue.h")) == 1
    block = notice_block(real("libgit2", "commit.c"))
    assert block == (
        b"This file is part of libgit2, distributed under the GNU GPL v2 with\n"
        b"a Linking Exception. For full terms see the included COPYING file.\n"
    )


def test_redis_files_share_a_key_whatever_their_authors_years_and_titles():
    assert len(keys("redis", "server.c", "anet.c", "sds.c", "t_stream.c")) == 1
    block = notice_block(real("redis", "sds.c")).decode()
    assert block.startswith("Redistribution and use in source and binary forms")
    assert "Sanfilippo" not in block and "Oran Agra" not in block and "SDSLib" not in block


def test_a_changed_word_in_the_terms_gives_another_key():
    # redis' quicklist.c says "must start the above copyright notice": not the BSD text of the other files.
    assert keys("redis", "quicklist.c").isdisjoint(keys("redis", "server.c"))


def test_apache_headers_share_a_key_across_years_and_tell_asf_from_google():
    assert len(keys("guava", "Lists.java", "Absent.java")) == 1
    assert len(keys("commons-io", "IOUtils.java", "FileUtils.java")) == 1
    assert keys("guava", "Lists.java") != keys("commons-io", "IOUtils.java")


def test_gpl_headers_with_other_authors_years_and_credits_share_a_key():
    assert len(keys("alsa-utils", "aplay.c", "monitor.c", "amixer.c", "aplaymidi.c")) == 1
    block = notice_block(real("alsa-utils", "aplay.c")).decode()
    assert block.startswith("This program is free software; you can redistribute it and/or modify\n")
    assert "vplay" not in block and "Kysela" not in block and "WAVE" not in block


def test_spdx_headers_with_one_and_two_line_file_titles_share_a_key():
    assert len(keys("alsa-utils", "container.c", "mapper.c")) == 1
    assert notice_block(real("alsa-utils", "mapper.c")) == (
        b"SPDX-License-Identifier: GPL-2.0\nLicensed under the terms of the GNU General Public License, version 2.\n"
    )


def test_other_projects_share_a_key_each():
    assert len(keys("tmux", "cmd.c", "attributes.c")) == 1
    assert len(keys("zstd", "zstd_compress.c", "threading.c")) == 1
    assert len(keys("packageurl-python", "__init__.py.txt", "url2purl.py.txt")) == 1


# What the block keeps


def test_the_block_keeps_the_notice_lines_without_markers_banner_copyright_or_code():
    assert notice_block(real("curl", "url.c")).decode().splitlines() == [
        "This software is licensed as described in the file COPYING, which",
        "you should have received as part of this distribution. The terms",
        "are also available at https://curl.se/docs/copyright.html.",
        "You may opt to use, copy, modify, merge, publish, distribute and/or sell",
        "copies of the Software, and permit persons to whom the Software is",
        "furnished to do so, under the terms of the COPYING file.",
        'This software is distributed on an "AS IS" basis, WITHOUT WARRANTY OF ANY',
        "KIND, either express or implied.",
        "SPDX-License-Identifier: curl",
    ]


def test_license_sentences_that_start_with_copyright_or_authors_are_kept():
    mit = notice_block(real("six", "six.py.txt")).decode()
    assert "\nAUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n" in mit
    assert "Benjamin Peterson" not in mit
    isc = notice_block(real("tmux", "cmd.c")).decode()
    assert "\ncopyright notice and this permission notice appear in all copies.\n" in isc


def test_a_copyright_line_that_carries_terms_is_kept():
    block = notice_block(b"# Copyright 2019 Jane Doe, released under the MIT license.\nimport os\n")
    assert block == b"Copyright 2019 Jane Doe, released under the MIT license.\n"


def test_every_comment_style_gives_the_same_block():
    styles = [
        ("/*", " * ", " */"),
        ("", "// ", ""),
        ("", "# ", ""),
        ("", "-- ", ""),
        ("", ";; ", ""),
        ("", "% ", ""),
        ("", "dnl ", ""),
        ("", "REM ", ""),
        ("<!--", "  ", "-->"),
        ('"""', "", '"""'),
        ("/**********", "** ", "**********/"),
    ]
    blocks = {notice_block(commented(MIT_TERMS, *style)) for style in styles}
    assert blocks == {(MIT_TERMS + "\n").encode()}


def test_code_and_comments_below_the_notice_do_not_change_the_key():
    notice = commented(MIT_TERMS, "/*", " * ", " */")
    below = b'#include "a.h"\n\n/* Parse the configuration. */\nstatic int parse(void);\n'
    assert notice_key(notice + below) == notice_key(notice)


def test_a_notice_wrapped_otherwise_shares_the_key_but_keeps_its_lines():
    rewrapped = commented(" ".join(MIT_TERMS.split()), "", "# ", "")
    assert notice_key(rewrapped) == notice_key(commented(MIT_TERMS, "", "# ", ""))
    assert notice_block(rewrapped).count(b"\n") == 1


def test_windows_line_ends_and_a_byte_order_mark_do_not_change_the_key():
    header = real("redis", "anet.c")
    assert notice_key(b"\xef\xbb\xbf" + header.replace(b"\n", b"\r\n")) == notice_key(header)


def test_the_key_is_the_sha1_of_the_versioned_words():
    header = real("curl", "url.c")
    words = " ".join(notice_block(header).decode().split())
    assert notice_key(header) == hashlib.sha1(NOTICE_FORMAT + words.encode()).hexdigest()


def test_a_header_that_speaks_of_no_license_goes_to_scancode_whole():
    header = b'#!/usr/bin/env python3\n"""Fetch things."""\n\n__license__ = "MIT"\n\nimport os  # the OS\n'
    assert notice_block(header) == b'Fetch things.\n__license__ = "MIT"\nimport os # the OS\n'


# The real scancode


def test_scancode_finds_in_the_block_what_it_finds_in_the_header(tmp_path):
    """A second or so per file once scancode's index is loaded (some 5 s, shared with other tests)."""
    samples = [("curl", "url.c"), ("redis", "anet.c"), ("alsa-utils", "aplay.c"), ("commons-io", "IOUtils.java")]
    for project, name in samples:
        header, block = tmp_path / f"header-{name}", tmp_path / f"block-{name}"
        header.write_bytes(real(project, name))
        block.write_bytes(notice_block(real(project, name)))
        found = scancode.file_scan(block).spdx_expression
        assert found == scancode.file_scan(header).spdx_expression != "", name


def test_every_notice_of_the_header_is_in_the_block_not_only_the_first():
    # automake's permission for the Makefile.in itself, then flac's GPL notice copied from Makefile.am.
    block = notice_block(notice_header(real("flac", "Makefile.in"))).decode()
    assert "gives unlimited permission to copy and/or distribute it" in block
    assert "GNU General Public License" in block
