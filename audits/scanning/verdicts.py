"""From per-file findings to a repository verdict, and from a verdict to a decision under a policy.

The declared license comes from the key files at the root (license files and package manifests;
the README when they say nothing). Other files add detected licenses; a strong match in one of
them to a license the policy refuses, while the declared license is allowed, is a conflict. What
makes us unsure about the key files (only a clue, an unknown license, a low score, a file cut
short) sends the verdict to a maintainer. Translation catalogs and data files are shown, but
never decide anything on their own.
"""

import hashlib
import json
from dataclasses import dataclass, field

from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol

from audits import scancode
from audits.policy import (
    Policy,
    expression_class,
    expression_combine,
    expression_parse,
    expression_symbols,
    policy_allows,
)
from audits.scancode import UNKNOWN_KEYS
from audits.scanning.files import (
    KEY_ROLES,
    LICENSE,
    MANIFEST,
    NESTED_LICENSE,
    NOTICE_CANDIDATE,
    OTHER,
    README,
    ROLE_ORDER,
    is_primary_license_file,
)
from audits.scanning.labels import is_directory_license_file

MAX_EVIDENCE_FILES = 500
MAX_EVIDENCE_MATCHES = 50


@dataclass
class FileEvidence:
    """One scanned file and scancode's finding for its blob."""

    path: str
    role: str
    noise: bool
    blob_id: str
    license_expression: str
    spdx_expression: str
    detections: list[dict]
    clues: list[dict]
    timed_out: bool = False
    error: str = ""


@dataclass
class VerdictFacts:
    declared_license: str = ""  # SPDX
    effective_license: str = ""  # SPDX: declared, or what source headers say when nothing is declared
    detected_licenses: list[str] = field(default_factory=list)
    classification: str = "no_license"
    uncertainties: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    truncated: dict[str, int] = field(default_factory=dict)  # what was cut, by what: counts

    @property
    def evidence_digest(self) -> str:
        """What a review was given: the licenses and every reason to doubt them, not line numbers."""
        summary = {
            "effective": self.effective_license,
            "declared": self.declared_license,
            "detected": self.detected_licenses,
            "uncertain": sorted((u["code"], u.get("file", ""), u.get("license", "")) for u in self.uncertainties),
            "conflicts": sorted((c["file"], c["license"]) for c in self.conflicts),
        }
        return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


