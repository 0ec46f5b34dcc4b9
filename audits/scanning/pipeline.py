"""One scan of one repository, as a list of small named steps.

A scan fetches one commit (shallow, blobs over the size cap left out), lists its files, picks
the ones the verdict needs (key files first; every file with --deep), and splits them into
chunks. Each chunk is a Celery task: parallelism is Celery's concurrency, and a chunk that is
lost is found again by the sweep. Before scancode sees a blob, its finding is looked up by
(blob SHA-1, scanner version): a blob scanned once, in any repository or commit, is never
scanned again. The chunk that finishes last writes the verdict.
"""

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from posixpath import basename

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audits import scancode
from audits.models import BlobFinding, Scan, ScanChunk, ScanFile
from audits.scanning import files as scan_files
from governance import git

logger = logging.getLogger(__name__)


@dataclass
class ScanContext:
    scan: Scan
    workdir: Path
    entries: list[git.TreeEntry] = field(default_factory=list)
    selected: list[tuple[git.TreeEntry, str]] = field(default_factory=list)  # (entry, role)
    skipped: dict[str, int] = field(default_factory=dict)


def scan_workdir(scan: Scan) -> Path:
    return Path(settings.DATA_DIR) / "scans" / f"scan-{scan.pk}"


def _step_fetch(context: ScanContext) -> None:
    scan = context.scan
    if context.workdir.exists():
        shutil.rmtree(context.workdir)
    scan.commit = git.snapshot_fetch(
        scan.repository.clone_url,
        into=context.workdir,
        ref=scan.ref or None,
        max_blob_bytes=settings.AUDITS_MAX_FILE_BYTES,
        timeout=settings.AUDITS_FETCH_TIMEOUT_SECONDS,
    )


def _step_list(context: ScanContext) -> None:
    context.entries = git.snapshot_tree(context.workdir, context.scan.commit)
    if len(context.entries) > settings.AUDITS_MAX_FILES:
        raise git.GitError(
            f"the commit has {len(context.entries):,} files, more than AUDITS_MAX_FILES ({settings.AUDITS_MAX_FILES:,})"
        )
    context.scan.files_total = len(context.entries)


def _step_select(context: ScanContext) -> None:
    """Key files first, then files carrying a license notice, then (deep) everything else; skips counted."""
    candidates = set()
    left_out = [
        entry.path
        for entry in context.entries
        if entry.size == git.UNKNOWN_SIZE and entry.mode not in (git.SYMLINK_MODE, git.SUBMODULE_MODE)
    ]
    # Thousands of files over the size cap would not fit one command line; such a tree is scanned
    # by its key files alone (or --deep).
    if settings.AUDITS_NOTICE_CANDIDATES_MAX and len(left_out) <= 2000:
        candidates = git.snapshot_grep(
            context.workdir, context.scan.commit, scan_files.NOTICE_PATTERNS, leave_out=left_out
        )
    notices = 0
    for entry in context.entries:
        reason = scan_files.skip_reason(entry, max_bytes=settings.AUDITS_MAX_FILE_BYTES)
        if reason:
            context.skipped[reason] = context.skipped.get(reason, 0) + 1
            continue
        role = scan_files.file_role(entry.path)
        if role == scan_files.OTHER and entry.path in candidates and notices < settings.AUDITS_NOTICE_CANDIDATES_MAX:
            role = scan_files.NOTICE_CANDIDATE
            notices += 1
        if role == scan_files.OTHER and not context.scan.deep:
            context.skipped[scan_files.SKIP_NOT_KEY] = context.skipped.get(scan_files.SKIP_NOT_KEY, 0) + 1
            continue
        context.selected.append((entry, role))
    context.selected.sort(key=lambda pair: (scan_files.ROLE_ORDER[pair[1]], pair[0].path))


