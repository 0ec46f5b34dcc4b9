"""Which files of a commit a license verdict needs, and which are left out (and why)."""

import re
from posixpath import basename, dirname, splitext

from governance.git import SUBMODULE_MODE, SYMLINK_MODE, UNKNOWN_SIZE, TreeEntry

# Roles. Key files decide the declared license; the others only add detected licenses and conflicts.
LICENSE = "license"  # LICENSE, COPYING, UNLICENSE … at the root
README = "readme"  # README* at the root
MANIFEST = "manifest"  # package.json, Cargo.toml, pyproject.toml … at the root
NESTED_LICENSE = "nested_license"  # a license file below the root: a vendored component's
NOTICE_CANDIDATE = "notice_candidate"  # a file whose text contains a license notice phrase
OTHER = "other"  # every other file, scanned with --deep only
KEY_ROLES = (LICENSE, README, MANIFEST)
ROLE_ORDER = {LICENSE: 0, MANIFEST: 1, README: 2, NESTED_LICENSE: 3, NOTICE_CANDIDATE: 4, OTHER: 5}

_LICENSE_NAME = re.compile(
    r"^(?:(?:un)?licen[cs]e|copying|copyright|notice|legal|patents|copyleft|eula)(?:[-._ ].*)?$"
    r"|^.+[-_.](?:licen[cs]e|copying)(?:\.\w+)?$",
    re.IGNORECASE,
)
_README_NAME = re.compile(r"^readme(?:[-._ ].*)?$", re.IGNORECASE)
MANIFEST_NAMES = frozenset(
    {
        "package.json",
        "cargo.toml",
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        "composer.json",
        "pom.xml",
        "bower.json",
        "description",
        "meta.json",
        "meta.yml",
        "pubspec.yaml",
        "package.swift",
        "build.gradle",
        "build.gradle.kts",
        "deno.json",
        "elm.json",
        "mix.exs",
        "project.clj",
        "stack.yaml",
        "vcpkg.json",
        "conanfile.py",
    }
)
_MANIFEST_SUFFIXES = (".gemspec", ".nuspec", ".cabal", ".podspec", ".csproj", ".rockspec")

# Phrases that open a license notice. `git grep` finds the files that carry one (without reading
# them in Python), so a repository whose license is only in source headers still gets a verdict
# without a deep scan.
NOTICE_PATTERNS = [
    r"SPDX-License-Identifier",
    r"GNU (Affero |Lesser |Library )?General Public Licen[cs]e",
    r"Licensed under the Apache License",
    r"Mozilla Public License",
    r"Eclipse Public License",
    r"European Union Public Licen[cs]e",
    r"Permission is hereby granted, free of charge",
    r"Redistribution and use in source and binary forms",
    r"Server Side Public License|Business Source License|Commons Clause",
]

# Files whose license matches are noise for a repository verdict: translation catalogs carry the
# project's license boilerplate, data files quote anything. They are shown, but never flip a verdict.
_NOISE_SUFFIXES = frozenset(
    {
        ".po",
        ".pot",
        ".mo",
        ".xlf",
        ".xliff",
        ".strings",
        ".resx",
        ".properties",
        ".json",
        ".jsonl",
        ".csv",
        ".tsv",
        ".yaml",
        ".yml",
        ".xml",
        ".svg",
        ".html",
        ".htm",
        ".txt",
        ".dat",
        ".ipynb",
        ".sql",
        ".lock",
        ".map",
        ".min.js",
    }
)
_NOISE_DIRECTORIES = frozenset(
    {"locale", "locales", "i18n", "l10n", "translations", "lang", "po", "data", "fixtures", "testdata", "test-data"}
)

SKIP_SYMLINK = "symlink"
SKIP_SUBMODULE = "submodule"
SKIP_TOO_LARGE = "too_large"
SKIP_EMPTY = "empty"
SKIP_BINARY = "binary"
SKIP_NOT_KEY = "not_a_key_file"  # left for a deep scan
# Not reasons a file was left out of a key-files scan, but cuts a verdict must own up to (`Verdict.truncated`):
SKIP_NOTICES_OVER_CAP = "notices_over_cap"  # files with a notice phrase beyond AUDITS_NOTICE_CANDIDATES_MAX
SKIP_NOTICE_SEARCH = "notice_search_skipped"  # too many files over the size cap to search for notices at all
# What a verdict reports as cut, from the scan's skip counts.
TRUNCATING_SKIPS = (SKIP_TOO_LARGE, SKIP_NOTICES_OVER_CAP, SKIP_NOTICE_SEARCH)


_PRIMARY_LICENSE_NAME = re.compile(r"^(?:licen[cs]e|copying|unlicense)(?:\.(?:md|txt|rst|markdown))?$", re.IGNORECASE)


def is_primary_license_file(path: str) -> bool:
    """LICENSE, COPYING, UNLICENSE (optionally .md/.txt/.rst) at the root: the file that states the license."""
    return "/" not in path and bool(_PRIMARY_LICENSE_NAME.match(path))


def file_role(path: str) -> str:
    """The role a path plays in a license verdict, from its name and place alone."""
    name = basename(path)
    at_root = "/" not in path
    if _LICENSE_NAME.match(name):
        return LICENSE if at_root else NESTED_LICENSE
    if at_root and _README_NAME.match(name):
        return README
    if at_root and (name.lower() in MANIFEST_NAMES or name.lower().endswith(_MANIFEST_SUFFIXES)):
        return MANIFEST
    return OTHER


def is_noise(path: str) -> bool:
    """True for translation catalogs and data files, whose matches must not decide a verdict on their own."""
    lowered = path.lower()
    if lowered.endswith(".min.js"):
        return True
    _, suffix = splitext(lowered)
    if suffix in _NOISE_SUFFIXES:
        return True
    return any(part in _NOISE_DIRECTORIES for part in dirname(lowered).split("/"))


def skip_reason(entry: TreeEntry, *, max_bytes: int) -> str | None:
    """Why a tree entry is not scanned at all, before its content is read; None when it may be."""
    if entry.mode == SYMLINK_MODE:
        return SKIP_SYMLINK
    if entry.mode == SUBMODULE_MODE:
        return SKIP_SUBMODULE
    if entry.size == UNKNOWN_SIZE or entry.size > max_bytes:
        return SKIP_TOO_LARGE
    if entry.size == 0:
        return SKIP_EMPTY
    return None


def is_binary(content: bytes) -> bool:
    """git's own test: a NUL byte in the first 8,000 bytes."""
    return b"\0" in content[:8000]
