"""License audits: starting scans, turning them into verdicts, applying policies and reviews."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audits import file_exclusions, scancode
from audits.models import (
    BlobFinding,
    DatasetDecision,
    DirectoryReview,
    FileExclusion,
    FileLabel,
    RepositoryAudit,
    Review,
    Scan,
    ScanChunk,
    ScanFile,
    Verdict,
)
from audits.policy import Policy
from audits.scanning import files as scan_files
from audits.scanning import labelling, pipeline
from audits.scanning.findings import finding_version
from audits.scanning.verdicts import FileEvidence, conflicts_settle, decision_for, doubts_settle, verdict_facts
from governance import git
from governance.exceptions import GovernanceError
from governance.faults import fault_point
from governance.fetch_policy import fetch_refusal
from governance.identity import RepositoryParseError, parse_repository
from governance.models import Dataset, DatasetRepository, Repository
from governance.queueing import task_send_on_commit
from governance.services import repository_from_ref

logger = logging.getLogger(__name__)


class ScanError(GovernanceError):
    code = "scan_failed"


def scan_request(*, repository: Repository, ref: str = "", deep: bool = False, requested_by: str = "") -> Scan:
    """Queue a scan of a repository (the one already open when there is one) and hand it to a worker.

    A deep scan asked for while a key-files scan waits in the queue makes that one deep; one already
    running is returned as it is (its `deep` says so), and the deep scan can be asked for once it is done.
    """
    with transaction.atomic():
        open_scan = Scan.objects.filter(
            repository=repository, status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING]
        ).first()
        if open_scan is not None and pipeline.scan_recover(scan_id=open_scan.pk):
            # It could not progress (its worker died, its message was refused): it is on its way again, or
            # failed so that a new one starts here.
            open_scan.refresh_from_db()
            if open_scan.status not in (Scan.Status.QUEUED, Scan.Status.RUNNING):
                open_scan = None
        if open_scan is not None:
            # Conditional, so that a worker that has just started it keeps the plan it made.
            if deep and Scan.objects.filter(pk=open_scan.pk, status=Scan.Status.QUEUED, deep=False).update(deep=True):
                open_scan.refresh_from_db()
            return open_scan
        try:
            with transaction.atomic():
                scan = Scan.objects.create(repository=repository, ref=ref, deep=deep, requested_by=requested_by)
        except IntegrityError:  # a concurrent request opened one first
            return Scan.objects.get(repository=repository, status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING])
        task_send_on_commit("audits.tasks.scan_task", scan.pk, waiting=Scan.objects.filter(pk=scan.pk))
    return scan


def scan_run(*, scan_id: int, chunk_send: Callable[[int, int], object] | None = None) -> Scan | None:
    """A queued scan through its steps: claim it, fetch, list, select and plan its chunks, scan them, write the verdict.

    The one sequence both paths follow. `chunk_send(scan_id, number)` hands each chunk to another worker (the
    worker path: the chunk that finishes last writes the verdict); without it every chunk runs here, in order
    (embedded mode, `scan_repository`). Returns the scan as it is now, or None when another worker has it.
    """
    scan = pipeline.scan_start(scan_id=scan_id)
    if scan is None or scan.status == Scan.Status.FAILED:
        return scan
    numbers = list(ScanChunk.objects.filter(scan=scan).order_by("number").values_list("number", flat=True))
    if not numbers:
        _scan_verdict(scan_id=scan_id)
    for number in numbers:
        if chunk_send is None:
            scan_chunk_proceed(scan_id=scan_id, number=number)
        else:
            chunk_send(scan_id, number)
    scan.refresh_from_db()
    return scan


def scan_chunk_proceed(*, scan_id: int, number: int) -> None:
    """Scan one chunk of a running scan; the verdict too when it was the scan's last chunk."""
    if pipeline.scan_chunk_run(scan_id=scan_id, number=number):
        _scan_verdict(scan_id=scan_id)


def _scan_verdict(*, scan_id: int) -> None:
    fault_point("scan:verdict")
    scan_finish(scan_id=scan_id)


