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
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audits import scancode
from audits.models import BlobFinding, Scan, ScanChunk, ScanFile
from audits.scanning import files as scan_files
from audits.scanning import findings, notices
from governance import fetch_policy, git
from governance.faults import fault_point
from governance.heartbeats import heartbeat
from governance.queueing import task_send_on_commit

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
    if settings.AUDITS_NOTICE_CANDIDATES_MAX and len(left_out) > 2000:
        context.skipped[scan_files.SKIP_NOTICE_SEARCH] = len(context.entries)
    notices = 0
    for entry in context.entries:
        reason = scan_files.skip_reason(entry, max_bytes=settings.AUDITS_MAX_FILE_BYTES)
        if reason:
            context.skipped[reason] = context.skipped.get(reason, 0) + 1
            continue
        role = scan_files.file_role(entry.path)
        if role == scan_files.OTHER and entry.path in candidates:
            if notices < settings.AUDITS_NOTICE_CANDIDATES_MAX:
                role = scan_files.NOTICE_CANDIDATE
                notices += 1
            elif not context.scan.deep:  # a deep scan reads it whole all the same
                context.skipped[scan_files.SKIP_NOTICES_OVER_CAP] = (
                    context.skipped.get(scan_files.SKIP_NOTICES_OVER_CAP, 0) + 1
                )
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
        status=Scan.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        starts=F("starts") + 1,
        enqueue_failed_at=None,
    )
    if claimed != 1:
        return None
    scan = Scan.objects.select_related("repository").get(pk=scan_id)
    scan.scanner_version = scancode.scanner_version()
    scan.index_fingerprint = scancode.index_fingerprint()
    context = ScanContext(scan=scan, workdir=scan_workdir(scan))
    # A fetch can take minutes: the heartbeat shows the sweep that this worker is alive all along.
    with heartbeat(Scan.objects.filter(pk=scan.pk, status=Scan.Status.RUNNING), every=_beat_seconds()):
        for name, step in STEPS:
            scan.step = name
            Scan.objects.filter(pk=scan.pk).update(step=name, heartbeat_at=timezone.now())
            fault_point(f"scan:{name}")
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
    # A header's or a manifest's finding is keyed by what is read from the file: those are read first, always.
    modes = {f.pk: findings.finding_mode(scan, f) for f in pending}
    read_first = [f for f in pending if modes[f.pk]]
    pending = [f for f in pending if not modes[f.pk]]
    known = set(
        BlobFinding.objects.filter(scanner_version=version, blob_id__in={f.blob_id for f in pending})
        # A finding cut short by a time limit shorter than today's is worth another try.
        .exclude(timed_out=True, seconds__lt=settings.AUDITS_FILE_TIMEOUT_SECONDS - 1)
        .values_list("blob_id", flat=True)
    )
    reused = [f for f in pending if f.blob_id in known]
    if reused:
        _files_done(scan, reused, reused=len(reused))
    to_scan = [f for f in pending if f.blob_id not in known] + read_first
    if to_scan:
        try:
            with heartbeat(Scan.objects.filter(pk=scan.pk, status=Scan.Status.RUNNING), every=_beat_seconds()):
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


def scan_workdir_ready(scan: Scan) -> Path:
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
    workdir = scan_workdir_ready(scan)
    by_blob: dict[str, list[ScanFile]] = {}
    for scan_file in pending:
        by_blob.setdefault(scan_file.blob_id, []).append(scan_file)
    with tempfile.TemporaryDirectory(prefix="governance-blob-") as scratch:
        for blob_id, content in git.snapshot_blobs(workdir, list(by_blob)):
            by_mode: dict[str, list[ScanFile]] = {}
            for scan_file in by_blob[blob_id]:
                by_mode.setdefault(findings.finding_mode(scan, scan_file), []).append(scan_file)
            for mode, same in by_mode.items():
                _files_find(scan, same, mode, blob_id, content, version, Path(scratch))


