"""Benchmark: the portal's per-file license labels against Debian's machine-readable copyright files (DEP-5).

Debian's maintainers state, file pattern by file pattern, which license every file of a source package is under.
For each package of PACKAGES (Debian 12 main; fetched with bench/debian_sources.py, cached under --work) the
upstream tree, `debian/` left out, is committed into a git repository and scanned through the real pipeline in this
process (`audits.services.scan_repository`, key files only unless --deep, the license index loaded first, a scratch
database). Each file's label (`audits.models.FileLabel.license_type`) is then compared with the category DEP-5 gives
it (bench/dep5.py: the last matching `Files:` paragraph's `License:`, mapped through SPDX ids to scancode's
categories: Permissive and Public Domain are `permissive`, every other category `non_permissive`).

How labels are scored (a file is one path of the committed tree):
- a file "has truth" when DEP-5's license for it maps to `permissive` or `non_permissive`; accuracy and precision
  are over those files only. A license name that is no license id (`other`, `BSD-variant`, `PD-debian`, a project's
  own name) is `unmapped:<name>`: such files are tallied apart (with what the portal said of them), never scored,
  since nobody can say which answer would be right. Files no paragraph matches (a copyright file without
  `Files: *`) are tallied apart too.
- `permissive` / `non_permissive` labels are right when they equal the truth. `unknown` is never right: it sends a
  person to look. `no_license` is never right either: DEP-5 gives every file it matches a license, so "no
  license" on a file with truth is a miss. A file with truth but no label row counts as `missing` (wrong).
- precision of `permissive`: of the files with truth labelled `permissive`, the share whose truth is permissive
  (goal ≥ 0.995: calling a copyleft file permissive is the costly mistake). Reported next to it:
  `included_precision`, the same over every label the default policy lets through (`permissive` and
  `no_license`, which the default policy includes).

The repository decision under the default policy (Permissive and Public Domain allowed, no license included) is
compared with the decision the truth implies: the `Files: *` paragraph's license (or, without one, the license
DEP-5 gives the root's LICENSE/COPYING file) permissive → `include` (files under other licenses inside are file
exclusions, not a repository exclusion), non-permissive → `exclude`, unmapped or none → `needs_review`. The goal
is checked on every package scanned; `decisions_agree_where_the_root_license_maps` leaves out the packages whose
truth is `needs_review` only because DEP-5 names no license id at the root (bzip2's `BSD-variant`, less's `Less`).

One run prints one JSON object: per package (files, files with truth, accuracy, confusion counts truth × label,
decisions, CPU and wall seconds of the scan, or the error that stopped it) and overall figures with their goals:
accuracy ≥ 0.97, precision of permissive ≥ 0.995, repository decisions agreeing ≥ 0.95, share of needs_review
≤ 0.10, median CPU seconds of a key-files verdict ≤ 5 and p95 ≤ 30 (CPU: this process and its children, from
getrusage, around scan_repository; the index is loaded before).

Anchor, side by side: --anchor-files N files (default 200) drawn with a fixed seed from the files with truth of
all packages are run through scancode's own detection on the whole file (`audits.scancode.file_scan`); its SPDX
expression is put in the same categories by the default policy (allowed → permissive, refused → non_permissive,
undecidable → unknown, nothing found → no_license) and scored on those files next to the portal's labels.

Run from an older code tree (without `audits.models.FileLabel`), every package reports its labels as missing and
the comparison says so: what is left is the cost and the decisions, for before/after figures. The 49 packages fetch
in about a minute from a near mirror (once; then from --work) and take about 1 GB on disk (downloads, trees and
their git repositories). A whole run takes about 10 minutes on one core (scans one after the other, in this
process); `--packages` runs a part. Before notice blocks (4c028c5) it took about an hour and a half: up to 200
notice files a repository went through scancode whole, 1–2 CPU seconds each.

    .venv/bin/python bench/license_truth.py [--packages jq,zlib] [--work DIR] [--deep] [--anchor-files 200]
        [--json-out FILE]
"""

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# Its sibling modules, also when imported as bench.license_truth (the tests do).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, percentile, scratch_database  # noqa: E402
from debian_sources import DEFAULT_WORK, SourceError, source_fetch, source_lists_update, tree_paths  # noqa: E402
from dep5 import NON_PERMISSIVE, PERMISSIVE, UNMAPPED_PREFIX, Copyright, license_category  # noqa: E402

