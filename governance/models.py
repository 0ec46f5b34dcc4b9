"""What every app shares: repository identity, datasets and their inventory."""

from django.db import models
from django.db.models import Q

from governance.identity import RepositoryRef

# The Stack v2's policy: permissive licenses, and files with no license at all.
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


def default_allowed_licenses() -> list[str]:
    return list(DEFAULT_ALLOWED_LICENSES)


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


class Dataset(models.Model):
    class NoLicense(models.TextChoices):
        INCLUDE = "include", "Include (as The Stack v2 does)"
        EXCLUDE = "exclude", "Exclude"
        REVIEW = "needs_review", "Ask a maintainer"

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    allowed_licenses = models.JSONField(
        default=default_allowed_licenses, help_text="SPDX license keys the dataset's policy allows"
    )
    no_license = models.CharField(
        max_length=20, choices=NoLicense.choices, default=NoLicense.INCLUDE, help_text="Repositories with no license"
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

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="inventory_import_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.slug} ← {self.source_name} ({self.status})"
