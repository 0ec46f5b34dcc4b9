"""SPDX expressions as projects write them (package manifests, `SPDX-License-Identifier:` lines), read exactly.

No scancode here: the expression is parsed against the SPDX license list that license-expression ships, so
`GPL-2.0+` becomes `GPL-2.0-or-later` and `mit or apache-2.0` becomes `MIT OR Apache-2.0`. An id that is not on
the list is kept as `LicenseRef-<id>` (a policy cannot know it: the repository goes to review) and reported.
"""

import re
from dataclasses import dataclass
from functools import cache

from license_expression import ExpressionError, get_spdx_licensing

_REF_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


@cache
def _licensing():
    return get_spdx_licensing()


@dataclass(frozen=True)
class SpdxParse:
    """An SPDX expression read from text: normalised, with what the SPDX list does not know."""

    expression: str  # "" when the text is not an expression at all (see error)
    unknown: tuple[str, ...] = ()  # ids as written that are not on the SPDX list (now LicenseRef-…)
    error: str = ""


def _known_or_later(key: str) -> bool:
    if not key.endswith("+"):
        return False
    base = _licensing().parse(key[:-1], validate=False)
    return base is not None and not _licensing().unknown_license_symbols(base)


def spdx_reference(name: str) -> str:
    """`LicenseRef-<name>` with what SPDX refuses in an id turned into dashes (`Apache License 2.0` →
    `LicenseRef-Apache-License-2.0`)."""
    if name.lower().startswith("licenseref-"):
        return name
    return "LicenseRef-" + (_REF_UNSAFE.sub("-", name).strip("-") or "unknown")


def spdx_parse(text: str) -> SpdxParse:
    """Parse an SPDX license expression; unknown ids become LicenseRef-…, and a text that is no expression an error."""
    text = " ".join(text.split())
    if not text:
        return SpdxParse("", error="empty")
    licensing = _licensing()
    try:
        parsed = licensing.parse(text, validate=False)
    except ExpressionError as failure:
        return SpdxParse("", error=f"not an SPDX expression: {failure}")
    if parsed is None:
        return SpdxParse("", error="empty")
    unknown = [
        symbol
        for symbol in licensing.unknown_license_symbols(parsed)
        # `MPL-1.1+` is SPDX's "this version or any later one" of a known id: valid as it is written.
        if not symbol.key.lower().startswith("licenseref-") and not _known_or_later(symbol.key)
    ]
    if not unknown:
        return SpdxParse(str(parsed))
    renamed = {symbol.key: spdx_reference(symbol.key) for symbol in unknown}
    expression = str(parsed)
    # Longest first, so that `MIT-X` is not half-renamed by a shorter unknown `MIT-`.
    for key in sorted(renamed, key=len, reverse=True):
        expression = re.sub(rf"(?<![\w.\-]){re.escape(key)}(?![\w.\-])", renamed[key], expression)
    return SpdxParse(expression, unknown=tuple(sorted(renamed)))