def scan_finish(*, scan_id: int) -> Verdict | None:
    """Write the verdict of a scan whose chunks are all done, then apply every policy to it."""
    # The row stays locked while the verdict is written: the beat before it tells the sweep this step is alive.
    Scan.objects.filter(pk=scan_id, status=Scan.Status.RUNNING).update(
        step="verdict", heartbeat_at=timezone.now(), enqueue_failed_at=None
    )
    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("repository").get(pk=scan_id)
        if scan.status != Scan.Status.RUNNING:
            return getattr(scan, "verdict", None)
        evidence, binaries = _scan_evidence(scan)
        facts = verdict_facts(evidence)
        labels = labelling.scan_labels_store(
            scan=scan, workdir=pipeline.scan_workdir_ready(scan), evidence=evidence, facts=facts
        )
        facts.conflicts = conflicts_settle(facts.conflicts, carried=labels.carried)
        doubts_settle(facts, spdx_lines=labels.spdx_lines)
        facts.truncated = _scan_truncated(scan, facts)
        verdict = Verdict.objects.create(
            scan=scan,
            repository=scan.repository,
            commit=scan.commit,
            declared_license=facts.declared_license,
            effective_license=facts.effective_license,
            detected_licenses=facts.detected_licenses,
            classification=facts.classification,
            uncertainties=facts.uncertainties,
            conflicts=facts.conflicts,
            evidence=facts.evidence,
            evidence_digest=facts.evidence_digest,
            notes=facts.notes,
            truncated=facts.truncated,
            deep=scan.deep,
        )
        skipped = dict(scan.files_skipped)
        if binaries:
            skipped[scan_files.SKIP_BINARY] = skipped.get(scan_files.SKIP_BINARY, 0) + binaries
        Scan.objects.filter(pk=scan.pk).update(
            status=Scan.Status.DONE, step="done", files_skipped=skipped, finished_at=timezone.now()
        )
        # Datasets take the default branch: a scan of another ref (`--ref v1.0`) keeps its verdict on its
        # scan's page, but the verdict in force (and every dataset decision) stays the head's.
        audit = RepositoryAudit.objects.filter(repository=scan.repository).first()
        if not scan.ref or (audit is not None and audit.head_commit == scan.commit):
            RepositoryAudit.objects.update_or_create(
                repository=scan.repository, defaults={"verdict": verdict, "head_commit": scan.commit}
            )
            decisions_refresh(repository=scan.repository)
            # A label per file per scan adds up: the head's older scans keep their verdicts, not their labels.
            FileLabel.objects.filter(scan__repository=scan.repository, scan__ref="", scan__pk__lt=scan.pk).delete()
    pipeline.scan_cleanup(scan)
    return verdict


def _scan_evidence(scan: Scan) -> tuple[list[FileEvidence], int]:
    findings = {}
    for mode in ScanFile.objects.filter(scan=scan).values_list("finding_mode", flat=True).distinct():
        keys = ScanFile.objects.filter(scan=scan, finding_mode=mode).values("finding_key" if mode else "blob_id")
        for finding in BlobFinding.objects.filter(
            scanner_version=finding_version(scan.scanner_version, mode), blob_id__in=keys
        ):
            findings[mode, finding.blob_id] = finding
    evidence = []
    binaries = 0
    for scan_file in ScanFile.objects.filter(scan=scan).order_by("pk"):
        mode = scan_file.finding_mode
        finding = findings.get((mode, scan_file.finding_key if mode else scan_file.blob_id))
        if finding is None:
            continue
        if finding.skipped:
            binaries += 1
            continue
        evidence.append(
            FileEvidence(
                path=scan_file.path,
                role=scan_file.role,
                # A vendored LICENSE.txt is a license file, not a data file, whatever its suffix.
                noise=scan_file.role not in (*scan_files.KEY_ROLES, scan_files.NESTED_LICENSE)
                and scan_files.is_noise(scan_file.path),
                blob_id=scan_file.blob_id,
                license_expression=finding.license_expression,
                spdx_expression=finding.spdx_expression,
                detections=finding.detections,
                clues=finding.clues,
                timed_out=finding.timed_out,
                error=finding.error,
            )
        )
    return evidence, binaries


def _scan_truncated(scan: Scan, facts) -> dict[str, int]:
    """What the scan cut (files over the size cap, notice candidates over the cap …) and the evidence lists cut."""
    cut = {
        reason: scan.files_skipped[reason] for reason in scan_files.TRUNCATING_SKIPS if scan.files_skipped.get(reason)
    }
    return {**cut, **facts.truncated}


@dataclass
class ScanOutcome:
    """What `scan_repository` reports for one source."""

    repository: Repository
    scan: Scan
    verdict: Verdict | None
    reused_verdict: bool = False


def scan_repository(*, source: str, ref: str = "", deep: bool = False, requested_by: str = "command") -> ScanOutcome:
    """Scan a repository (URL, canonical name or local path) now, in this process; reuse an unchanged verdict."""
    repository = _repository_from_source(source)
    if not ref or git.is_commit_sha(ref):
        outcome = _verdict_unchanged(repository, ref=ref, deep=deep, requested_by=requested_by)
        if outcome is not None:
            return outcome
    try:
        scan = Scan.objects.create(repository=repository, ref=ref, deep=deep, requested_by=requested_by)
    except IntegrityError:
        raise ScanError(f"{repository.canonical} is being scanned already; try again when that scan is done") from None
    scan = scan_run(scan_id=scan.pk)
    if scan.status == Scan.Status.FAILED:
        raise ScanError(scan.error)
    return ScanOutcome(repository=repository, scan=scan, verdict=scan.verdict)