def _files_find(
    scan: Scan, same: list[ScanFile], mode: str, blob_id: str, content: bytes | None, version: str, scratch: Path
) -> None:
    """Find (or reuse) the finding that files with one blob share in one mode, and mark them done."""
    key, stored_as = blob_id, findings.finding_version(version, mode)
    header = b""
    if mode == findings.HEADER and content is not None and not scan_files.is_binary(content):
        header = notices.notice_header(content)
        key = notices.notice_key(header)
    if mode != findings.FULL:
        ScanFile.objects.filter(pk__in=[f.pk for f in same]).update(finding_mode=mode, finding_key=key)
        if BlobFinding.objects.filter(blob_id=key, scanner_version=stored_as).exists():
            _files_done(scan, same, reused=len(same))
            return
    if mode == findings.MANIFEST:
        finding = findings.manifest_finding(key, content, same[0].path, stored_as)
    elif mode == findings.HEADER and header:
        finding = findings.header_finding(key, header, same[0].path, stored_as, scratch)
    else:
        finding = findings.blob_finding(key, content, same[0].path, stored_as, scratch)
    created = findings.finding_store(finding)
    if created:
        _files_done(scan, same, scanned=1, reused=len(same) - 1)
    else:  # another worker scanned the same blob meanwhile
        _files_done(scan, same, reused=len(same))


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


def _beat_seconds() -> float:
    """Live work beats four times per stall threshold, so one late beat never looks like a dead worker."""
    return settings.AUDITS_CHUNK_STALL_SECONDS / 4


def _stall_cutoff():
    return timezone.now() - timedelta(seconds=settings.AUDITS_CHUNK_STALL_SECONDS)


# A scan whose worker died this many times in its first steps is failed rather than started again: the
# repository itself may be what kills workers (memory, a pathological tree).
MAX_STARTS = 3
# Steps before the chunks exist (and before the scan's scanner version is saved): a scan stopped in one of
# them starts again from the beginning.
EARLY_STEPS = ("", "fetch", "list", "select", "plan")


def stalled_chunks(*, older_than: timedelta | None = None) -> list[tuple[int, int]]:
    """(scan, chunk) pairs of running scans that nobody has touched for a while: their message was lost."""
    cutoff = timezone.now() - older_than if older_than else _stall_cutoff()
    return list(
        ScanChunk.objects.filter(scan__status=Scan.Status.RUNNING, scan__heartbeat_at__lt=cutoff)
        .exclude(scan__step__in=EARLY_STEPS)
        .exclude(status=ScanChunk.Status.DONE)
        .values_list("scan_id", "number")
    )


def scans_abandoned(*, older_than: timedelta | None = None) -> int:
    """Fail running scans that stopped in their first steps too often (see MAX_STARTS); restart the others."""
    cutoff = timezone.now() - older_than if older_than else _stall_cutoff()
    stale = Scan.objects.filter(status=Scan.Status.RUNNING, heartbeat_at__lt=cutoff, step__in=EARLY_STEPS)
    return sum(
        scan_recover(scan_id=scan_id, cutoff=cutoff) is not None for scan_id in stale.values_list("pk", flat=True)
    )


def chunk_reset(*, scan_id: int, number: int) -> None:
    ScanChunk.objects.filter(scan_id=scan_id, number=number).exclude(status=ScanChunk.Status.DONE).update(
        status=ScanChunk.Status.QUEUED
    )
    Scan.objects.filter(pk=scan_id).update(heartbeat_at=timezone.now())


