"""Debian's machine-readable copyright files (DEP-5, copyright-format 1.0), read as license ground truth.

`copyright_parse(text)` reads the paragraphs of a `debian/copyright`; `Copyright.license_for(path)` says which
license DEP-5 gives a path of the upstream tree: the LAST `Files:` paragraph with a matching pattern wins, patterns
match the whole path from the source root, `*` matches any characters `/` included, `?` one character, `\\*` and
`\\?` stand for themselves (the spec's only escapes); `Files: *` matches everything.

`license_category(short_name)` puts a `License:` short name (an expression of Debian names: `GPL-2+ or Artistic`,
`BSD-3-clause and Expat`, `LGPL-2.1+ with OpenSSL exception`) into the categories the portal labels files with:
`permissive` (scancode's Permissive and Public Domain), `non_permissive` (every other scancode category), or
`unmapped:<name>` for a name that is no license id at all (`other`, `BSD-like`, a project's own name), which is never
taken for permissive. Debian names become SPDX ids through an explicit table (`Expat` → MIT, `PD` and
`public-domain` → scancode's public-domain), the versioned families (`GPL-2+` → GPL-2.0-or-later, `Apache-2` →
Apache-2.0), or are SPDX ids already (`curl`, `BSD-2-Clause-NetBSD`); the SPDX id's category is scancode's, read
from audits/license_categories.json (so this module needs neither Django nor scancode).

Expressions follow the spec: `and` binds tighter than `or` (`A or B and C` is `A or (B and C)`) unless a comma
precedes the operator (`A or B, and C` is `(A or B) and C`); `X with Y exception` is X with a permission added, so
it takes X's category as the policy does. OR takes the best branch, AND the worst; an unmapped part makes AND
unmapped unless another part is already non-permissive, and OR unmapped unless another branch is permissive.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CATEGORY_TABLE = Path(__file__).resolve().parent.parent / "audits" / "license_categories.json"
PERMISSIVE_CATEGORIES = frozenset({"Permissive", "Public Domain"})

PERMISSIVE = "permissive"
NON_PERMISSIVE = "non_permissive"
UNMAPPED_PREFIX = "unmapped:"

# Debian short names (the spec's list and the ones found in practice) whose SPDX id is not the name itself, or not
# found by the versioned-family rule below. Lower-cased keys.
DEBIAN_TO_SPDX = {
    "expat": "MIT",
    "mit": "MIT",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "isc": "ISC",
    "zlib": "Zlib",
    "zlib/libpng": "Zlib",
    "libpng": "Libpng",
    "libpng-2.0": "libpng-2.0",
    "ijg": "IJG",
    "x11": "X11",
    "curl": "curl",
    "openssl": "OpenSSL",
    "ssleay": "OpenSSL",
    "python": "Python-2.0",
    "psf-2": "PSF-2.0",
    "psf": "PSF-2.0",
    "zope": "ZPL-2.1",
    "w3c": "W3C",
    "unicode": "Unicode-DFS-2016",
    "unicode-dfs": "Unicode-DFS-2016",
    "fsfap": "FSFAP",
    "fsful": "FSFUL",
    "fsfullr": "FSFULLR",
    "hpnd": "HPND",
    "ntp": "NTP",
    "tcl": "TCL",
    "openldap-2.8": "OLDAP-2.8",
    "bsl-1.0": "BSL-1.0",
    "boost-1.0": "BSL-1.0",
    "wtfpl": "WTFPL",
    "unlicense": "Unlicense",
    "0bsd": "0BSD",
    "cc0": "CC0-1.0",
    "cc0-1.0": "CC0-1.0",
    "public-domain": "LicenseRef-scancode-public-domain",
    "public domain": "LicenseRef-scancode-public-domain",
    "publicdomain": "LicenseRef-scancode-public-domain",
    "pd": "LicenseRef-scancode-public-domain",
    # The Debian maintainer's own word for a license they judged permissive without naming it.
    "permissive": "LicenseRef-scancode-other-permissive",
    "artistic": "Artistic-1.0",
    "artistic-1": "Artistic-1.0",
    "artistic-1.0": "Artistic-1.0",
    "artistic-2": "Artistic-2.0",
    "artistic-2.0": "Artistic-2.0",
    # Debian's `Perl` is "Artistic or GPL-1+", the terms Perl itself comes under.
    "perl": "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "gpl": "GPL-1.0-or-later",
    "lgpl": "LGPL-2.0-or-later",
    "gfdl": "GFDL-1.1-or-later",
    "gfdl-niv": "GFDL-1.1-or-later",
    "apache": "Apache-2.0",
    "mpl": "MPL-1.1",
    "cddl": "CDDL-1.0",
    "cpl": "CPL-1.0",
    "epl": "EPL-1.0",
    "qpl": "QPL-1.0",
    "sleepycat": "Sleepycat",
    "ofl": "OFL-1.1",
    "sil-ofl-1.1": "OFL-1.1",
}

# Debian's versioned families: `NAME-<version>` is "this version only", `NAME-<version>+` "or later" (the dash is
# sometimes left out: `GPL3+`).
_FAMILY = re.compile(
    r"^(?P<family>a?gpl|lgpl|gfdl(?:-niv)?|lppl)-?(?P<version>[0-9](?:\.[0-9]+)?)(?P<later>\+?)$", re.I
)
# The rest are versioned without "only/or later" in SPDX (Apache-2.0, MPL-2.0, CC-BY-SA-4.0 …); Debian may leave
# off the `.0` (Apache-2, CC-BY-3) or add `+` (MPL-1.1+).
_VERSIONED = re.compile(r"^(?P<name>[a-z][a-z0-9-]*?)-(?P<version>[0-9](?:\.[0-9]+)?)(?P<later>\+?)$", re.I)
_SPDX_FAMILY = {"gpl": "GPL", "agpl": "AGPL", "lgpl": "LGPL", "gfdl": "GFDL", "gfdl-niv": "GFDL", "lppl": "LPPL"}
_EXCEPTION = re.compile(r"\s+with\s+.*\s+exception$", re.I)
# Not a license id, whatever it is followed by: the spec's and maintainers' names for "see the text".
_NOT_IDS = frozenset({"other", "custom", "unknown", "none", "bsd", "bsd-like", "mit-like", "gpl-like", "free"})


@dataclass(frozen=True)
class FilesStanza:
    """One `Files:` paragraph: its patterns (in order), the first line of its `License:`, and where it starts."""

    patterns: tuple[str, ...]
    license: str
    line: int


@dataclass
class Copyright:
    """A parsed DEP-5 file: its header fields, its `Files:` paragraphs in order, its standalone `License:` texts."""

    header: dict[str, str] = field(default_factory=dict)
    files_stanzas: list[FilesStanza] = field(default_factory=list)
    licenses: dict[str, str] = field(default_factory=dict)  # short name → text of a standalone License paragraph

    @property
    def is_dep5(self) -> bool:
        """Whether the header names the machine-readable format (`Format:`, or the drafts' `Format-Specification:`)."""
        declared = self.header.get("format", "") or self.header.get("format-specification", "")
        return "copyright-format" in declared or "dep5" in declared.lower() or "dep-5" in declared.lower()

    @property
    def root_license(self) -> str | None:
        """The license of the `Files: *` paragraph (the last one, if there are several), or None."""
        for stanza in reversed(self.files_stanzas):
            if "*" in stanza.patterns:
                return stanza.license
        return None

    def license_for(self, path: str) -> str | None:
        """The license DEP-5 gives `path` (relative to the source root): the last Files paragraph matching it."""
        path = path.lstrip("/")
        while path.startswith("./"):
            path = path[2:]
        for stanza in reversed(self.files_stanzas):
            if any(_pattern_regex(pattern).fullmatch(path) for pattern in stanza.patterns):
                return stanza.license
        return None


def copyright_parse(text: str) -> Copyright:
    """Read a debian/copyright file: paragraphs split by blank lines, fields with their continuation lines."""
    copyright_ = Copyright()
    for number, (start, fields) in enumerate(_paragraphs(text)):
        if number == 0 and ("format" in fields or "format-specification" in fields):
            copyright_.header = {name: value.strip() for name, value in fields.items()}
            continue
        license_field = fields.get("license")
        if "files" in fields:
            patterns = tuple(fields["files"].split())
            short_name = license_field.split("\n", 1)[0].strip() if license_field else ""
            copyright_.files_stanzas.append(FilesStanza(patterns=patterns, license=short_name, line=start))
        elif license_field is not None:
            short_name, _, license_text = license_field.partition("\n")
            copyright_.licenses[short_name.strip()] = license_text
        elif number == 0:
            copyright_.header = {name: value.strip() for name, value in fields.items()}
    return copyright_


def _paragraphs(text: str):
    """(first line number, {lower-cased field name: value}) per paragraph; continuation lines joined with newlines,
    a lone `.` on one (the spec's blank line inside a field) becomes an empty line, `#` comment lines are left out."""
    fields: dict[str, str] = {}
    start = 0
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                yield start, fields
            fields, current = {}, None
            continue
        if line[0] in " \t":
            if current is not None:
                stripped = line.strip()
                fields[current] += "\n" + ("" if stripped == "." else stripped)
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue  # not a field: a stray line in a hand-written file
        if not fields:
            start = number
        current = name.strip().lower()
        fields[current] = value.strip()
    if fields:
        yield start, fields


@cache
def _pattern_regex(pattern: str) -> re.Pattern:
    pattern = pattern.lstrip("/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    parts = []
    index = 0
    while index < len(pattern):
        character = pattern[index]
        if character == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*?\\":
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append({"*": ".*", "?": "."}.get(character) or re.escape(character))
        index += 1
    # The whole path must match: `Makefile.in` is the root's only, `*/Makefile.in` any depth's (the spec's example).
    return re.compile("".join(parts), re.S)


@cache
def _spdx_categories() -> dict[str, str]:
    return json.loads(CATEGORY_TABLE.read_text())["categories"]


def spdx_for(name: str) -> str | None:
    """The SPDX expression for one Debian short name (no `and`/`or`), or None when it names no known license."""
    name = _EXCEPTION.sub("", name.strip())
    key = name.lower()
    if key in _NOT_IDS:
        return None
    if key in DEBIAN_TO_SPDX:
        return DEBIAN_TO_SPDX[key]
    family = _FAMILY.match(key)
    if family:
        version = family["version"] if "." in family["version"] else f"{family['version']}.0"
        spdx = f"{_SPDX_FAMILY[family['family'].lower()]}-{version}-{'or-later' if family['later'] else 'only'}"
        return spdx if spdx.lower() in _spdx_categories() else None
    if key in _spdx_categories():
        return name
    versioned = _VERSIONED.match(name)
    if versioned:
        version = versioned["version"] if "." in versioned["version"] else f"{versioned['version']}.0"
        for candidate in (f"{versioned['name']}-{version}", f"{versioned['name']}-{versioned['version']}"):
            if candidate.lower() in _spdx_categories():
                return candidate
    return None


def license_category(short_name: str) -> str:
    """`permissive`, `non_permissive` or `unmapped:<name>` for the first line of a DEP-5 `License:` field."""
    if not short_name.strip():  # a Files paragraph whose License field names nothing
        return UNMAPPED_PREFIX
    return _expression_category(short_name.strip())


def _expression_category(expression: str) -> str:
    # The comma lowers the precedence of the operator after it: split there first, fold left.
    segments = re.split(r",\s*(?=(?:and|or)\s)", expression, flags=re.I)
    category = _segment_category(segments[0])
    for segment in segments[1:]:
        operator, _, rest = segment.partition(" ")
        combine = _best if operator.lower() == "or" else _worst
        category = combine([category, _segment_category(rest)])
    return category


def _segment_category(segment: str) -> str:
    # A trailing comma with no operator after it (`MIT, BSD-3-clause`) lists licenses that all apply.
    parts = [part for part in re.split(r"\s*,\s*", segment.strip()) if part]
    if len(parts) > 1:
        return _worst([_segment_category(part) for part in parts])
    branches = re.split(r"\s+or\s+", segment.strip(), flags=re.I)
    return _best([_worst([_name_category(name) for name in re.split(r"(?i)\s+and\s+", part)]) for part in branches])


def _name_category(name: str) -> str:
    spdx = spdx_for(name)
    if spdx is None:
        return f"{UNMAPPED_PREFIX}{name.strip()}"
    labels = []
    for branch in spdx.split(" OR "):
        category = _spdx_categories().get(branch.strip().lower())
        if category is None:  # a table entry scancode does not know: say so rather than guess
            labels.append(f"{UNMAPPED_PREFIX}{name.strip()}")
        else:
            labels.append(PERMISSIVE if category in PERMISSIVE_CATEGORIES else NON_PERMISSIVE)
    return _best(labels)


def _best(categories: list[str]) -> str:
    if PERMISSIVE in categories:
        return PERMISSIVE
    unmapped = [category for category in categories if category.startswith(UNMAPPED_PREFIX)]
    return unmapped[0] if unmapped else NON_PERMISSIVE


def _worst(categories: list[str]) -> str:
    if NON_PERMISSIVE in categories:
        return NON_PERMISSIVE
    unmapped = [category for category in categories if category.startswith(UNMAPPED_PREFIX)]
    return unmapped[0] if unmapped else PERMISSIVE