def _step_plan(context: ScanContext) -> None:
    """Store the selected files in chunks; the first chunk holds the key files, so the verdict's core comes first."""
    scan = context.scan
    size = settings.AUDITS_CHUNK_FILES
    rows = []
    chunk = 0
    in_chunk = 0
    previous_role = None
    for entry, role in context.selected:
        # A chunk never mixes the files the verdict stands on with the rest of a deep scan.
        if in_chunk and (in_chunk >= size or (role == scan_files.OTHER and previous_role != scan_files.OTHER)):
            chunk += 1
            in_chunk = 0
        previous_role = role
        rows.append(
            ScanFile(scan=scan, path=entry.path, blob_id=entry.object_id, size=entry.size, role=role, chunk=chunk)
        )
        in_chunk += 1
    with transaction.atomic():
        ScanFile.objects.filter(scan=scan).delete()
        ScanChunk.objects.filter(scan=scan).delete()
        ScanFile.objects.bulk_create(rows, batch_size=2000)
        ScanChunk.objects.bulk_create(
            [ScanChunk(scan=scan, number=number) for number in sorted({row.chunk for row in rows})]
        )
    scan.files_to_scan = len(rows)
    scan.files_skipped = dict(sorted(context.skipped.items()))


STEPS = [("fetch", _step_fetch), ("list", _step_list), ("select", _step_select), ("plan", _step_plan)]


def scan_start(*, scan_id: int) -> Scan | None:
    """Run the steps up to the chunks of a queued scan; return it, or None when another worker has it."""
    claimed = Scan.objects.filter(pk=scan_id, status=Scan.Status.QUEUED).update(
        status=Scan.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if claimed != 1:
        return None
    scan = Scan.objects.select_related("repository").get(pk=scan_id)
    scan.scanner_version = scancode.scanner_version()
    scan.index_fingerprint = scancode.index_fingerprint()
    context = ScanContext(scan=scan, workdir=scan_workdir(scan))
    for name, step in STEPS:
        scan.step = name
        Scan.objects.filter(pk=scan.pk).update(step=name, heartbeat_at=timezone.now())
        try:
            step(context)
        except git.GitError as failure:
            scan_fail(scan=scan, error=str(failure))
            return scan
        except Exception as failure:
            # Not the repository's fault: fail the scan (so the repository can be scanned again) and let it show.
            scan_fail(scan=scan, error=f"the {name} step failed unexpectedly: {type(failure).__name__}: {failure}")
            raise
    scan.step = "scan"
    scan.heartbeat_at = timezone.now()
    scan.save()
    return scan


def scan_fail(*, scan: Scan, error: str) -> None:
    Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.FAILED, error=error, finished_at=timezone.now())
    scan.status, scan.error = Scan.Status.FAILED, error
    shutil.rmtree(scan_workdir(scan), ignore_errors=True)
    logger.info("scan %s of %s failed: %s", scan.pk, scan.repository, error)


