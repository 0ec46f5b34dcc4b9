"""License audits: scans of repositories, per-blob findings, verdicts, per-dataset decisions and reviews."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models import Dataset, JobStatus, Repository


class Classification(models.TextChoices):
    PERMISSIVE = "permissive"
    COPYLEFT = "copyleft"
    PROPRIETARY = "proprietary"
    NO_LICENSE = "no_license"
    UNKNOWN = "unknown"


class Decision(models.TextChoices):
    INCLUDE = "include"
    EXCLUDE = "exclude"
    NEEDS_REVIEW = "needs_review"


class Scan(models.Model):
    """One scan of one repository at one commit, with its progress and what it cost."""

    Status = JobStatus

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="scans")
    ref = models.CharField(max_length=255, blank=True, help_text="Branch, tag or commit asked for; blank: HEAD")
    deep = models.BooleanField(default=False, help_text="Every file, not only the key files")
    commit = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    step = models.CharField(max_length=40, blank=True, help_text="The pipeline step running or last run")
    files_total = models.PositiveIntegerField(default=0, help_text="Files in the commit")
    files_to_scan = models.PositiveIntegerField(default=0, help_text="Files this scan needs a finding for")
    files_done = models.PositiveIntegerField(default=0, help_text="Of files_to_scan, how many have one")
    files_scanned = models.PositiveIntegerField(default=0, help_text="Run through scancode by this scan")
    files_reused = models.PositiveIntegerField(default=0, help_text="Found already scanned, here or elsewhere")
    files_skipped = models.JSONField(default=dict, blank=True, help_text="Why files were not scanned: reason → count")
    scanner_version = models.CharField(max_length=100, blank=True)
    index_fingerprint = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=100, blank=True, help_text="command, beat, admin …")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    starts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started it")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep last sent it to the broker again")
    enqueue_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker could not take its task: waiting for a worker"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="scan_status_valid"
            ),
            # Never two scans of one repository at once.
            models.UniqueConstraint(
                fields=["repository"],
                condition=Q(status__in=["queued", "running"]),
                name="scan_one_open_per_repository",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repository} @ {self.commit[:12] or self.ref or 'HEAD'} ({self.status})"


class ScanFile(models.Model):
    """One file of a scanned commit that the verdict needs (key files; every file in a deep scan)."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="files")
    path = models.TextField()
    blob_id = models.CharField(max_length=40)
    size = models.BigIntegerField()
    role = models.CharField(max_length=20, help_text="license, readme, notice, manifest, notice_candidate, other")
    chunk = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    # How its finding was made: "" scancode on the whole file; "header" the notice block of its first lines
    # (SPDX lines read exactly, else scancode on the block), shared by every file whose block is the same;
    # "manifest" the manifest's license fields read exactly. Set when the file is done.
    finding_mode = models.CharField(max_length=10, blank=True)
    finding_key = models.CharField(max_length=40, blank=True, help_text="What the finding is stored under (a blob id)")

    class Meta:
        indexes = [models.Index(fields=["scan", "chunk", "done"], name="scan_file_chunk")]

    def __str__(self) -> str:
        return self.path


class ScanChunk(models.Model):
    """A slice of a scan's files, scanned by one task; the scan is done when all its chunks are."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scan", "number"], name="scan_chunk_unique_number")]

    def __str__(self) -> str:
        return f"{self.scan_id}/{self.number} ({self.status})"


class BlobFinding(models.Model):
    """scancode's answer for one git blob under one scanner version: never computed twice."""

    blob_id = models.CharField(max_length=40)
    scanner_version = models.CharField(max_length=100)
    license_expression = models.TextField(blank=True, help_text="scancode license keys")
    spdx_expression = models.TextField(blank=True)
    detections = models.JSONField(default=list, blank=True, help_text="Matches: expression, lines, rule, score …")
    clues = models.JSONField(default=list, blank=True, help_text="Matches too weak to be a detection")
    license_text_percent = models.FloatField(default=0.0, help_text="Share of the file that is license text")
    is_license_text = models.BooleanField(default=False)
    timed_out = models.BooleanField(default=False, help_text="Cut short by the per-file time limit")
    skipped = models.CharField(max_length=20, blank=True, help_text="Why scancode did not read it (binary)")
    error = models.TextField(blank=True)
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blob_id", "scanner_version"], name="blob_finding_unique_blob_version"),
        ]

    def __str__(self) -> str:
        return f"{self.blob_id[:12]}: {self.spdx_expression or '-'}"