def scan_recover(*, scan_id: int, cutoff=None) -> str | None:
    """Put an open scan that cannot progress back on its way; what was done, or None when it needed nothing.

    The row is the truth: a queued scan whose message was refused (or may have been lost with the broker)
    is sent again; a running scan whose heartbeat stopped (its worker died) starts again from the
    beginning if it stopped in its first steps, has its unfinished chunks sent again, or, every chunk
    being done, has its verdict step sent again. Sends happen when the caller's transaction commits.
    """
    cutoff = cutoff or _stall_cutoff()
    now = timezone.now()
    this = Scan.objects.filter(pk=scan_id)
    scan = this.only("status", "step", "heartbeat_at", "created_at", "sent_at", "enqueue_failed_at", "starts").first()
    if scan is None:
        return None
    if scan.status == Scan.Status.QUEUED:
        resend = now - timedelta(seconds=settings.AUDITS_QUEUE_RESEND_SECONDS)
        last_sent = scan.sent_at or scan.created_at
        if scan.enqueue_failed_at is None and last_sent >= resend:
            return None
        if not this.filter(status=Scan.Status.QUEUED).update(sent_at=now):  # one resend per interval
            return None
        task_send_on_commit("audits.tasks.scan_task", scan_id, waiting=this)
        return "sent"
    if scan.status != Scan.Status.RUNNING or scan.heartbeat_at is None or scan.heartbeat_at >= cutoff:
        return None
    # Claimed through the heartbeat, so two sweeps (or a sweep and scan_request) never recover it twice.
    if not this.filter(status=Scan.Status.RUNNING, heartbeat_at__lt=cutoff).update(heartbeat_at=now):
        return None
    if scan.step in EARLY_STEPS:
        if scan.starts >= MAX_STARTS:
            scan_fail(
                scan=Scan.objects.select_related("repository").get(pk=scan_id),
                error=f"the worker stopped during this scan {scan.starts} times; it will be scanned again later",
            )
            return "failed"
        this.filter(status=Scan.Status.RUNNING).update(status=Scan.Status.QUEUED, step="", started_at=None, sent_at=now)
        task_send_on_commit("audits.tasks.scan_task", scan_id, waiting=this)
        return "restarted"
    unfinished = list(
        ScanChunk.objects.filter(scan_id=scan_id).exclude(status=ScanChunk.Status.DONE).values_list("number", flat=True)
    )
    if unfinished:
        ScanChunk.objects.filter(scan_id=scan_id, number__in=unfinished).update(status=ScanChunk.Status.QUEUED)
        for number in unfinished:
            task_send_on_commit("audits.tasks.scan_chunk_task", scan_id, number, waiting=this)
        return "chunks"
    task_send_on_commit("audits.tasks.scan_finish_task", scan_id, waiting=this)
    return "verdict"


def scans_recover() -> dict[str, int]:
    """Recover every open scan that cannot progress (for the periodic sweep); counts by what was done."""
    counts: dict[str, int] = {}
    resend = timezone.now() - timedelta(seconds=settings.AUDITS_QUEUE_RESEND_SECONDS)
    candidates = Scan.objects.filter(
        Q(status=Scan.Status.RUNNING, heartbeat_at__lt=_stall_cutoff())
        | Q(status=Scan.Status.QUEUED, enqueue_failed_at__isnull=False)
        | Q(status=Scan.Status.QUEUED, sent_at__lt=resend)
        | Q(status=Scan.Status.QUEUED, sent_at__isnull=True, created_at__lt=resend)
    )
    # In offline mode a remote repository's scan stays open, untouched, until the portal reads the network again.
    candidates = fetch_policy.offline_readable(candidates, canonical="repository__canonical")
    for scan_id in candidates.order_by("pk").values_list("pk", flat=True)[:1000]:
        done = scan_recover(scan_id=scan_id)
        if done:
            counts[done] = counts.get(done, 0) + 1
    return counts


def scan_workdirs_sweep() -> int:
    """Remove fetched commits (file contents) left on disk by scans that are no longer open."""
    folder = Path(settings.DATA_DIR) / "scans"
    if not folder.is_dir():
        return 0
    open_ids = {
        f"scan-{pk}"
        for pk in Scan.objects.filter(status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING]).values_list("pk", flat=True)
    }
    removed = 0
    # A folder this young may belong to a scan opened since the query above.
    young = time.time() - settings.AUDITS_CHUNK_STALL_SECONDS
    for workdir in folder.iterdir():
        # "scan-12" and its staging folders "scan-12-xxxx" while a chunk's worker fetches.
        name = "-".join(workdir.name.split("-")[:2])
        if workdir.is_dir() and name not in open_ids and workdir.stat().st_mtime < young:
            shutil.rmtree(workdir, ignore_errors=True)
            removed += 1
    return removed
