"""Real git repositories for license-audit tests, built from the texts in scancode's own license database.

One function per case: `build(path)` writes a repository at `path` and commits it. `CASES` maps
the case's name (the key in tests/data/license_verdicts.json) to its builder. The repositories
are small on purpose: scancode takes a second or so a file, and the verdict only needs key files.
"""

import json
from collections.abc import Callable
from pathlib import Path

from audits.scancode import license_text
from governance.git import local_repository_commit

COPYRIGHT = "Copyright (c) 2024 Example Authors\n\n"

PYTHON_MODULE = '''"""A tiny module with nothing license-related in it."""


def greet(name: str) -> str:
    return f"Hello, {name}!"
'''

C_SOURCE = """#include <stdio.h>

int main(void)
{
    printf("hello\\n");
    return 0;
}
"""


def _readme(name: str, extra: str = "") -> str:
    return f"# {name}\n\nA small library used by the license-audit tests.\n\n## Usage\n\n    make\n{extra}"


def _commit(path: Path, files: dict[str, str | bytes]) -> str:
    return local_repository_commit(path, files, message="Initial commit")


def mit(path: Path) -> str:
    return _commit(
        path,
        {"LICENSE": COPYRIGHT + license_text("mit"), "README.md": _readme("mit-lib"), "src/greet.py": PYTHON_MODULE},
    )


def apache_2_0(path: Path) -> str:
    return _commit(
        path,
        {"LICENSE": license_text("apache-2.0"), "README.md": _readme("apache-lib"), "src/greet.py": PYTHON_MODULE},
    )


def bsd_3_clause(path: Path) -> str:
    return _commit(
        path,
        {"LICENSE": COPYRIGHT + license_text("bsd-new"), "README.md": _readme("bsd-lib"), "main.c": C_SOURCE},
    )


def gpl_3_0(path: Path) -> str:
    return _commit(
        path,
        {"COPYING": license_text("gpl-3.0"), "README.md": _readme("gpl-tool"), "main.c": C_SOURCE},
    )


def lgpl_2_1(path: Path) -> str:
    return _commit(
        path,
        {"COPYING.LESSER": license_text("lgpl-2.1"), "README": _readme("lgpl-lib"), "lib.c": C_SOURCE},
    )


def agpl_3_0(path: Path) -> str:
    return _commit(
        path,
        {"LICENSE.txt": license_text("agpl-3.0"), "README.md": _readme("agpl-server"), "src/greet.py": PYTHON_MODULE},
    )


DUAL_README = """
## License

Licensed under either of

 * Apache License, Version 2.0 ([LICENSE-APACHE](LICENSE-APACHE) or http://www.apache.org/licenses/LICENSE-2.0)
 * MIT license ([LICENSE-MIT](LICENSE-MIT) or http://opensource.org/licenses/MIT)

at your option.
"""

CARGO_TOML = """[package]
name = "dual-crate"
version = "0.1.0"
edition = "2021"
license = "MIT OR Apache-2.0"
"""


def dual_mit_apache(path: Path) -> str:
    """The Rust convention: two license files, a Cargo.toml and a README that say "either, at your option"."""
    return _commit(
        path,
        {
            "LICENSE-MIT": COPYRIGHT + license_text("mit"),
            "LICENSE-APACHE": license_text("apache-2.0"),
            "README.md": _readme("dual-crate", DUAL_README),
            "Cargo.toml": CARGO_TOML,
            "src/lib.rs": "pub fn answer() -> u32 {\n    42\n}\n",
        },
    )


def dual_license_files_cargo_only(path: Path) -> str:
    """Two license files and a Cargo.toml whose `license` field says which applies; no README.

    scancode reads the manifest as `unknown-license-reference AND (mit OR apache-2.0)`: the reference is the
    field itself, not a license nobody knows.
    """
    return _commit(
        path,
        {
            "LICENSE-MIT": COPYRIGHT + license_text("mit"),
            "LICENSE-APACHE": license_text("apache-2.0"),
            "Cargo.toml": '[package]\nname = "dual-licensed"\nversion = "0.1.0"\nlicense = "MIT OR Apache-2.0"\n',
            "src/lib.rs": "pub fn answer() -> u32 {\n    42\n}\n",
        },
    )