class FileLabel(models.Model):
    """One file of a scanned commit: the license that governs it, where that comes from, and what kind of file it is.

    As The Stack v2 labels its rows (`license_type`, `is_vendor`, `is_generated`, `language`), plus `unknown`
    when nothing can tell and the origin of the license: the file's own notice, the nearest license file or
    manifest up the tree, or the repository's declared license.
    """

    class LicenseType(models.TextChoices):
        PERMISSIVE = "permissive"
        NON_PERMISSIVE = "non_permissive"
        NO_LICENSE = "no_license"
        UNKNOWN = "unknown"

    class Origin(models.TextChoices):
        OWN_NOTICE = "own_notice", "its own notice"
        DIRECTORY = "directory", "the nearest license file or manifest up the tree"
        ROOT = "root", "the repository's declared license"
        NONE = "", "nothing"

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="labels")
    path = models.TextField()
    blob_id = models.CharField(max_length=40)
    license_type = models.CharField(max_length=20, choices=LicenseType.choices)
    license = models.TextField(blank=True, help_text="SPDX expression that governs the file")
    origin = models.CharField(max_length=12, choices=Origin.choices, blank=True)
    source = models.TextField(
        blank=True, help_text="The file the license was read from (itself, a LICENSE, a manifest)"
    )
    language = models.CharField(max_length=100, blank=True)
    is_vendor = models.BooleanField(default=False)
    is_generated = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scan", "path"], name="file_label_unique_path")]

    def __str__(self) -> str:
        return f"{self.path}: {self.license_type} ({self.license or '-'})"


class Verdict(models.Model):
    """A repository's license outcome from one scan: what it declares, what was found, and how sure we are."""

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, related_name="verdict")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="verdicts")
    commit = models.CharField(max_length=64)
    declared_license = models.TextField(blank=True, help_text="SPDX expression from key files and manifests")
    effective_license = models.TextField(blank=True, help_text="What policies are evaluated on")
    detected_licenses = models.JSONField(default=list, help_text="Every SPDX expression found, sorted")
    classification = models.CharField(max_length=20, choices=Classification.choices)
    uncertainties = models.JSONField(default=list, blank=True, help_text="Why a person should look: code, detail")
    conflicts = models.JSONField(default=list, blank=True, help_text="Files whose license departs from declared")
    notes = models.JSONField(default=list, blank=True, help_text="Where the license was found, when unusual")
    evidence = models.JSONField(default=list, blank=True, help_text="Findings: file, lines, rule, score, role")
    evidence_digest = models.CharField(max_length=64, help_text="Changes when the evidence a review saw changes")
    truncated = models.JSONField(
        default=dict, blank=True, help_text="What the scan cut, by what: notice candidates, large files, evidence"
    )
    deep = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.repository}: {self.classification}"


