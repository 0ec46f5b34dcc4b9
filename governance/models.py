"""What every app shares: repository identity, datasets and their inventory."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from governance.identity import RepositoryRef

# The explicit list datasets were created with before policies had categories; migration 0001 names it.
DEFAULT_ALLOWED_LICENSES = [
    "0BSD",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "CC0-1.0",
    "ISC",
    "MIT",
    "MIT-0",
    "PostgreSQL",
    "Python-2.0",
    "Unlicense",
    "Zlib",
]


# scancode's license categories, as its license database names them; a policy allows some of them.
LICENSE_CATEGORIES = [
    "Permissive",
    "Public Domain",
    "Copyleft Limited",
    "Copyleft",
    "Proprietary Free",
    "Free Restricted",
    "Source-available",
    "Commercial",
    "Patent License",
    "CLA",
    "Unstated License",
]
# The built-in policy: every Permissive and Public Domain license (curl, ISC, MIT-CMU, sudo … as well as MIT).
DEFAULT_ALLOWED_CATEGORIES = ["Permissive", "Public Domain"]


def default_allowed_licenses() -> list[str]:
    return list(DEFAULT_ALLOWED_LICENSES)


def default_allowed_categories() -> list[str]:
    return list(DEFAULT_ALLOWED_CATEGORIES)


def validate_license_categories(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(
            f"a list of license categories, not {value!r}: choose from {', '.join(LICENSE_CATEGORIES)}"
        )
    unknown = [category for category in value if category not in LICENSE_CATEGORIES]
    if unknown:
        raise ValidationError(f"not license categories: {unknown!r}; choose from {', '.join(LICENSE_CATEGORIES)}")


class JobStatus(models.TextChoices):
    """The states of background work recorded on a row: imports, blob listings, scans."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Repository(models.Model):
    """One repository, whatever spelling it was pasted in (see governance/identity.py)."""

    canonical = models.CharField(max_length=1100, unique=True, help_text="host/owner/name")
    host = models.CharField(max_length=255, db_index=True)
    namespace = models.CharField(
        max_length=1100, db_index=True, help_text="host/owner: what a namespace opt-out covers"
    )
    clone_url = models.CharField(max_length=1200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "repositories"
        ordering = ["canonical"]

    def __str__(self) -> str:
        return self.canonical

    @classmethod
    def fields_from_ref(cls, ref: RepositoryRef) -> dict:
        return {"canonical": ref.canonical, "host": ref.host, "namespace": ref.namespace, "clone_url": ref.clone_url}


# Words that already mean something where a dataset slug is written.
RESERVED_DATASET_SLUGS = {
    "all": "`manage.py exclude all` means every dataset",
    "default": "`scan_repository --json` names the built-in license policy so",
}


def validate_dataset_slug(value: str) -> None:
    if value in RESERVED_DATASET_SLUGS:
        raise ValidationError(f"{value!r} cannot name a dataset: {RESERVED_DATASET_SLUGS[value]}; choose another slug")


class Dataset(models.Model):
    class NoLicense(models.TextChoices):
        INCLUDE = "include", "Include (as The Stack v2 does)"
        EXCLUDE = "exclude", "Exclude"
        REVIEW = "needs_review", "Ask a maintainer"

    slug = models.SlugField(max_length=100, unique=True, validators=[validate_dataset_slug])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    allowed_categories = models.JSONField(
        default=default_allowed_categories,
        blank=True,
        validators=[validate_license_categories],
        help_text="scancode license categories the dataset's policy allows (Permissive, Public Domain, …)",
    )
    allowed_licenses = models.JSONField(
        default=list, blank=True, help_text="SPDX license ids allowed whatever their category"
    )
    denied_licenses = models.JSONField(
        default=list, blank=True, help_text="SPDX license ids refused whatever their category"
    )
    no_license = models.CharField(
        max_length=20, choices=NoLicense.choices, default=NoLicense.INCLUDE, help_text="Repositories with no license"
    )
    publish_every_hours = models.PositiveIntegerField(
        default=0, help_text="Publish a release on this schedule when the registry changed; 0: only by hand"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class DatasetRepository(models.Model):
    """The inventory: one repository (at one commit, when known) that a dataset build contains."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="inventory")
    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="memberships")
    commit = models.CharField(max_length=64, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "inventory entry"
        verbose_name_plural = "inventory"
        constraints = [
            models.UniqueConstraint(fields=["dataset", "repository"], name="inventory_unique_repository"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.slug}: {self.repository.canonical}"


class InventoryImport(models.Model):
    """One import of an inventory file, with its progress and the rows it refused."""

    Status = JobStatus

    # Rows refused are counted in full; their messages are kept up to this many.
    MAX_STORED_ROW_ERRORS = 1000

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="imports")
    source_name = models.CharField(max_length=500, help_text="The file as the uploader named it")
    source_path = models.CharField(max_length=2000, help_text="Where the worker reads it")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_failed = models.PositiveBigIntegerField(default=0)
    repositories_added = models.PositiveBigIntegerField(default=0)
    repositories_updated = models.PositiveBigIntegerField(default=0)
    progress = models.FloatField(default=0.0, help_text="Share of the file read, 0 to 1")
    row_errors = models.JSONField(default=list, blank=True, help_text="[row, message] of refused rows")
    error = models.TextField(blank=True, help_text="Why the file could not be read")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep last sent it to the broker again")
    enqueue_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker could not take its task: waiting for a worker"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="inventory_import_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.slug} ← {self.source_name} ({self.status})"


class Release(models.Model):
    """Release N of a dataset's exclusion list: a folder of files that never changes once published."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="releases")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    frozen_at = models.DateTimeField(help_text="The instant the registry was read")
    path = models.CharField(max_length=500, help_text="Folder under GOVERNANCE_DATA_DIR")
    manifest = models.JSONField(help_text="The signed manifest as published")

    class Meta:
        ordering = ["dataset", "-version"]
        constraints = [models.UniqueConstraint(fields=["dataset", "version"], name="release_unique_version")]

    def __str__(self) -> str:
        return f"{self.dataset.slug} release {self.version}"

    @property
    def counts(self) -> dict:
        return self.manifest.get("counts", {})

    @property
    def folder(self) -> Path:
        """Where its files are published."""
        return Path(settings.DATA_DIR) / self.path


class PipelineToken(models.Model):
    """A build pipeline's credential for its datasets; only its hash is stored."""

    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it")
    token_hash = models.CharField(max_length=64, unique=True)
    datasets = models.ManyToManyField(Dataset, related_name="pipeline_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set to revoke the token")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class BuildReport(models.Model):
    """A pipeline saying that build X applied release N."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="build_reports")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="build_reports")
    build_id = models.CharField(max_length=200)
    notes = models.CharField(max_length=2000, blank=True)
    token = models.ForeignKey(PipelineToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at"]
        constraints = [models.UniqueConstraint(fields=["dataset", "build_id"], name="build_report_unique_build")]

    def __str__(self) -> str:
        return f"{self.build_id} applied {self.release}"


class RepositoryBlob(models.Model):
    """One file blob of a listed repository (git ls-tree, no content read), for blob-level exclusion."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="blobs")
    blob_id = models.CharField(max_length=40, db_index=True)
    size = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "blob_id"], name="repository_blob_unique")]

    def __str__(self) -> str:
        return self.blob_id


class BlobListing(models.Model):
    """When a repository's blobs were last listed, at which commit, and how it went."""

    Status = JobStatus

    repository = models.OneToOneField(Repository, on_delete=models.CASCADE, related_name="blob_listing")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    commit = models.CharField(max_length=64, blank=True)
    blobs = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="License texts and trivial files left out")
    error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.repository} ({self.status})"
