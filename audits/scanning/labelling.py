"""The labels of a finished scan: what governs each file, gathered from its findings and the tree, then stored.

Own notices come from the findings of the files that carry one (a notice candidate's header, every file of a
deep scan) and from `SPDX-License-Identifier:` lines read here for the files no finding covers; directory
licenses from license files below the root and from package manifests read exactly; the root's from the
verdict. The tree is read in batches (the first bytes of each file, for go-enry), never whole.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import dirname

from django.conf import settings
from django.db import transaction

from audits import scancode
from audits.models import FileLabel, Scan
from audits.policy import expression_combine
from audits.scanning import files as scan_files
from audits.scanning.findings import SPDX_LINES_RULE
from audits.scanning.labels import (
    CONTENT_PREFIX_BYTES,
    DIRECTORY,
    OWN_NOTICE,
    Governing,
    file_labels,
    is_directory_license_file,
)
from audits.scanning.manifests import is_manifest, manifest_license
from audits.scanning.notices import spdx_identifiers
from audits.scanning.verdicts import FileEvidence, VerdictFacts, declared_expression, notice_expression
from governance import git

BATCH_FILES = 2000


@dataclass
class LabelSummary:
    """What the labels tell the verdict: the licenses files carry below the root, and those stated exactly."""

    stored: int = 0
    carried: set[str] = field(default_factory=set)  # licenses of own-notice and directory labels
    spdx_lines: Counter = field(default_factory=Counter)  # license → files stating it in SPDX-License-Identifier


def scan_labels_store(*, scan: Scan, workdir: Path, evidence: list[FileEvidence], facts: VerdictFacts) -> LabelSummary:
    """Label every file of the scan's commit and store the labels (replacing any earlier ones)."""
    entries = [
        entry
        for entry in git.snapshot_tree(workdir, scan.commit)
        if entry.mode not in (git.SYMLINK_MODE, git.SUBMODULE_MODE)
    ]
    by_path = {f.path: f for f in evidence}
    own = _own_notices(evidence)
    directories = _directory_licenses(workdir, entries, by_path)
    root = Governing(facts.effective_license, _root_source(evidence)) if facts.effective_license else None
    summary = LabelSummary(spdx_lines=_spdx_stated(evidence))
    labels = file_labels(_heads(workdir, entries, own, summary), own_notices=own, directories=directories, root=root)
    with transaction.atomic():
        FileLabel.objects.filter(scan=scan).delete()
        batch = []
        for label in labels:
            if label.origin in (OWN_NOTICE, DIRECTORY):
                summary.carried.add(label.license)
            batch.append(FileLabel(scan=scan, **label.__dict__))
            if len(batch) >= BATCH_FILES:
                FileLabel.objects.bulk_create(batch)
                summary.stored += len(batch)
                batch = []
        FileLabel.objects.bulk_create(batch)
        summary.stored += len(batch)
    return summary


def _spdx_stated(evidence: list[FileEvidence]) -> Counter:
    """License → files whose finding is their SPDX-License-Identifier lines, read exactly."""
    return Counter(
        f.spdx_expression
        for f in evidence
        if f.spdx_expression and any(m["rule"] == SPDX_LINES_RULE for d in f.detections for m in d["matches"])
    )


def _own_notices(evidence: list[FileEvidence]) -> dict[str, Governing]:
    own = {}
    for f in evidence:
        if f.role in scan_files.KEY_ROLES or f.noise:
            continue
        if expression := notice_expression(f):
            own[f.path] = Governing(scancode.spdx_expression(expression), f.path)
    return own


def _directory_licenses(workdir: Path, entries, by_path: dict[str, FileEvidence]) -> dict[str, Governing]:
    """Below the root: each directory's license files (all of them) and manifests (read exactly), combined."""
    found: dict[str, list[tuple[str, str]]] = {}  # directory → [(SPDX, source path)]
    for path, f in by_path.items():
        if "/" in path and is_directory_license_file(path) and (expression := declared_expression(f)):
            spdx = scancode.spdx_expression(expression)
            if spdx and not spdx.lower().startswith("licenseref-scancode-unknown"):
                found.setdefault(dirname(path), []).append((spdx, path))
    manifests = [
        e for e in entries if "/" in e.path and is_manifest(e.path) and 0 < e.size <= settings.AUDITS_MAX_FILE_BYTES
    ]
    paths = {e.object_id: e.path for e in manifests}
    for blob_id, content in git.snapshot_blobs(workdir, list(paths)):
        path = paths[blob_id]
        declared = manifest_license(path, content or b"")
        if declared is None or declared.error:
            continue
        expressions = [declared.expression] if declared.expression else []
        for pointer in declared.pointers:
            pointed = by_path.get(f"{dirname(path)}/{pointer}".lstrip("/"))
            if pointed is not None and (expression := declared_expression(pointed)):
                expressions.append(scancode.spdx_expression(expression))
        for expression in expressions:
            found.setdefault(dirname(path), []).append((expression, path))
    return {
        directory: Governing(
            expression_combine([spdx for spdx, _ in sources]), sorted(source for _, source in sources)[0]
        )
        for directory, sources in found.items()
    }


def _root_source(evidence: list[FileEvidence]) -> str:
    """The file the root's license is read from: the license file proper, else a manifest, else the README."""
    for role in (scan_files.LICENSE, scan_files.MANIFEST, scan_files.README):
        for f in evidence:
            if f.role == role and (f.detections or f.clues):
                return f.path
    return ""


def _heads(
    workdir: Path, entries, own: dict[str, Governing], summary: LabelSummary
) -> Iterator[tuple[str, str, bytes | None]]:
    """(path, blob id, first bytes) in tree order; an SPDX line in a file no finding covers becomes its own notice.

    `own` is filled as the files go by, before each is labelled.
    """
    for start in range(0, len(entries), BATCH_FILES):
        batch = entries[start : start + BATCH_FILES]
        readable = list(dict.fromkeys(e.object_id for e in batch if e.size != git.UNKNOWN_SIZE and e.size > 0))
        heads = {
            blob_id: (content or b"")[:CONTENT_PREFIX_BYTES]
            for blob_id, content in git.snapshot_blobs(workdir, readable)
        }
        for entry in batch:
            head = heads.get(entry.object_id)
            if head is not None and entry.path not in own and b"SPDX-License-Identifier" in head:
                identified = spdx_identifiers(head)
                if identified is not None and identified.expression:
                    own[entry.path] = Governing(identified.expression, entry.path)
                    summary.spdx_lines[identified.expression] += 1
            yield entry.path, entry.object_id, head
