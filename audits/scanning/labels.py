"""A label for every file of a scanned commit: the license that governs it, where it comes from, what kind of file.

The rule, as The Stack v2 labels files: a file's own notice (an `SPDX-License-Identifier:` line, or a license
notice scancode found in its header) governs it; without one, the nearest license file or package manifest up
the tree (a license file in `a/b/` governs `a/b/**` unless a deeper one says otherwise); without one, the
repository's declared license. `license_type` is `permissive` when every part of that license is Permissive or
Public Domain in scancode's categories (an OR is as good as its best branch), `non_permissive` when it is not,
`unknown` when that hangs on a license nobody knows, and `no_license` when nothing governs the file.

Language, vendored and generated files follow go-enry's rules (the `enry-python` wheel), the only place it is used.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from posixpath import basename, dirname

import enry

from audits.policy import Policy, policy_allows

# What The Stack v2 calls permissive: scancode's Permissive and Public Domain licenses, nothing listed by hand.
PERMISSIVE_CATEGORIES = Policy(
    name="permissive-categories",
    allowed=frozenset(),
    no_license="include",
    categories=frozenset({"Permissive", "Public Domain"}),
)

PERMISSIVE, NON_PERMISSIVE, NO_LICENSE, UNKNOWN = "permissive", "non_permissive", "no_license", "unknown"
OWN_NOTICE, DIRECTORY, ROOT = "own_notice", "directory", "root"

# enry decides "generated" from the first lines (a "Code generated … DO NOT EDIT" banner, a minified line).
CONTENT_PREFIX_BYTES = 16_384

# The file in a directory that states the license of everything below it (LICENSE, COPYING, LICENSE-MIT,
# COPYING.LIB, UNLICENSE …); NOTICE, COPYRIGHT or PATENTS files speak of parts, not of the directory.
_DIRECTORY_LICENSE_NAME = re.compile(r"^(?:(?:un)?licen[cs]e|copying)(?:[-._].*)?$", re.IGNORECASE)


def is_directory_license_file(path: str) -> bool:
    """A license file that governs its whole directory (LICENSE, COPYING, LICENSE-MIT …)."""
    return bool(_DIRECTORY_LICENSE_NAME.match(basename(path)))


def license_type(expression: str) -> str:
    """permissive, non_permissive or unknown for an SPDX expression; no_license for none."""
    if not expression:
        return NO_LICENSE
    allowed = policy_allows(expression, PERMISSIVE_CATEGORIES)
    if allowed is None:
        return UNKNOWN
    return PERMISSIVE if allowed else NON_PERMISSIVE


@dataclass(frozen=True)
class Governing:
    """A license and the file it was read from."""

    license: str  # SPDX
    source: str  # path of the file that says so


@dataclass(frozen=True)
class Label:
    path: str
    blob_id: str
    license_type: str
    license: str
    origin: str  # own_notice | directory | root | ""
    source: str
    language: str
    is_vendor: bool
    is_generated: bool


def nearest_directory(path: str, directories: dict[str, Governing]) -> tuple[str, Governing] | None:
    """The deepest directory above `path` (the root excluded: that is the declared license) that has a license."""
    folder = dirname(path)
    while folder:
        if folder in directories:
            return folder, directories[folder]
        folder = dirname(folder)
    return None


def file_labels(
    files: Iterable[tuple[str, str, bytes | None]],
    *,
    own_notices: dict[str, Governing],
    directories: dict[str, Governing],
    root: Governing | None,
) -> Iterator[Label]:
    """Label each (path, blob_id, first bytes or None) in turn: own notice, then nearest directory, then root."""
    for path, blob_id, head in files:
        origin, governing = "", None
        if path in own_notices:
            origin, governing = OWN_NOTICE, own_notices[path]
        elif found := nearest_directory(path, directories):
            origin, governing = DIRECTORY, found[1]
        elif root is not None and root.license:
            origin, governing = ROOT, root
        expression = governing.license if governing else ""
        name = basename(path)
        yield Label(
            path=path,
            blob_id=blob_id,
            license_type=license_type(expression),
            license=expression,
            origin=origin,
            source=governing.source if governing else "",
            language=enry.get_language(name, head or b""),
            is_vendor=enry.is_vendor(path),
            is_generated=bool(head is not None and enry.is_generated(path, head)),
        )


def label_directory(label: Label) -> str:
    """The directory a maintainer overrules for this file: where its license comes from."""
    if label.origin == DIRECTORY:
        return dirname(label.source)
    return dirname(label.path)