# Debian 12 (bookworm) main source packages, all with DEP-5 copyright files (checked by the fetch step).
PACKAGES = (
    # Permissive: MIT/Expat, BSD, ISC, Zlib, curl, Apache-2.0, Unlicense, libpng.
    "jq", "curl", "tmux", "zlib", "lua5.4", "expat", "libpng1.6", "lz4", "libyaml", "jansson", "cjson", "libuv1",
    "libffi", "redis", "nghttp2", "brotli", "libsodium", "libevent", "leveldb", "snappy", "yajl", "tinyxml2",
    "json-c", "libtommath", "mbedtls", "libwebsockets", "opus", "libogg", "libvorbis", "dash",
    # Copyleft: GPL-2, GPL-2+, GPL-3+.
    "htop", "gzip", "sed", "grep", "nano", "bc", "mawk",
    # Public domain.
    "sqlite3", "xz-utils",
    # Dual-licensed: BSD-3-clause or GPL-2; Unlicense or MIT; GPL-2+ or LGPL-2.1+; GPL-3+ or Less.
    "libzstd", "rust-ripgrep", "flac", "less",
    # Mixed trees: a copyleft root with permissive parts, permissive roots with copyleft or unnamed parts,
    # no `Files: *` at all.
    "libgit2", "libxml2", "pcre2", "bzip2", "lmdb", "libjpeg-turbo",
)  # fmt: skip

GOAL_ACCURACY = 0.97
GOAL_PERMISSIVE_PRECISION = 0.995
GOAL_DECISIONS_AGREE = 0.95
GOAL_NEEDS_REVIEW_SHARE = 0.10
GOAL_MEDIAN_CPU_SECONDS = 5.0
GOAL_P95_CPU_SECONDS = 30.0
ANCHOR_SEED = 20250520

LABELS = ("permissive", "non_permissive", "no_license", "unknown")
MISSING = "missing"
SCORED_TRUTHS = (PERMISSIVE, NON_PERMISSIVE)
# Labels the default policy lets through.
INCLUDED_LABELS = ("permissive", "no_license")
ROOT_LICENSE_FILES = ("license", "licence", "copying")


def file_truths(copyright_: Copyright, paths: list[str]) -> dict[str, str | None]:
    """Each path's DEP-5 category (`permissive`, `non_permissive`, `unmapped:<name>`); None if no paragraph matches."""
    truths = {}
    for path in paths:
        short_name = copyright_.license_for(path)
        truths[path] = None if short_name is None else license_category(short_name)
    return truths


def truth_root(copyright_: Copyright, paths: list[str]) -> tuple[str | None, str]:
    """(the license DEP-5 gives the whole package, the decision it implies under the default policy)."""
    root = copyright_.root_license
    if root is None:
        license_files = sorted(
            path for path in paths if "/" not in path and path.lower().startswith(ROOT_LICENSE_FILES)
        )
        root = next((copyright_.license_for(path) for path in license_files if copyright_.license_for(path)), None)
    category = license_category(root) if root else None
    decision = {PERMISSIVE: "include", NON_PERMISSIVE: "exclude"}.get(category, "needs_review")
    return root, decision


