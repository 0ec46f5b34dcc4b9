"""bench/license_truth.py's scoring: per-file labels against DEP-5 truths, the decision a copyright file implies,
and the overall figures; on hand-made label lists and the real copyright files of tests/data/dep5."""

from bench.dep5 import copyright_parse
from bench.license_truth import (
    anchor_sample,
    expression_label,
    file_truths,
    labels_compare,
    overall,
    truth_root,
)
from tests.test_dep5 import copyright_of


def scanned(name: str, truths: dict, labels: dict | None, *, decision: str, truth_decision: str, cpu: float = 1.0):
    """A package entry as main() leaves it after a scan."""
    comparison = labels_compare(truths, labels)
    return {
        "name": name,
        "decision": decision,
        "truth_decision": truth_decision,
        "scan": {"cpu_seconds": cpu},
        "comparison": comparison,
        "labels": comparison["labels"],
    }


def test_jq_files_get_the_category_of_their_last_matching_paragraph():
    truths = file_truths(copyright_of("jq"), ["src/main.c", "docs/Rakefile", "src/jv_dtoa.c"])

    assert truths == {"src/main.c": "permissive", "docs/Rakefile": "permissive", "src/jv_dtoa.c": "permissive"}


def test_libgit2_is_copyleft_with_permissive_and_unmapped_files_inside():
    truths = file_truths(
        copyright_of("libgit2"), ["src/libgit2/repository.c", "tests/clar/clar.c", "include/git2/stdint.h"]
    )

    assert truths["src/libgit2/repository.c"] == "non_permissive"
    assert truths["tests/clar/clar.c"] == "permissive"
    assert truths["include/git2/stdint.h"] == "unmapped:BSD-3-clause-modified"


def test_right_labels_count_and_wrong_ones_do_not():
    truths = {"a.c": "permissive", "b.c": "permissive", "c.c": "non_permissive", "d.c": "non_permissive"}
    labels = {"a.c": "permissive", "b.c": "non_permissive", "c.c": "non_permissive", "d.c": "non_permissive"}

    comparison = labels_compare(truths, labels)

    assert comparison["accuracy"] == 0.75
    assert comparison["confusion"]["permissive"] == {"non_permissive": 1, "permissive": 1}
    assert comparison["permissive_precision"] == 1.0


def test_unknown_and_no_license_are_never_right():
    truths = {"a.c": "permissive", "b.c": "non_permissive"}

    comparison = labels_compare(truths, {"a.c": "no_license", "b.c": "unknown"})

    assert comparison["right"] == 0
    assert comparison["accuracy"] == 0.0
    assert comparison["permissive_precision"] is None  # nothing was called permissive


def test_a_copyleft_file_labelled_permissive_is_the_costly_mistake():
    truths = {f"{n}.c": "permissive" for n in range(9)} | {"gpl.c": "non_permissive"}
    labels = dict.fromkeys(truths, "permissive")

    comparison = labels_compare(truths, labels)

    assert comparison["permissive_precision"] == 0.9
    assert comparison["non_permissive_labelled_permissive"] == 1


def test_no_license_on_a_copyleft_file_lowers_only_what_the_default_policy_lets_through():
    truths = {"a.c": "permissive", "gpl.c": "non_permissive"}

    comparison = labels_compare(truths, {"a.c": "permissive", "gpl.c": "no_license"})

    assert comparison["permissive_precision"] == 1.0
    assert comparison["included_precision"] == 0.5


def test_unmapped_and_unmatched_files_are_tallied_apart_not_scored():
    truths = {"a.c": "permissive", "b.c": "unmapped:BSD-variant", "c.c": "unmapped:BSD-variant", "d.c": None}
    labels = {"a.c": "permissive", "b.c": "permissive", "c.c": "unknown", "d.c": "no_license"}

    comparison = labels_compare(truths, labels)

    assert comparison["files_with_truth"] == 1
    assert comparison["accuracy"] == 1.0
    assert comparison["unmapped"] == {"BSD-variant": {"permissive": 1, "unknown": 1}}
    assert comparison["files_without_paragraph"] == {"no_license": 1}