class RepositoryAudit(models.Model):
    """The latest verdict of a repository and when its head was last looked at (what re-scans work from)."""

    repository = models.OneToOneField(Repository, on_delete=models.CASCADE, related_name="audit")
    verdict = models.ForeignKey(Verdict, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    head_commit = models.CharField(max_length=64, blank=True, help_text="The remote head at the last check")
    head_checked_at = models.DateTimeField(null=True, blank=True)
    head_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return str(self.repository)


class DatasetDecisionQuerySet(models.QuerySet):
    def excluding(self, dataset: Dataset):
        """The repositories `dataset`'s license policy (or a maintainer's review) excludes now."""
        return self.filter(dataset=dataset, decision=Decision.EXCLUDE)


class DatasetDecision(models.Model):
    """The policy of one dataset applied to a repository's latest verdict (recomputed when either changes)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="license_decisions")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="license_decisions")
    # What a batch check looks up, without going through the repository table; set when the decision is made
    # (a repository's canonical name never changes).
    target = models.CharField(max_length=1100, editable=False, help_text="The repository's canonical name")
    verdict = models.ForeignKey(Verdict, on_delete=models.CASCADE, related_name="decisions")
    computed = models.CharField(max_length=20, choices=Decision.choices, help_text="What the policy says")
    decision = models.CharField(
        max_length=20, choices=Decision.choices, db_index=True, help_text="In force: a current review's, or computed"
    )
    reasons = models.JSONField(default=list)
    review = models.ForeignKey("Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    since = models.DateTimeField(help_text="When the decision in force last changed")
    updated_at = models.DateTimeField(auto_now=True)

    objects = DatasetDecisionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "repository"], name="dataset_decision_unique"),
            models.CheckConstraint(condition=~Q(target=""), name="dataset_decision_target_named"),
        ]
        permissions = [("review_license", "Can settle license verdicts that need review")]

    def __str__(self) -> str:
        return f"{self.dataset.slug}: {self.repository} → {self.decision}"


class Review(models.Model):
    """A maintainer's decision on a verdict for one dataset; it holds while the evidence it saw is unchanged."""

    class ReasonCode(models.TextChoices):
        LICENSE_CONFIRMED = "license_confirmed", "Read the files: the license is what was detected"
        VENDORED_SEPARATE = "vendored_separate", "The other license covers vendored code only"
        FALSE_POSITIVE = "false_positive", "The match is not a license of this code"
        INCOMPATIBLE = "incompatible", "The terms do not allow this dataset"
        OWNER_STATEMENT = "owner_statement", "The owner stated the license"
        OTHER = "other", "Other (see comment)"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="license_reviews")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="license_reviews")
    verdict = models.ForeignKey(Verdict, on_delete=models.CASCADE, related_name="reviews")
    evidence_digest = models.CharField(max_length=64)
    decision = models.CharField(max_length=20, choices=[(d, d) for d in ("include", "exclude")])
    reason_code = models.CharField(max_length=30, choices=ReasonCode.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class StaleReason(models.TextChoices):
        EVIDENCE_CHANGED = "evidence_changed", "the evidence changed"
        SUPERSEDED = "superseded", "replaced by a later review"

    stale_at = models.DateTimeField(null=True, blank=True, help_text="When it stopped holding")
    stale_reason = models.CharField(max_length=20, choices=StaleReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dataset.slug}: {self.repository} → {self.decision} by {self.reviewer}"


class FileExclusion(models.Model):
    """A file one dataset's policy refuses in a repository the dataset keeps: its blob goes to blobs.parquet."""

    decision = models.ForeignKey(DatasetDecision, on_delete=models.CASCADE, related_name="file_exclusions")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="file_exclusions")
    path = models.TextField()
    blob_id = models.CharField(max_length=40)
    license = models.TextField(help_text="The SPDX expression the policy refuses")
    directory = models.TextField(blank=True, help_text="Where the license comes from: what a maintainer overrules")
    overruled_by = models.ForeignKey(
        "DirectoryReview", null=True, blank=True, on_delete=models.SET_NULL, related_name="overruled"
    )

    class Meta:
        indexes = [models.Index(fields=["dataset", "blob_id"], name="file_exclusion_dataset_blob")]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.path} ({self.license})"


class DirectoryReview(models.Model):
    """A maintainer keeps a directory's files that a license excluded; it holds while that license is what is found."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="directory_reviews")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="directory_reviews")
    directory = models.TextField(blank=True, help_text="Path of the directory; blank: the repository's root")
    license = models.TextField(help_text="The license whose exclusion it overrules")
    reason_code = models.CharField(max_length=30, choices=Review.ReasonCode.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.repository} {self.directory or '/'} keeps {self.license}"
