"""How a file's finding is made and stored: scancode on the whole blob, its notice block, or its manifest read exactly.

A finding is stored once per (key, scanner version): the blob id for a whole file or a manifest, the notice
block's key for a header (shared by every file whose block is the same, in any repository). The mode is part of
the version a finding is stored under, so a header's finding never stands in for the whole file's.
"""

from pathlib import Path
from posixpath import basename

from django.conf import settings
from django.db import IntegrityError, transaction

from audits import scancode
from audits.models import BlobFinding, Scan, ScanFile
from audits.scanning import files as scan_files
from audits.scanning import notices
from audits.scanning.manifests import is_manifest, manifest_license
from governance.faults import fault_point

FULL, HEADER, MANIFEST = "", "header", "manifest"
# The rule a finding read from SPDX-License-Identifier lines names (scancode's own matcher name, `1-spdx-id`, beside).
SPDX_LINES_RULE = "spdx-license-identifier"


def finding_mode(scan: Scan, scan_file: ScanFile) -> str:
    """How a file's finding is made: the whole file through scancode, its notice header, or its manifest fields."""
    if scan_file.role == scan_files.MANIFEST and is_manifest(scan_file.path):
        return MANIFEST
    if scan_file.role == scan_files.NOTICE_CANDIDATE and not scan.deep:
        return HEADER
    return FULL


def finding_version(version: str, mode: str) -> str:
    """The scanner version a finding made in `mode` is stored under: a header's finding is not the whole file's."""
    return f"{version} {mode}" if mode else version


def manifest_finding(blob_id: str, content: bytes | None, path: str, version: str) -> BlobFinding:
    """A manifest's license fields, read exactly; a pointer (`license-files`, `SEE LICENSE IN`) adds nothing here:
    the file it points to has its own finding."""
    finding = BlobFinding(blob_id=blob_id, scanner_version=version)
    if content is None:
        finding.error = "the blob was not in the fetched commit"
        return finding
    declared = manifest_license(path, content)
    if declared is None:
        return finding  # the manifest states no license
    if declared.error:
        finding.error = f"{path}: {declared.error}"
        return finding
    if declared.expression:
        line = _line_of(content, declared.expression)
        found = scancode.finding_from_spdx(
            declared.expression, start_line=line, end_line=line, rule=f"manifest: {declared.field}"
        )
        finding.license_expression = found.license_expression
        finding.spdx_expression = found.spdx_expression
        finding.detections = found.detections
    return finding


def _line_of(content: bytes, expression: str) -> int:
    """The line a manifest states its license on (its first id's), for the evidence; 1 when not found verbatim."""
    first = expression.replace("(", " ").split()[0].encode()
    offset = content.find(first)
    return content.count(b"\n", 0, offset) + 1 if offset >= 0 else 1


def header_finding(key: str, header: bytes, path: str, version: str, scratch: Path) -> BlobFinding:
    """The notice in a file's first lines: its SPDX-License-Identifier lines read exactly, else scancode on the
    notice block (shared, under `key`, by every file whose block is the same)."""
    identified = notices.spdx_identifiers(header)
    if identified is not None and identified.expression and not identified.errors:
        found = scancode.finding_from_spdx(
            identified.expression,
            start_line=identified.lines[0],
            end_line=identified.lines[-1],
            rule=SPDX_LINES_RULE,
        )
        finding = BlobFinding(blob_id=key, scanner_version=version)
        finding.license_expression = found.license_expression
        finding.spdx_expression = found.spdx_expression
        finding.detections = found.detections
        return finding
    return blob_finding(key, notices.notice_block(header), path, version, scratch)


def blob_finding(blob_id: str, content: bytes | None, path: str, version: str, scratch: Path) -> BlobFinding:
    """scancode's finding for the content (a whole blob, or a notice block) under `blob_id`."""
    finding = BlobFinding(blob_id=blob_id, scanner_version=version)
    if content is None:
        finding.error = "the blob was not in the fetched commit"
        return finding
    if scan_files.is_binary(content):
        finding.skipped = scan_files.SKIP_BINARY
        return finding
    # scancode reads files; the blob keeps its own name, which some of its rules look at.
    location = scratch / (basename(path) or "file")
    location.write_bytes(content)
    fault_point("scan:chunks")  # the worst moment to die: a blob's contents on disk
    try:
        found = scancode.file_scan(location, timeout=settings.AUDITS_FILE_TIMEOUT_SECONDS)
    finally:
        location.unlink(missing_ok=True)
    finding.license_expression = found.license_expression
    finding.spdx_expression = found.spdx_expression
    finding.detections = found.detections
    finding.clues = found.clues
    finding.license_text_percent = found.license_text_percent
    finding.is_license_text = found.license_text_percent >= 90 and bool(found.detections)
    finding.timed_out = found.timed_out
    finding.error = found.error
    finding.seconds = found.seconds
    return finding


def finding_store(finding: BlobFinding) -> bool:
    """Store a finding unless one for the same blob and version exists; True when this one was stored."""
    # One that timed out under a shorter limit makes way for this one.
    BlobFinding.objects.filter(
        blob_id=finding.blob_id,
        scanner_version=finding.scanner_version,
        timed_out=True,
        seconds__lt=settings.AUDITS_FILE_TIMEOUT_SECONDS - 1,
    ).delete()
    try:
        with transaction.atomic():
            finding.save()
    except IntegrityError:
        return False
    return True