def test_a_file_with_truth_but_no_label_counts_as_missing_and_wrong():
    comparison = labels_compare({"a.c": "permissive", "b.c": "permissive"}, {"a.c": "permissive", "z.c": "unknown"})

    assert comparison["labels_missing"] == 1
    assert comparison["accuracy"] == 0.5
    assert comparison["labels_not_in_tree"] == 1


def test_a_scan_without_labels_reports_them_missing_with_no_scores():
    comparison = labels_compare({"a.c": "permissive", "b.c": "non_permissive"}, None)

    assert comparison["labels"] == "missing"
    assert comparison["files_with_truth"] == 2
    assert comparison["accuracy"] is None
    assert comparison["permissive_precision"] is None


def test_the_root_paragraph_implies_the_repository_decision():
    assert truth_root(copyright_of("jq"), ["COPYING"]) == ("MIT", "include")
    assert truth_root(copyright_of("libzstd"), ["LICENSE"]) == ("BSD-3-clause or GPL-2", "include")
    assert truth_root(copyright_of("xz-utils"), ["COPYING"]) == ("PD", "include")
    assert truth_root(copyright_of("libgit2"), ["COPYING"])[1] == "exclude"


def test_an_unmapped_root_license_implies_review():
    copyright_ = copyright_parse("Format: copyright-format/1.0\n\nFiles: *\nLicense: BSD-variant\n")

    assert truth_root(copyright_, ["LICENSE"]) == ("BSD-variant", "needs_review")


def test_without_a_root_paragraph_the_root_license_file_decides():
    copyright_ = copyright_parse(
        "Format: copyright-format/1.0\n\nFiles: LICENSE src/*\nLicense: GPL-3+\n\nFiles: doc/*\nLicense: Expat\n"
    )

    assert truth_root(copyright_, ["LICENSE", "doc/x.md", "src/a.c"]) == ("GPL-3+", "exclude")
    assert truth_root(copyright_, ["README", "doc/x.md"]) == (None, "needs_review")


def test_overall_scores_packages_with_labels_and_compares_every_decision():
    labelled = scanned("a", {"x.c": "permissive"}, {"x.c": "permissive"}, decision="include", truth_decision="include")
    unlabelled = scanned("b", {"y.c": "non_permissive"}, None, decision="needs_review", truth_decision="exclude")

    figures = overall([labelled, unlabelled, {"name": "c", "error": "apt-get source c failed"}])

    assert figures["files_with_truth"] == 1
    assert figures["accuracy"] == 1.0
    assert figures["packages_without_labels"] == ["b"]
    assert figures["packages_failed"] == ["c"]
    assert figures["decisions_agree"] == 0.5
    assert figures["needs_review_share"] == 0.5


def test_overall_cpu_goals_read_the_median_and_p95_of_the_scans():
    entries = [scanned(f"p{n}", {}, None, decision="include", truth_decision="include", cpu=n) for n in range(1, 21)]

    figures = overall(entries)

    assert figures["cpu_seconds_median"] == 10.5
    assert figures["cpu_seconds_p95"] == 20
    assert figures["goals_met"]["cpu_seconds_median"] is False
    assert figures["goals_met"]["accuracy"] is None


def test_the_anchor_draws_the_same_files_with_truth_every_time():
    entries = [{"name": "a", "decision": "include"}, {"name": "b", "decision": "exclude"}, {"name": "c"}]
    truths = {
        "a": {f"a{n}.c": "permissive" for n in range(50)} | {"odd.c": "unmapped:other"},
        "b": {f"b{n}.c": "non_permissive" for n in range(50)},
        "c": {"never.c": "permissive"},  # not scanned: not drawn
    }

    sample = anchor_sample(entries, truths, 30)

    assert sample == anchor_sample(entries, truths, 30)
    assert len(sample) == 30
    assert all(path != "odd.c" and package != "c" for package, path in sample)


def test_anchor_findings_take_the_default_policys_categories():
    assert expression_label("MIT AND BSD-3-Clause") == "permissive"
    assert expression_label("GPL-2.0-only OR LicenseRef-scancode-public-domain") == "permissive"
    assert expression_label("GPL-3.0-or-later") == "non_permissive"
    assert expression_label("LicenseRef-scancode-unknown-license-reference") == "unknown"
    assert expression_label("") == "no_license"