def scan_chunk_run(*, scan_id: int, number: int) -> bool:
    """Scan the files of one chunk (skipping blobs already known); True when this was the scan's last chunk."""
    claimed = ScanChunk.objects.filter(scan_id=scan_id, number=number, status=ScanChunk.Status.QUEUED).update(
        status=ScanChunk.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return False
    scan = Scan.objects.select_related("repository").get(pk=scan_id)
    if scan.status != Scan.Status.RUNNING:
        return False
    pending = list(ScanFile.objects.filter(scan=scan, chunk=number, done=False).order_by("pk"))
    version = scan.scanner_version
    known = set(
        BlobFinding.objects.filter(scanner_version=version, blob_id__in={f.blob_id for f in pending})
        # A finding cut short by a time limit shorter than today's is worth another try.
        .exclude(timed_out=True, seconds__lt=settings.AUDITS_FILE_TIMEOUT_SECONDS - 1)
        .values_list("blob_id", flat=True)
    )
    reused = [f for f in pending if f.blob_id in known]
    if reused:
        _files_done(scan, reused, reused=len(reused))
    to_scan = [f for f in pending if f.blob_id not in known]
    if to_scan:
        try:
            _chunk_scan(scan, to_scan, version)
        except git.GitError as failure:
            ScanChunk.objects.filter(scan=scan, number=number).update(status=ScanChunk.Status.QUEUED)
            scan_fail(scan=scan, error=str(failure))
            return False
    with transaction.atomic():
        ScanChunk.objects.filter(scan=scan, number=number).update(
            status=ScanChunk.Status.DONE, finished_at=timezone.now()
        )
        locked = Scan.objects.select_for_update().get(pk=scan.pk)
        last = (
            locked.status == Scan.Status.RUNNING
            and not ScanChunk.objects.filter(scan=scan).exclude(status=ScanChunk.Status.DONE).exists()
        )
        if last:
            Scan.objects.filter(pk=scan.pk).update(step="verdict")
    return last


def _workdir_ready(scan: Scan) -> Path:
    """The scan's fetched commit; fetched again when this worker does not have it (another machine, a restart)."""
    workdir = scan_workdir(scan)
    if (workdir / "HEAD").exists():
        return workdir
    staging = Path(tempfile.mkdtemp(prefix=f"scan-{scan.pk}-", dir=workdir.parent if workdir.parent.exists() else None))
    git.snapshot_fetch(
        scan.repository.clone_url,
        into=staging,
        ref=scan.commit,
        max_blob_bytes=settings.AUDITS_MAX_FILE_BYTES,
        timeout=settings.AUDITS_FETCH_TIMEOUT_SECONDS,
    )
    try:
        workdir.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(workdir)
    except OSError:  # another chunk of the same scan got there first
        shutil.rmtree(staging, ignore_errors=True)
    return workdir


def _chunk_scan(scan: Scan, pending: list[ScanFile], version: str) -> None:
    workdir = _workdir_ready(scan)
    by_blob: dict[str, list[ScanFile]] = {}
    for scan_file in pending:
        by_blob.setdefault(scan_file.blob_id, []).append(scan_file)
    with tempfile.TemporaryDirectory(prefix="governance-blob-") as scratch:
        for blob_id, content in git.snapshot_blobs(workdir, list(by_blob)):
            same_blob = by_blob[blob_id]
            finding = _blob_finding(blob_id, content, same_blob[0].path, version, Path(scratch))
            created = _finding_store(finding)
            if created:
                _files_done(scan, same_blob, scanned=1, reused=len(same_blob) - 1)
            else:  # another worker scanned the same blob meanwhile
                _files_done(scan, same_blob, reused=len(same_blob))


def _blob_finding(blob_id: str, content: bytes | None, path: str, version: str, scratch: Path) -> BlobFinding:
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


def _finding_store(finding: BlobFinding) -> bool:
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


def _files_done(scan: Scan, done: list[ScanFile], *, scanned: int = 0, reused: int = 0) -> None:
    ScanFile.objects.filter(pk__in=[f.pk for f in done]).update(done=True)
    Scan.objects.filter(pk=scan.pk).update(
        files_done=F("files_done") + len(done),
        files_scanned=F("files_scanned") + scanned,
        files_reused=F("files_reused") + reused,
        heartbeat_at=timezone.now(),
    )


def scan_cleanup(scan: Scan) -> None:
    shutil.rmtree(scan_workdir(scan), ignore_errors=True)


def stalled_chunks(*, older_than: timedelta = timedelta(minutes=15)) -> list[tuple[int, int]]:
    """(scan, chunk) pairs of running scans that nobody has touched for a while: their message was lost."""
    cutoff = timezone.now() - older_than
    return list(
        ScanChunk.objects.filter(scan__status=Scan.Status.RUNNING, scan__heartbeat_at__lt=cutoff)
        .exclude(status=ScanChunk.Status.DONE)
        .values_list("scan_id", "number")
    )


def scans_abandoned(*, older_than: timedelta = timedelta(minutes=30)) -> int:
    """Fail running scans that stopped before their chunks were planned (a worker killed mid-fetch)."""
    cutoff = timezone.now() - older_than
    abandoned = list(
        Scan.objects.filter(status=Scan.Status.RUNNING, heartbeat_at__lt=cutoff, chunks__isnull=True).distinct()
    )
    for scan in abandoned:
        scan_fail(scan=scan, error="the worker stopped during this scan; it will be scanned again")
    return len(abandoned)


def chunk_reset(*, scan_id: int, number: int) -> None:
    ScanChunk.objects.filter(scan_id=scan_id, number=number).exclude(status=ScanChunk.Status.DONE).update(
        status=ScanChunk.Status.QUEUED
    )
    Scan.objects.filter(pk=scan_id).update(heartbeat_at=timezone.now())
