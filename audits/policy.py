"""License policies evaluated on SPDX expressions as boolean formulas.

`MIT OR GPL-3.0-only` passes a permissive policy (one branch is allowed), `MIT AND GPL-3.0-only`
does not (every part must be). `X WITH Y` passes when the policy lists that unit or allows `X`
itself: an SPDX exception only adds permissions (`Apache-2.0 WITH LLVM-exception` is Apache-2.0
with more freedom), so a policy that takes GPL-2.0-only only with the Classpath exception lists
`GPL-2.0-only WITH Classpath-exception-2.0`. A license that only says "some license, unknown which" makes the answer
depend on it: three-valued logic returns None there, which becomes `needs_review`.

A license id is decided by, in order: the deny list, the allow list, then its scancode category (a policy allows
categories: every Permissive and Public Domain license by default). An id scancode does not know is unknown
(None) when the policy allows categories; a policy of explicit lists alone refuses it, as it always did.
"""

from dataclasses import dataclass
from functools import cache

from license_expression import AND, OR, ExpressionError, LicenseSymbol, LicenseWithExceptionSymbol, Licensing

from audits.scancode import UNKNOWN_KEYS, is_spdx_exception, spdx_category
from governance.models import DEFAULT_ALLOWED_CATEGORIES

_licensing = Licensing()

# SPDX identifiers scancode gives to "a license is referred to, but which one is unknown".
UNKNOWN_SPDX_PREFIX = "licenseref-scancode-"
# Most permissive first; an AND takes the worst part, an OR the best branch. `unknown` sits where a policy's
# three-valued logic puts it: below any refused license (`GPL-2.0 AND <unknown>` is copyleft whatever the unknown
# is, as a policy refuses it), above an allowed one (`MIT AND <unknown>`, `GPL-2.0 OR <unknown>` hang on it).
CLASS_RANK = {"permissive": 0, "unknown": 1, "copyleft": 2, "proprietary": 3}


@dataclass(frozen=True)
class Policy:
    """Which licenses a dataset allows, and what a repository without any license gets."""

    name: str
    allowed: frozenset[str]  # lower-cased SPDX identifiers (or `X WITH Y` units)
    no_license: str  # include | exclude | needs_review
    categories: frozenset[str] = frozenset()  # scancode license categories allowed
    denied: frozenset[str] = frozenset()  # lower-cased SPDX identifiers (or units) refused whatever their category

    @classmethod
    def from_dataset(cls, dataset) -> "Policy":
        return cls(
            name=dataset.slug,
            allowed=_keys(dataset.allowed_licenses),
            no_license=dataset.no_license,
            categories=frozenset(dataset.allowed_categories),
            denied=_keys(dataset.denied_licenses),
        )


def _keys(spdx_ids) -> frozenset[str]:
    return frozenset(key.strip().lower() for key in spdx_ids)


# The built-in policy, reported under the key `default`: every Permissive and Public Domain license, and no license.
DEFAULT_POLICY = Policy(
    name="default", allowed=frozenset(), no_license="include", categories=frozenset(DEFAULT_ALLOWED_CATEGORIES)
)


def expression_parse(expression: str):
    """The parsed expression, or None when it is empty or not an expression at all."""
    if not expression.strip():
        return None
    try:
        return _licensing.parse(expression)
    except ExpressionError:
        return None


def is_unknown_spdx(key: str) -> bool:
    key = key.lower()
    return key.startswith(UNKNOWN_SPDX_PREFIX) and key[len(UNKNOWN_SPDX_PREFIX) :] in UNKNOWN_KEYS


@cache
def policy_allows(expression: str, policy: Policy) -> bool | None:
    """True if the policy allows the SPDX expression, False if it does not, None if that hangs on an unknown license."""
    parsed = expression_parse(expression)
    if parsed is None:
        return None
    return _allows(parsed, policy)


def _allows(node, policy: Policy) -> bool | None:
    if isinstance(node, LicenseWithExceptionSymbol):
        unit = str(node).lower()
        if unit in policy.denied:
            return False
        if unit in policy.allowed:
            return True
        return _allows(node.license_symbol, policy)
    if isinstance(node, LicenseSymbol):
        key = node.key.lower()
        if key in policy.denied:
            return False
        if key in policy.allowed:
            return True
        if is_unknown_spdx(key):
            return None
        if is_spdx_exception(key):
            # An exception found apart from its license (scancode reads `PCRE2-exception` as a part of its own)
            # only adds permissions to what the other parts grant: it refuses nothing.
            return True
        if not policy.categories:
            return False
        category = spdx_category(key)
        return None if category is None else category in policy.categories
    answers = [_allows(part, policy) for part in node.args]
    if isinstance(node, OR):
        if True in answers:
            return True
        return None if None in answers else False
    if isinstance(node, AND):
        if False in answers:
            return False
        return None if None in answers else True
    return None


def expression_class(expression: str, license_class) -> str:
    """permissive, copyleft, proprietary or unknown for a scancode-key expression (`license_class(key)`: one key's)."""
    parsed = expression_parse(expression)
    if parsed is None:
        return "unknown"
    return _class(parsed, license_class)


def _class(node, license_class) -> str:
    if isinstance(node, LicenseWithExceptionSymbol):
        return license_class(node.license_symbol.key)
    if isinstance(node, LicenseSymbol):
        return license_class(node.key)
    classes = [_class(part, license_class) for part in node.args]
    pick = min if isinstance(node, OR) else max
    return pick(classes, key=CLASS_RANK.__getitem__)


def expression_symbols(expression: str) -> set[str]:
    """The license identifiers (lower-cased) an expression names, exceptions left out."""
    parsed = expression_parse(expression)
    if parsed is None:
        return set()
    return {symbol.key.lower() for symbol in _licensing.license_symbols(parsed, decompose=True)}


def expression_combine(expressions: list[str]) -> str:
    """One expression for several: an `OR` that names every license of the others stands for them all
    (two license files plus a README saying "either, at your option"); otherwise they are ANDed."""
    unique = list(dict.fromkeys(expression for expression in expressions if expression))
    if not unique:
        return ""
    if len(unique) == 1:
        return unique[0]
    everything = set().union(*(expression_symbols(expression) for expression in unique))
    for expression in unique:
        parsed = expression_parse(expression)
        if isinstance(parsed, OR) and expression_symbols(expression) >= everything:
            return str(parsed)
    parsed_all = [expression_parse(expression) for expression in unique]
    combined = _licensing.AND(*[part for part in parsed_all if part is not None])
    # Flattened first, so `(mit AND bsd-new) AND (bsd-new AND mit)` becomes `mit AND bsd-new`.
    return str(_licensing.dedup(combined.flatten()))