def labels_compare(truths: dict[str, str | None], labels: dict[str, str] | None) -> dict:
    """Score per-file labels (path → license_type) against DEP-5 truths, as the module docstring says; with no labels
    at all (None or empty) only the truths are counted and the scores are None, not zeros."""
    labels = labels or {}
    confusion = {truth: Counter() for truth in SCORED_TRUTHS}
    unmapped: dict[str, Counter] = {}
    no_truth = Counter()
    for path, truth in truths.items():
        label = labels.get(path, MISSING)
        if truth in SCORED_TRUTHS:
            confusion[truth][label] += 1
        elif truth is None:
            no_truth[label] += 1
        else:
            unmapped.setdefault(truth.removeprefix(UNMAPPED_PREFIX), Counter())[label] += 1
    scores = _scores(confusion)
    if not labels:
        scores = dict.fromkeys(scores)
    return {
        "files": len(truths),
        "files_with_truth": sum(sum(counts.values()) for counts in confusion.values()),
        "labels": len(labels) or MISSING,
        **scores,
        "confusion": {truth: dict(sorted(counts.items())) for truth, counts in confusion.items()},
        "files_unmapped": sum(sum(counts.values()) for counts in unmapped.values()),
        "unmapped": {name: dict(sorted(counts.items())) for name, counts in sorted(unmapped.items())},
        "files_without_paragraph": dict(sorted(no_truth.items())),
        "labels_missing": sum(counts[MISSING] for counts in confusion.values()),
        # Paths labelled that the tree does not have: a sign the two lists do not describe the same commit.
        "labels_not_in_tree": sum(1 for path in labels if path not in truths),
    }


