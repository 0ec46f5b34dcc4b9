"""Verdict rules measured against Debian's copyright files (bench/license_truth.py), on findings made by hand:
a license file that names another license for a part of the tree, a README that mentions a contributor
agreement, and a low score on a license file that the tree's SPDX lines settle."""

from audits.policy import DEFAULT_POLICY
from audits.scanning.verdicts import (
    FileEvidence,
    conflicts_settle,
    decision_for,
    doubts_settle,
    verdict_facts,
)


def _detection(key: str, *, tokens: int, score: float = 100.0, line: int = 1, spdx: str = "") -> dict:
    match = {
        "license_expression": key,
        "spdx_expression": spdx,
        "rule": f"{key}_1.RULE",
        "matcher": "2-aho",
        "score": score,
        "coverage": 100.0,
        "start_line": line,
        "end_line": line + 5,
        "matched_length": tokens,
        "is_license_text": tokens > 100,
    }
    return {
        "license_expression": key,
        "spdx_expression": spdx,
        "score": score,
        "start_line": line,
        "end_line": line + 5,
        "matches": [match],
    }


def _file(path: str, role: str, *detections: dict) -> FileEvidence:
    keys = " AND ".join(d["license_expression"] for d in detections)
    return FileEvidence(
        path=path,
        role=role,
        noise=False,
        blob_id="0" * 40,
        license_expression=keys,
        spdx_expression="",
        detections=list(detections),
        clues=[],
    )


# dash's COPYING: the BSD text, and a sentence saying one file is under the GPL.
DASH_COPYING = _file("COPYING", "license", _detection("bsd-new", tokens=220), _detection("gpl-2.0-plus", tokens=30))


def test_a_license_files_long_text_declares_and_a_license_named_for_a_part_is_a_conflict():
    facts = verdict_facts([DASH_COPYING])
    assert facts.declared_license == "BSD-3-Clause"
    assert facts.conflicts == [{"file": "COPYING", "license": "GPL-2.0-or-later", "scope": "parts"}]
    assert decision_for(facts, DEFAULT_POLICY).decision == "needs_review"


def test_the_part_is_settled_when_file_labels_carry_its_license():
    facts = verdict_facts([DASH_COPYING])
    facts.conflicts = conflicts_settle(facts.conflicts, carried={"GPL-2.0-or-later"})
    assert decision_for(facts, DEFAULT_POLICY).decision == "include"


def test_a_summary_that_names_each_license_briefly_declares_them_all():
    # lz4's LICENSE: "lib/ is BSD 2-Clause, all other files GPLv2".
    summary = _file("LICENSE", "license", _detection("bsd-simplified", tokens=12), _detection("gpl-2.0", tokens=10))
    assert verdict_facts([summary]).declared_license == "BSD-2-Clause AND GPL-2.0-only"


def test_a_contributor_agreement_in_the_readme_contradicts_no_license():
    readme = _file("README.md", "readme", _detection("generic-cla", tokens=40))
    license_file = _file("LICENSE", "license", _detection("bsd-new", tokens=220))
    facts = verdict_facts([license_file, readme])
    assert facts.conflicts == []
    assert decision_for(facts, DEFAULT_POLICY).decision == "include"


def test_a_low_score_on_the_license_file_is_settled_by_the_trees_spdx_lines():
    facts = verdict_facts([_file("COPYING", "license", _detection("curl", tokens=150, score=70.0, spdx="curl"))])
    assert [doubt["code"] for doubt in facts.uncertainties] == ["low_score"]
    doubts_settle(facts, spdx_lines={"curl": 1595})
    assert facts.uncertainties == []
    assert facts.notes[-1]["code"] == "settled_by_spdx_lines"
    assert decision_for(facts, DEFAULT_POLICY).decision == "include"


def test_a_few_spdx_lines_do_not_settle_a_doubt():
    facts = verdict_facts([_file("COPYING", "license", _detection("curl", tokens=150, score=70.0, spdx="curl"))])
    doubts_settle(facts, spdx_lines={"curl": 2})
    assert [doubt["code"] for doubt in facts.uncertainties] == ["low_score"]