def verdict_facts(files: list[FileEvidence]) -> VerdictFacts:
    """The repository-level verdict from the findings of its scanned files."""
    facts = VerdictFacts()
    files = sorted(files, key=lambda f: (ROLE_ORDER.get(f.role, 9), f.path))
    key_files = [f for f in files if f.role in KEY_ROLES]

    # The license file proper (LICENSE, COPYING …) declares; beside it, LICENSE.python or NOTICE speak
    # for parts of the code (conflicts, not the declaration). Without one, every root license file
    # declares (LICENSE-MIT and LICENSE-APACHE).
    license_files = [f for f in key_files if f.role == LICENSE and declared_expression(f)]
    primary = [f for f in license_files if is_primary_license_file(f.path)]
    secondary = [f for f in license_files if primary and f not in primary]
    declaring = [f for f in key_files if f.role == MANIFEST and declared_expression(f)] + (primary or license_files)
    key_files = [f for f in key_files if f not in secondary]
    readmes = [f for f in key_files if f.role == README]
    readme_decides = not declaring
    if readme_decides:
        declaring = [f for f in readmes if declared_expression(f)]
    # A license file proper that is one license's text, naming another for a part of the tree ("mksignames.c is
    # GPL"), declares the text's license; the part is a conflict, settled when the files it covers are found.
    parts = {f.path: _license_file_parts(f) for f in declaring if f.role == LICENSE}
    declared_keys = expression_combine(
        [parts[f.path][0] if f.path in parts else declared_expression(f) for f in declaring]
    )
    if not readme_decides:
        # LICENSE-MIT and LICENSE-APACHE alone read as both; a README saying "either … at your option"
        # makes them a choice. expression_combine keeps an OR that names every license declared.
        declared_symbols = expression_symbols(declared_keys)
        readme_expressions = [_strong_expression(f) for f in readmes]
        choices = [
            expression
            for expression in readme_expressions
            if isinstance(expression_parse(expression), OR) and expression_symbols(expression) >= declared_symbols
        ]
        declared_keys = expression_combine([declared_keys, *choices])

    strong_others = secondary + [f for f in files if f.role not in KEY_ROLES and not f.noise and notice_expression(f)]
    effective_keys = declared_keys
    if not effective_keys and strong_others:
        effective_keys = expression_combine([notice_expression(f) for f in strong_others])
        facts.notes.append(
            {"code": "headers_only", "detail": "No license file or manifest: the license comes from notices in files"}
        )
    if declaring and all(f.role == README for f in declaring):
        facts.notes.append({"code": "readme_only", "detail": "The license is only stated in the README"})

    facts.declared_license = scancode.spdx_expression(declared_keys)
    facts.effective_license = scancode.spdx_expression(effective_keys)
    facts.detected_licenses = sorted({f.spdx_expression for f in files if f.spdx_expression})

    # What makes the key files (or, with nothing declared, the notices that stand in for them) unsure.
    # A README that does not decide the license is not doubted: "See LICENSE" (an unknown-license
    # reference to scancode) or a project named "gpl-tool" (a clue) says nothing against a license file.
    deciding = [f for f in key_files if readme_decides or f.role != README]
    if not declared_keys:
        deciding += strong_others
    for f in deciding:
        facts.uncertainties.extend(_doubts(f))

    if declared_keys:
        declared_symbols = expression_symbols(declared_keys)
        # A README that names a license beyond the declared ones contradicts the license files.
        contradicting = [
            f
            for f in readmes
            if not readme_decides and not expression_symbols(_strong_expression(f)) <= declared_symbols
        ]
        for f in contradicting:
            if license_ := _license_only(scancode.spdx_expression(_strong_expression(f))):
                facts.conflicts.append({"file": f.path, "license": license_})
        for path, (_, minor) in parts.items():
            for expression in minor:
                facts.conflicts.append(
                    {"file": path, "license": scancode.spdx_expression(expression), "scope": "parts"}
                )
        for f in strong_others:
            if expression := notice_expression(f):
                conflict = {"file": f.path, "license": scancode.spdx_expression(expression)}
                if f not in secondary and _labels_carry(f):
                    # The file's own label (or its directory's) carries it: a file exclusion, not a repository's doubt.
                    conflict["scope"] = "file"
                facts.conflicts.append(conflict)

    if effective_keys:
        facts.classification = expression_class(effective_keys, scancode.license_class)
    elif facts.uncertainties:
        facts.classification = "unknown"
    else:
        facts.classification = "no_license"

    with_findings = [f for f in files if f.detections or f.clues or f.timed_out or f.error]
    facts.evidence = [_evidence(f) for f in with_findings[:MAX_EVIDENCE_FILES]]
    if len(with_findings) > MAX_EVIDENCE_FILES:
        facts.truncated["evidence_files_left_out"] = len(with_findings) - MAX_EVIDENCE_FILES
    matches_cut = sum(max(0, len(item["matches_all"]) - MAX_EVIDENCE_MATCHES) for item in facts.evidence)
    for item in facts.evidence:
        del item["matches_all"]
    if matches_cut:
        facts.truncated["evidence_matches_left_out"] = matches_cut
    return facts


# Part of the license file's matched text under which another license is only named for a part of the tree.
MINOR_SHARE = 0.25
# scancode categories of texts that grant nothing by themselves: a contributor agreement, a patent grant.
NOT_LICENSES = frozenset({"CLA", "Patent License", "Unstated License"})


def _license_file_parts(f: FileEvidence) -> tuple[str, list[str]]:
    """(what a license file declares, the licenses it names for parts only): detections far shorter than its
    longest (under MINOR_SHARE of its matched tokens) name a part of the tree, unless all are that short
    (a summary such as "lib/ is BSD, the rest GPL" declares all it names)."""
    lengths: dict[str, int] = {}
    # By match: scancode joins the text and a sentence below it naming another license into one detection.
    for m in (m for d in f.detections for m in d["matches"]):
        if known := _known_part(m["license_expression"]):
            lengths[known] = lengths.get(known, 0) + m.get("matched_length", 0)
    if len(lengths) < 2:
        return declared_expression(f), []
    longest = max(lengths.values())
    major = [expression for expression, length in lengths.items() if length >= MINOR_SHARE * longest]
    minor = [expression for expression, length in lengths.items() if length < MINOR_SHARE * longest]
    return expression_combine(major), minor


def _license_only(spdx: str) -> str:
    """The expression without what grants nothing by itself (a CLA, a patent grant); empty when nothing is left."""
    parsed = expression_parse(spdx)
    if parsed is None:
        return spdx
    symbols = expression_symbols(spdx)
    if symbols and all(scancode.spdx_category(symbol) in NOT_LICENSES for symbol in symbols):
        return ""
    return spdx