def _scores(confusion: dict[str, Counter]) -> dict:
    right = sum(confusion[truth][truth] for truth in SCORED_TRUTHS)
    with_truth = sum(sum(counts.values()) for counts in confusion.values())
    called_permissive = confusion[PERMISSIVE]["permissive"] + confusion[NON_PERMISSIVE]["permissive"]
    included = sum(confusion[truth][label] for truth in SCORED_TRUTHS for label in INCLUDED_LABELS)
    included_right = sum(confusion[PERMISSIVE][label] for label in INCLUDED_LABELS)
    return {
        "right": right,
        "accuracy": _share(right, with_truth),
        "permissive_precision": _share(confusion[PERMISSIVE]["permissive"], called_permissive),
        "non_permissive_labelled_permissive": confusion[NON_PERMISSIVE]["permissive"],
        "included_precision": _share(included_right, included),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def overall(entries: list[dict]) -> dict:
    """The figures over every package with labels, and the repository decisions over every package scanned."""
    confusion = {truth: Counter() for truth in SCORED_TRUTHS}
    labelled = [entry for entry in entries if entry.get("comparison") and entry.get("labels") != MISSING]
    for entry in labelled:
        for truth, counts in entry["comparison"]["confusion"].items():
            confusion[truth].update(counts)
    scanned = [entry for entry in entries if entry.get("decision")]
    agree = sum(1 for entry in scanned if entry["decision"] == entry["truth_decision"])
    mapped = [entry for entry in scanned if entry["truth_decision"] != "needs_review"]
    agree_mapped = sum(1 for entry in mapped if entry["decision"] == entry["truth_decision"])
    needs_review = sum(1 for entry in scanned if entry["decision"] == "needs_review")
    cpu = [entry["scan"]["cpu_seconds"] for entry in scanned]
    figures = {
        "packages": len(entries),
        "packages_failed": sorted(entry["name"] for entry in entries if entry.get("error")),
        "packages_with_labels": len(labelled),
        "packages_without_labels": sorted(entry["name"] for entry in scanned if entry.get("labels") == MISSING),
        "files_with_truth": sum(sum(counts.values()) for counts in confusion.values()),
        "files_unmapped": sum(entry["comparison"]["files_unmapped"] for entry in labelled),
        **_scores(confusion),
        "confusion": {truth: dict(sorted(counts.items())) for truth, counts in confusion.items()},
        "decisions_compared": len(scanned),
        "decisions_agree": _share(agree, len(scanned)),
        "decisions_agree_where_the_root_license_maps": _share(agree_mapped, len(mapped)),
        "decisions_disagreeing": {
            entry["name"]: f"{entry['decision']} (truth: {entry['truth_decision']})"
            for entry in scanned
            if entry["decision"] != entry["truth_decision"]
        },
        "needs_review_share": _share(needs_review, len(scanned)),
        "cpu_seconds_median": round(statistics.median(cpu), 2) if cpu else None,
        "cpu_seconds_p95": round(percentile(cpu, 0.95), 2) if cpu else None,
    }
    figures["goals_met"] = {
        "accuracy": _at_least(figures["accuracy"], GOAL_ACCURACY),
        "permissive_precision": _at_least(figures["permissive_precision"], GOAL_PERMISSIVE_PRECISION),
        "decisions_agree": _at_least(figures["decisions_agree"], GOAL_DECISIONS_AGREE),
        "needs_review_share": _at_most(figures["needs_review_share"], GOAL_NEEDS_REVIEW_SHARE),
        "cpu_seconds_median": _at_most(figures["cpu_seconds_median"], GOAL_MEDIAN_CPU_SECONDS),
        "cpu_seconds_p95": _at_most(figures["cpu_seconds_p95"], GOAL_P95_CPU_SECONDS),
    }
    return figures


def _at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


def _at_most(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


def anchor_sample(entries: list[dict], truths: dict[str, dict[str, str | None]], size: int) -> list[tuple[str, str]]:
    """(package, path) of `size` files with truth, drawn with a fixed seed across the packages that were scanned."""
    candidates = [
        (entry["name"], path)
        for entry in entries
        if entry.get("decision")
        for path, truth in sorted(truths[entry["name"]].items())
        if truth in SCORED_TRUTHS
    ]
    return random.Random(ANCHOR_SEED).sample(candidates, min(size, len(candidates)))


def expression_label(spdx_expression: str) -> str:
    """The label category of an SPDX expression under the default policy (what the anchor's findings become)."""
    from audits.policy import DEFAULT_POLICY, policy_allows

    if not spdx_expression.strip():
        return "no_license"
    return {True: "permissive", False: "non_permissive"}.get(policy_allows(spdx_expression, DEFAULT_POLICY), "unknown")


def labels_read(scan) -> dict[str, str] | None:
    """path → license_type of a scan's FileLabel rows; None while the portal has no such model."""
    try:
        from audits.models import FileLabel
    except ImportError:
        return None
    return dict(FileLabel.objects.filter(scan=scan).values_list("path", "license_type"))


def cpu_now() -> float:
    """CPU seconds of this process and of the children it has waited for (git, scancode helpers)."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def package_scan(tree: Path, *, deep: bool) -> tuple[dict, dict[str, str] | None]:
    """scan_repository on one committed tree: (what it did and decided, path → label or None)."""
    from audits.policy import DEFAULT_POLICY
    from audits.scanning.verdicts import decision_for
    from audits.services import scan_repository

    cpu, started = cpu_now(), time.perf_counter()
    outcome = scan_repository(source=str(tree), deep=deep, requested_by="bench")
    seconds, cpu = time.perf_counter() - started, cpu_now() - cpu
    scan, verdict = outcome.scan, outcome.verdict
    decision = decision_for(verdict, DEFAULT_POLICY) if verdict else None
    summary = {
        "wall_seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "status": scan.status,
        "files_total": scan.files_total,
        "files_to_scan": scan.files_to_scan,
        "files_scanned": scan.files_scanned,
        "classification": verdict.classification if verdict else None,
        "declared_license": verdict.declared_license if verdict else None,
        "effective_license": verdict.effective_license if verdict else None,
        "decision": decision.decision if decision else None,
        "decision_reasons": [
            ":".join(filter(None, (reason.get("code"), reason.get("file"), reason.get("license"))))
            for reason in (decision.reasons if decision else [])
        ][:20],
        "truncated": getattr(verdict, "truncated", {}),
    }
    return summary, labels_read(scan), labels_explained(scan)


def labels_explained(scan) -> dict[str, tuple[str, str, str]]:
    """path → (license, origin, source) of a scan's labels: what a wrong label is shown with (none before labels)."""
    try:
        from audits.models import FileLabel
    except ImportError:  # an older code tree, measured for its cost
        return {}

    rows = FileLabel.objects.filter(scan=scan).values_list("path", "license", "origin", "source")
    return {path: (license_, origin, source) for path, license_, origin, source in rows}


def mistakes(truths: dict[str, str | None], copyright_: Copyright, labels: dict, explained: dict, limit: int) -> list:
    """Up to `limit` wrongly labelled files: path, DEP-5's license and category, the label and where it came from;
    spread over the directories (one per directory first), so one vendored folder does not fill the list."""
    wrong = [
        path for path, truth in sorted(truths.items()) if truth in SCORED_TRUTHS and labels.get(path, MISSING) != truth
    ]
    by_directory: dict[str, list[str]] = {}
    for path in wrong:
        by_directory.setdefault(path.rpartition("/")[0], []).append(path)
    picked = [paths[0] for paths in by_directory.values()][:limit]
    return [
        {
            "path": path,
            "dep5": copyright_.license_for(path),
            "truth": truths[path],
            "label": labels.get(path, MISSING),
            "license": explained.get(path, ("", "", ""))[0],
            "origin": explained.get(path, ("", "", ""))[1],
            "source": explained.get(path, ("", "", ""))[2],
            "same_directory": len(by_directory[path.rpartition("/")[0]]),
        }
        for path in picked
    ]


def anchor_run(sample: list[tuple[str, str]], trees: dict[str, Path], truths: dict, labels: dict) -> dict:
    """scancode's whole-file detection on the sampled files, scored next to the portal's labels of the same files."""
    from audits import scancode

    anchor = {truth: Counter() for truth in SCORED_TRUTHS}
    portal = {truth: Counter() for truth in SCORED_TRUTHS}
    seconds = 0.0
    timed_out = 0
    for package, path in sample:
        truth = truths[package][path]
        finding = scancode.file_scan(trees[package] / path)
        seconds += finding.seconds
        timed_out += finding.timed_out
        label = "unknown" if finding.timed_out or finding.error else expression_label(finding.spdx_expression)
        anchor[truth][label] += 1
        package_labels = labels.get(package)
        portal[truth][MISSING if package_labels is None else package_labels.get(path, MISSING)] += 1
    return {
        "files": len(sample),
        "seed": ANCHOR_SEED,
        "how": "audits.scancode.file_scan on the whole file; its SPDX expression under the default policy",
        "scancode": {
            **_scores(anchor),
            "confusion": {truth: dict(sorted(counts.items())) for truth, counts in anchor.items()},
            "seconds": round(seconds, 1),
            "timed_out": timed_out,
        },
        "portal": {
            **_scores(portal),
            "confusion": {truth: dict(sorted(counts.items())) for truth, counts in portal.items()},
        },
    }


def progress(name: str, **figures) -> None:
    """One line on stderr per package, so a long run can be followed (and read if it is cut short)."""
    print(json.dumps({"package": name, **figures}, default=str), file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", default="", help="a comma-separated subset of PACKAGES (or other names)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where downloads and trees are kept")
    parser.add_argument("--deep", action="store_true", help="scan every file, not only the key files")
    parser.add_argument("--anchor-files", type=int, default=200, help="files run through scancode whole (0: none)")
    parser.add_argument("--json-out", type=Path, help="also write the result to this file")
    parser.add_argument("--mistakes", type=int, default=15, help="wrong labels shown per package (by directory)")
    parser.add_argument("--fetch-only", action="store_true", help="fetch and read DEP-5 only: the truth side, no scan")
    arguments = parser.parse_args()
    names = [name.strip() for name in arguments.packages.split(",") if name.strip()] or list(PACKAGES)
    result: dict = {"benchmark": "license_truth", "deep": arguments.deep, "cpu_count": os.cpu_count()}

    started = time.perf_counter()
    result["lists_update_seconds"] = round(source_lists_update(arguments.work), 1)
    sources, entries, truths = {}, [], {}
    for name in names:
        entry: dict = {"name": name}
        entries.append(entry)
        try:
            source = source_fetch(name, work=arguments.work)
        except SourceError as error:
            entry["error"] = str(error)
            progress(name, error=entry["error"])
            continue
        paths = tree_paths(source.tree)
        root_license, truth_decision = truth_root(source.copyright, paths)
        entry |= {
            "version": source.version,
            "dep5": source.copyright.is_dep5,
            "files": len(paths),
            "megabytes": round(source.bytes / 1e6, 1),
            "files_stanzas": len(source.copyright.files_stanzas),
            "root_license": root_license,
            "truth_decision": truth_decision,
        }
        if not source.copyright.is_dep5:
            entry["error"] = "debian/copyright is not in the machine-readable format (no Format: header)"
            progress(name, error=entry["error"])
            continue
        sources[name] = source
        truths[name] = file_truths(source.copyright, paths)
        if arguments.fetch_only:
            entry["truth"] = labels_compare(truths[name], None)
            progress(
                name, files=len(paths), truth_decision=truth_decision, seconds=round(time.perf_counter() - started)
            )
    result["fetch_seconds"] = round(time.perf_counter() - started, 1)
    if arguments.fetch_only:
        result["packages"] = entries
        _print(result, arguments.json_out)
        return

    labels: dict[str, dict[str, str] | None] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-truth-") as folder,
        # The trees are on this disk (file://), and nothing else is to be fetched.
        scratch_database(
            "governance_bench_truth",
            str(Path(folder) / "data"),
            REPOSITORY_FETCH_ALLOW="local",
            REPOSITORY_FETCH_OFFLINE="1",
        ) as environment,
    ):
        os.environ.update(environment)
        os.environ["DJANGO_SETTINGS_MODULE"] = "governance.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from audits import scancode

        index_started = time.perf_counter()
        scancode.index_load()
        result["index_load_seconds"] = round(time.perf_counter() - index_started, 1)

        for entry in entries:
            name = entry["name"]
            if name not in sources:
                continue
            try:
                entry["scan"], labels[name], explained = package_scan(sources[name].tree, deep=arguments.deep)
            except Exception as failure:  # one package failing must not end the run: it is reported
                entry["error"] = f"scan: {type(failure).__name__}: {failure}"[:1000]
                progress(name, error=entry["error"])
                continue
            entry["decision"] = entry["scan"]["decision"]
            entry["comparison"] = labels_compare(truths[name], labels[name])
            entry["labels"] = entry["comparison"]["labels"]
            entry["mistakes"] = mistakes(
                truths[name], sources[name].copyright, labels[name] or {}, explained, arguments.mistakes
            )
            progress(
                name,
                files=entry["files"],
                labels=entry["labels"],
                accuracy=entry["comparison"]["accuracy"],
                decision=entry["decision"],
                truth_decision=entry["truth_decision"],
                cpu_seconds=entry["scan"]["cpu_seconds"],
                wall_seconds=entry["scan"]["wall_seconds"],
            )

        sample = anchor_sample(entries, truths, arguments.anchor_files) if arguments.anchor_files > 0 else []
        if sample:
            trees = {name: source.tree for name, source in sources.items()}
            result["anchor"] = anchor_run(sample, trees, truths, labels)

        from django.db import connections

        connections.close_all()

    result["overall"] = overall(entries)
    if result["overall"]["packages_without_labels"]:
        result["overall"]["note"] = (
            "no FileLabel rows for these packages (audits.models.FileLabel missing, or the scan wrote none): "
            "accuracy and precision are over the packages with labels only"
        )
    result["packages"] = entries
    _print(result, arguments.json_out)


def _print(result: dict, json_out: Path | None) -> None:
    text = json.dumps(result, indent=2)
    if json_out:
        json_out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