def bsd_with_secondary_license_file(path: Path) -> str:
    """LICENSE is BSD; LICENSE.python covers code taken from CPython and, like CPython's own, names the GPL
    in its history table. The license file proper declares; a bare mention of the GPL is no conflict."""
    return _commit(
        path,
        {
            "LICENSE": COPYRIGHT + license_text("bsd-new"),
            "LICENSE.python": "Some code was taken from CPython, under this license:\n\n"
            + license_text("python")
            + "\n    Release         Derived     Year        Owner       GPL-\n"
            "                    from                                compatible? (1)\n\n"
            "    2.2             2.1.1       2001        PSF         yes\n",
            "README.md": _readme("bsd-with-python-parts"),
            "main.py": PYTHON_MODULE,
        },
    )


def dual_license_files_readme_choice(path: Path) -> str:
    """Two license files and a README saying "either, at your option", but no manifest to say so."""
    return _commit(
        path,
        {
            "LICENSE-MIT": COPYRIGHT + license_text("mit"),
            "LICENSE-APACHE": license_text("apache-2.0"),
            "README.md": _readme("dual-lib", DUAL_README),
            "lib.c": C_SOURCE,
        },
    )


def readme_only(path: Path) -> str:
    return _commit(
        path,
        {
            "README.md": _readme(
                "readme-licensed", "\n## License\n\nThis project is licensed under the MIT License.\n"
            ),
            "src/greet.py": PYTHON_MODULE,
        },
    )


def mit_readme_points_to_license(path: Path) -> str:
    """ "See LICENSE" in a README is an unknown-license reference to scancode; next to an MIT LICENSE it is no doubt."""
    return _commit(
        path,
        {
            "LICENSE": COPYRIGHT + license_text("mit"),
            "README.md": _readme("pointer", "\n## License\n\nSee [LICENSE](LICENSE).\n"),
            "src/greet.py": PYTHON_MODULE,
        },
    )


def mit_readme_says_gpl(path: Path) -> str:
    """The LICENSE file says MIT, the README says GPL-3.0: the two contradict each other."""
    return _commit(
        path,
        {
            "LICENSE": COPYRIGHT + license_text("mit"),
            "README.md": _readme(
                "contradiction",
                "\n## License\n\nThis project is licensed under the GNU General Public License v3.0.\n",
            ),
            "src/greet.py": PYTHON_MODULE,
        },
    )


def manifest_only(path: Path) -> str:
    package = {"name": "manifest-licensed", "version": "1.0.0", "main": "index.js", "license": "MIT"}
    return _commit(
        path,
        {
            "package.json": json.dumps(package, indent=2) + "\n",
            "README.md": _readme("manifest-licensed"),
            "index.js": "module.exports = (name) => `Hello, ${name}!`;\n",
        },
    )


def spdx_headers_only(path: Path) -> str:
    header = "# SPDX-License-Identifier: MIT\n# Copyright (c) 2024 Example Authors\n\n"
    return _commit(
        path,
        {
            "README.md": _readme("headers-only"),
            "src/greet.py": header + PYTHON_MODULE,
            "src/farewell.py": header + 'def farewell(name: str) -> str:\n    return f"Bye, {name}!"\n',
        },
    )


def no_license(path: Path) -> str:
    return _commit(
        path,
        {"README.md": _readme("unlicensed-scripts"), "backup.sh": '#!/bin/sh\ntar czf backup.tgz "$HOME"\n'},
    )