def conflicts_settle(conflicts: list[dict], *, carried: set[str]) -> list[dict]:
    """A license a license file names for parts of the tree is settled when file labels carry it (those files are
    excluded alone); otherwise it stays a conflict a maintainer settles."""
    settled = []
    for conflict in conflicts:
        if conflict.get("scope") == "parts" and conflict["license"] in carried:
            conflict = {**conflict, "scope": "file"}
        settled.append(conflict)
    return settled


# Files that must state a license in an SPDX-License-Identifier line before it settles a doubt on the license file.
SPDX_LINES_SETTLE = 3


def doubts_settle(facts: VerdictFacts, *, spdx_lines: dict[str, int]) -> None:
    """A low score on a license file is settled when files of the tree state that license exactly, in
    SPDX-License-Identifier lines (curl's COPYING differs a little from scancode's text; 1,600 files say `curl`)."""
    kept = []
    for doubt in facts.uncertainties:
        license_ = doubt.get("license", "")
        stated = [
            (count, expression)
            for expression, count in spdx_lines.items()
            if count >= SPDX_LINES_SETTLE
            and license_
            and expression_symbols(license_) <= expression_symbols(expression)
        ]
        if doubt["code"] != "low_score" or not stated:
            kept.append(doubt)
            continue
        count, expression = max(stated)
        facts.notes.append(
            {
                "code": "settled_by_spdx_lines",
                "file": doubt["file"],
                "detail": f"{doubt['file']}: {license_} matched with a low score; {count} files state "
                f"SPDX-License-Identifier: {expression}",
            }
        )
    facts.uncertainties = kept


def _labels_carry(f: FileEvidence) -> bool:
    """Whether the file labels express this file's license: its own notice, or its directory's license file."""
    return f.role in (NOTICE_CANDIDATE, OTHER) or (f.role == NESTED_LICENSE and is_directory_license_file(f.path))


def _strong_expression(f: FileEvidence) -> str:
    """The file's detections scored high enough to stand on their own, unknown references left out."""
    return expression_combine(
        [_known_part(d["license_expression"]) for d in f.detections if d["score"] >= scancode.LOW_SCORE]
    )


# A match this short (in tokens) names a license ("GPL-compatible", a project called "gpl-tools") rather
# than granting one; only longer ones, SPDX identifiers and license texts make a conflict.
MIN_NOTICE_TOKENS = 12


def notice_expression(f: FileEvidence) -> str:
    """Like _strong_expression, but only detections with a notice, an SPDX identifier or a license text."""
    return expression_combine(
        [
            _known_part(d["license_expression"])
            for d in f.detections
            if d["score"] >= scancode.LOW_SCORE
            and any(
                m.get("matcher") == "1-spdx-id"
                or m.get("is_license_text")
                or m.get("matched_length", MIN_NOTICE_TOKENS) >= MIN_NOTICE_TOKENS
                for m in d["matches"]
            )
        ]
    )


def declared_expression(f: FileEvidence) -> str:
    """What a key file declares: its detections with unknown references left out when it names a known license.

    `license = "MIT OR Apache-2.0"` in a Cargo.toml reads as `unknown-license-reference AND (mit OR apache-2.0)`:
    the reference is the manifest's own field. A file that only refers to an unknown license keeps it.
    """
    known = expression_combine([_known_part(d["license_expression"]) for d in f.detections])
    return known or f.license_expression


def _known_part(expression: str) -> str:
    """The expression with unknown-license symbols dropped from its ANDs; empty when nothing else is left."""
    parsed = expression_parse(expression)
    if parsed is None:
        return ""
    known = _without_unknown(parsed)
    return str(known) if known is not None else ""


def _without_unknown(node):
    if isinstance(node, LicenseWithExceptionSymbol):
        return node
    if isinstance(node, LicenseSymbol):
        return None if node.key.lower() in UNKNOWN_KEYS else node
    parts = [part for part in (_without_unknown(arg) for arg in node.args) if part is not None]
    if not parts:
        return None
    if isinstance(node, AND):
        return parts[0] if len(parts) == 1 else node.__class__(*parts)
    # An OR with an unknown branch stays whole: which branch applies is not ours to drop.
    return node if len(parts) < len(node.args) else node.__class__(*parts)