def _verdict_unchanged(repository: Repository, *, ref: str, deep: bool, requested_by: str) -> ScanOutcome | None:
    """When the repository's head is the commit of its latest verdict, under the same scanner, that verdict stands."""
    latest = (
        Verdict.objects.filter(repository=repository, scan__scanner_version=scancode.scanner_version())
        .filter(Q(deep=True) | Q(deep=deep))
        .select_related("scan")
        .order_by("-created_at")
        .first()
    )
    if latest is None:
        return None
    try:
        head = ref.lower() if ref else git.remote_head(repository.clone_url)
    except git.GitError:
        return None  # the full scan will say what is wrong
    if head != latest.commit:
        return None
    if not ref:  # only a look at the remote says where its head is; a commit asked for says nothing of it
        RepositoryAudit.objects.update_or_create(
            repository=repository, defaults={"head_commit": head, "head_checked_at": timezone.now(), "head_error": ""}
        )
    return ScanOutcome(repository=repository, scan=latest.scan, verdict=latest, reused_verdict=True)


def _repository_from_source(source: str) -> Repository:
    text = source
    if not source.startswith(("file://", "http://", "https://", "ssh://", "git@", "git://")):
        if Path(source).exists():
            text = Path(source).resolve().as_uri()
        elif source.startswith(("/", ".", "~")):
            raise ScanError(f"there is no directory {source}")
    try:
        repository = repository_from_ref(ref=parse_repository(text))
    except RepositoryParseError as error:
        raise ScanError(f"{source!r} is not a repository: {error}") from None
    # The URL the scan will fetch (the row's, which may be older than this spelling), refused before any scan row.
    refusal = fetch_refusal(repository.clone_url)
    if refusal:
        raise ScanError(f"{source!r} cannot be scanned: {refusal}")
    return repository


def decisions_refresh(*, repository: Repository | None = None, dataset: Dataset | None = None) -> int:
    """Apply the datasets' policies (and current reviews) to the latest verdicts; no rescan. Returns rows written."""
    memberships = DatasetRepository.objects.select_related("dataset")
    if repository is not None:
        memberships = memberships.filter(repository=repository)
    if dataset is not None:
        memberships = memberships.filter(dataset=dataset)
    # Only what decision_for and decision_apply read: a verdict's evidence can run to hundreds of files.
    audits = (
        RepositoryAudit.objects.filter(verdict__isnull=False)
        .select_related("verdict__repository")
        .defer("verdict__evidence", "verdict__notes", "verdict__detected_licenses")
    )
    if repository is not None:
        audits = audits.filter(repository=repository)
    if dataset is not None:
        audits = audits.filter(repository__memberships__dataset=dataset)
    latest = {audit.repository_id: audit.verdict for audit in audits}
    written = 0
    policies: dict[int, Policy] = {}
    for membership in memberships.iterator(chunk_size=2000):
        verdict = latest.get(membership.repository_id)
        if verdict is None:
            continue
        policy = policies.setdefault(membership.dataset_id, Policy.from_dataset(membership.dataset))
        decision_apply(dataset=membership.dataset, verdict=verdict, policy=policy)
        written += 1
    return written