GPL_HEADER = """/*
 * fastcrc.c - a CRC-32 routine
 *
 * Copyright (C) 2009 Some Author
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
 *
 * You should have received a copy of the GNU General Public License
 * along with this program; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA.
 */

unsigned long crc32(const unsigned char *buffer, unsigned long length)
{
    unsigned long crc = 0xFFFFFFFFul;
    while (length--) {
        crc ^= *buffer++;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320ul & -(crc & 1));
    }
    return ~crc;
}
"""


def mit_vendoring_gpl(path: Path) -> str:
    """An MIT project that copied a GPL-2.0-or-later source file into vendor/."""
    return _commit(
        path,
        {
            "LICENSE": COPYRIGHT + license_text("mit"),
            "README.md": _readme("mit-with-vendored-gpl"),
            "vendor/fastcrc/fastcrc.c": GPL_HEADER,
            "main.c": C_SOURCE,
        },
    )


def _po_catalog(language: str, translated: str) -> str:
    # The header xgettext and many projects' catalogs carry: GPL boilerplate about the translation.
    return f"""# {language} translation of the mit-webapp package.
# Copyright (C) 2024 THE PACKAGE'S COPYRIGHT HOLDER
# This file is distributed under the GNU General Public License version 2 or later.
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.
#
msgid ""
msgstr ""
"Project-Id-Version: mit-webapp\\n"
"Language: {language}\\n"
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Hello"
msgstr "{translated}"
"""


def mit_with_gpl_translations(path: Path) -> str:
    """An MIT Django app whose translation catalogs carry GPL boilerplate: noise, not the project's license."""
    return _commit(
        path,
        {
            "LICENSE": COPYRIGHT + license_text("mit"),
            "README.md": _readme("mit-webapp"),
            "webapp/locale/de/LC_MESSAGES/django.po": _po_catalog("de", "Hallo"),
            "webapp/locale/fr/LC_MESSAGES/django.po": _po_catalog("fr", "Bonjour"),
            "webapp/views.py": PYTHON_MODULE,
        },
    )


def non_commercial(path: Path) -> str:
    return _commit(
        path,
        {"LICENSE.md": license_text("cc-by-nc-4.0"), "README.md": _readme("nc-models"), "train.py": PYTHON_MODULE},
    )


def unknown_license_reference(path: Path) -> str:
    """A license file that points elsewhere without saying which license: only a human can tell."""
    return _commit(
        path,
        {
            "LICENSE": "This software is licensed under the terms of the license agreement that you received "
            "with it from the vendor.\nSee the vendor's LICENSE file for the terms.\n",
            "README.md": _readme("vendor-sdk"),
            "sdk.c": C_SOURCE,
        },
    )


def fork_of_mit(path: Path) -> str:
    """The MIT repository, forked: the same blobs plus one file changed in a second commit."""
    mit(path)
    return local_repository_commit(
        path, {"src/greet.py": PYTHON_MODULE.replace("Hello", "Howdy")}, message="Fork: a friendlier greeting"
    )


CASES: dict[str, Callable[[Path], str]] = {
    "mit": mit,
    "apache-2.0": apache_2_0,
    "bsd-3-clause": bsd_3_clause,
    "gpl-3.0": gpl_3_0,
    "lgpl-2.1": lgpl_2_1,
    "agpl-3.0": agpl_3_0,
    "dual-mit-apache": dual_mit_apache,
    "dual-license-files-readme-choice": dual_license_files_readme_choice,
    "dual-license-files-cargo-only": dual_license_files_cargo_only,
    "bsd-with-secondary-license-file": bsd_with_secondary_license_file,
    "readme-only": readme_only,
    "mit-readme-points-to-license": mit_readme_points_to_license,
    "mit-readme-says-gpl": mit_readme_says_gpl,
    "manifest-only": manifest_only,
    "spdx-headers-only": spdx_headers_only,
    "no-license": no_license,
    "mit-vendoring-gpl": mit_vendoring_gpl,
    "mit-with-gpl-translations": mit_with_gpl_translations,
    "non-commercial": non_commercial,
    "unknown-license-reference": unknown_license_reference,
    "fork-of-mit": fork_of_mit,
}