def _doubts(f: FileEvidence) -> list[dict]:
    doubts = []
    if f.timed_out:
        doubts.append(
            {"code": "timed_out", "file": f.path, "detail": f"{f.path}: the scan was cut short by the time limit"}
        )
    if f.error:
        doubts.append({"code": "scan_error", "file": f.path, "detail": f"{f.path}: {f.error}"})
    if f.clues and not f.detections:
        clue = max(f.clues, key=lambda c: c["score"])
        doubts.append(
            {
                "code": "clue_only",
                "file": f.path,
                "license": clue["spdx_expression"],
                "detail": f"{f.path}: only a clue of {clue['spdx_expression'] or 'a license'} "
                f"(lines {clue['start_line']}–{clue['end_line']}, rule {clue['rule']}, score {clue['score']:g})",
            }
        )
    for d in f.detections:
        unknown = expression_symbols(d["license_expression"]) & UNKNOWN_KEYS
        # "MIT, see LICENSE" is one detection of MIT and an unknown reference: the reference is a pointer.
        if unknown and not _known_part(d["license_expression"]):
            doubts.append(
                {
                    "code": "unknown_license",
                    "file": f.path,
                    "license": d["spdx_expression"],
                    "detail": f"{f.path}: lines {d['start_line']}–{d['end_line']} refer to a license scancode "
                    f"does not know ({', '.join(sorted(unknown))})",
                }
            )
        elif d["score"] < scancode.LOW_SCORE:
            doubts.append(
                {
                    "code": "low_score",
                    "file": f.path,
                    "license": d["spdx_expression"],
                    "detail": f"{f.path}: {d['spdx_expression']} matched with score {d['score']:g} "
                    f"(lines {d['start_line']}–{d['end_line']}), below {scancode.LOW_SCORE:g}",
                }
            )
    return doubts


def _evidence(f: FileEvidence) -> dict:
    matches = [
        {
            "license": m["spdx_expression"],
            "start_line": m["start_line"],
            "end_line": m["end_line"],
            "rule": m["rule"],
            "matcher": m["matcher"],
            "score": m["score"],
            "clue": clue,
        }
        for clue, found in ((False, [m for d in f.detections for m in d["matches"]]), (True, f.clues))
        for m in found
    ]
    return {
        "file": f.path,
        "role": f.role,
        "noise": f.noise,
        "blob_id": f.blob_id,
        "license": f.spdx_expression,
        "timed_out": f.timed_out,
        "error": f.error,
        "matches": matches[:MAX_EVIDENCE_MATCHES],
        "matches_all": matches,  # counted for `truncated`, then dropped
    }


@dataclass(frozen=True)
class PolicyDecision:
    decision: str  # include | exclude | needs_review
    reasons: list[dict]


def decision_for(facts, policy: Policy) -> PolicyDecision:
    """What a policy decides on a verdict. `facts` is a VerdictFacts or a stored Verdict: no rescan needed."""
    effective = facts.effective_license
    uncertainties = list(facts.uncertainties)
    if not effective:
        if uncertainties:
            return PolicyDecision("needs_review", uncertainties)
        return PolicyDecision(
            policy.no_license,
            [
                {
                    "code": "no_license",
                    "detail": f"No license found; the policy {policy.name!r} says {policy.no_license}",
                }
            ],
        )
    allowed = policy_allows(effective, policy)
    if allowed is False:
        return PolicyDecision(
            "exclude",
            [
                {
                    "code": "license_not_allowed",
                    "license": effective,
                    "detail": f"{effective} is not allowed by {policy.name!r}",
                }
            ],
        )
    if allowed is None:
        return PolicyDecision(
            "needs_review",
            [
                {
                    "code": "unknown_license",
                    "license": effective,
                    "detail": f"Whether {effective} is allowed depends on a license scancode does not know",
                }
            ]
            + uncertainties,
        )
    reasons = [
        {
            "code": "conflict",
            "file": conflict["file"],
            "license": conflict["license"],
            "detail": f"{conflict['file']}: {conflict['license']}, which {policy.name!r} does not allow, "
            f"in a repository declared {effective}",
        }
        for conflict in facts.conflicts
        # A file's own license is decided file by file (file exclusions); what speaks for an unclear part (a
        # license file naming another license for some files nobody found) stays.
        if conflict.get("scope") != "file" and policy_allows(conflict["license"], policy) is not True
    ]
    reasons += uncertainties
    if reasons:
        return PolicyDecision("needs_review", reasons)
    return PolicyDecision(
        "include", [{"code": "license_allowed", "license": effective, "detail": f"{effective} is allowed"}]
    )


__all__ = [
    "FileEvidence",
    "VerdictFacts",
    "conflicts_settle",
    "decision_for",
    "declared_expression",
    "doubts_settle",
    "notice_expression",
    "verdict_facts",
]