def decision_apply(*, dataset: Dataset, verdict: Verdict, policy: Policy | None = None) -> DatasetDecision:
    """The decision in force for one dataset and verdict: a review that saw the same evidence, or the policy's."""
    policy = policy or Policy.from_dataset(dataset)
    computed = decision_for(verdict, policy)
    with transaction.atomic():
        review = (
            Review.objects.filter(dataset=dataset, repository_id=verdict.repository_id, stale_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if review is not None and review.evidence_digest != verdict.evidence_digest:
            Review.objects.filter(pk=review.pk).update(
                stale_at=timezone.now(), stale_reason=Review.StaleReason.EVIDENCE_CHANGED
            )
            review = None
        in_force = review.decision if review else computed.decision
        # get_or_create retries the read when a concurrent refresh inserted the row first.
        decision, created = DatasetDecision.objects.select_for_update().get_or_create(
            dataset=dataset,
            repository_id=verdict.repository_id,
            defaults={
                "target": verdict.repository.canonical,
                "verdict": verdict,
                "computed": computed.decision,
                "decision": in_force,
                "since": timezone.now(),
            },
        )
        if not created and decision.decision != in_force:
            decision.since = timezone.now()
        decision.verdict = verdict
        decision.computed = computed.decision
        decision.decision = in_force
        decision.reasons = computed.reasons
        decision.review = review
        excluded_files = file_exclusions.file_exclusions_write(decision=decision, verdict=verdict, policy=policy)
        if excluded_files:
            decision.reasons = [*decision.reasons, file_exclusions.files_excluded_reason(excluded_files)]
        decision.save()
    return decision


def dataset_policy_changed(*, dataset: Dataset) -> int:
    """Reclassify every stored verdict of a dataset's inventory under its new policy (no rescan)."""
    return decisions_refresh(dataset=dataset)


def review_record(
    *, decision_id: int, decision: str, reason_code: str, comment: str, reviewer, evidence_digest: str = ""
) -> Review:
    """A maintainer settles a verdict for one dataset; it holds until the evidence it saw changes.

    `evidence_digest`, when given, is the evidence the maintainer read: if a newer verdict replaced it
    meanwhile, the review is refused rather than recorded against evidence nobody saw.
    """
    if decision not in ("include", "exclude"):
        raise GovernanceError("a review decides include or exclude")
    if reason_code not in Review.ReasonCode.values:
        raise GovernanceError(f"unknown reason code {reason_code!r}; use one of {', '.join(Review.ReasonCode.values)}")
    if reason_code == Review.ReasonCode.OTHER and not comment.strip():
        raise GovernanceError("say why in the comment when the reason is 'other'")
    with transaction.atomic():
        try:
            current = DatasetDecision.objects.select_for_update().select_related("verdict").get(pk=decision_id)
        except DatasetDecision.DoesNotExist:
            raise GovernanceError("that verdict is no longer in the queue") from None
        if evidence_digest and evidence_digest != current.verdict.evidence_digest:
            raise GovernanceError("a new scan changed the evidence while you were reading it; read it again below")
        Review.objects.filter(
            dataset_id=current.dataset_id, repository_id=current.repository_id, stale_at__isnull=True
        ).update(stale_at=timezone.now(), stale_reason=Review.StaleReason.SUPERSEDED)
        review = Review.objects.create(
            dataset_id=current.dataset_id,
            repository_id=current.repository_id,
            verdict=current.verdict,
            evidence_digest=current.verdict.evidence_digest,
            decision=decision,
            reason_code=reason_code,
            comment=comment.strip(),
            reviewer=reviewer,
        )
        if current.decision != decision:
            current.since = timezone.now()
        current.decision = decision
        current.review = review
        current.save(update_fields=["decision", "review", "since", "updated_at"])
    return review


def directory_review_record(
    *, decision_id: int, directory: str, license: str, reason_code: str, comment: str, reviewer
) -> DirectoryReview:
    """A maintainer keeps the files of one directory that `license` excluded, for the decision's dataset."""
    if reason_code not in Review.ReasonCode.values:
        raise GovernanceError(f"unknown reason code {reason_code!r}; use one of {', '.join(Review.ReasonCode.values)}")
    if not comment.strip():
        raise GovernanceError("say why these files may stay in the comment")
    with transaction.atomic():
        try:
            decision = (
                DatasetDecision.objects.select_for_update().select_related("dataset", "verdict").get(pk=decision_id)
            )
        except DatasetDecision.DoesNotExist:
            raise GovernanceError("that repository is no longer decided for this dataset") from None
        if not FileExclusion.objects.filter(decision=decision, directory=directory, license=license).exists():
            raise GovernanceError(f"no file under {directory or 'the root'} is excluded for {license} any more")
        review = DirectoryReview.objects.create(
            dataset_id=decision.dataset_id,
            repository_id=decision.repository_id,
            directory=directory,
            license=license,
            reason_code=reason_code,
            comment=comment.strip(),
            reviewer=reviewer,
        )
        decision_apply(dataset=decision.dataset, verdict=Verdict.objects.get(pk=decision.verdict_id))
    return review


def directory_review_withdraw(*, review_id: int) -> None:
    """Withdraw a directory review: its files are excluded again at the next publication."""
    with transaction.atomic():
        review = DirectoryReview.objects.select_for_update().get(pk=review_id)
        if review.withdrawn_at is None:
            review.withdrawn_at = timezone.now()
            review.save(update_fields=["withdrawn_at"])
        decision = DatasetDecision.objects.filter(
            dataset_id=review.dataset_id, repository_id=review.repository_id
        ).first()
        if decision is not None:
            decision_apply(dataset=decision.dataset, verdict=Verdict.objects.get(pk=decision.verdict_id))
