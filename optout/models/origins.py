"""What requests of other origins keep: the records imported from existing registries, and the reservations
read in repositories (their last reading, and the files a path reservation covers)."""

from django.db import models
from django.db.models import Q

from governance.models import Repository
from optout.models.requests import OptOutRequest


class ReservedFileQuerySet(models.QuerySet):
    def in_force(self):
        """Files whose reservation still holds (every dataset: a reservation travels with the code)."""
        return self.filter(revoked_at__isnull=True)


class ReservedFile(models.Model):
    """One file a path-only reservation covers (`Disallow: *.py`, `vendor/** ai-training=false`): its blob is left
    out of every dataset, the rest of the repository stays. Made and revoked by the reservation check."""

    request = models.ForeignKey(OptOutRequest, on_delete=models.PROTECT, related_name="reserved_files")
    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="reserved_files")
    path = models.CharField(max_length=4096)
    blob_id = models.CharField(max_length=40, db_index=True, help_text="git blob SHA-1 (The Stack v2's blob_id)")
    reason = models.CharField(max_length=50, help_text="Public reason code: reservation:<kind>")
    since = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When the reservation stopped covering it")

    objects = ReservedFileQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "path"], condition=Q(revoked_at__isnull=True), name="reserved_file_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repository} {self.path} ({self.reason})"


class ReservationCheck(models.Model):
    """The last reading of one repository's machine-readable reservations (optout/services/reservations.py)."""

    repository = models.OneToOneField(Repository, on_delete=models.PROTECT, related_name="reservation_check")
    commit = models.CharField(max_length=40, blank=True, help_text="The head commit whose reservations were last read")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When the last check ran, read or not")
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the reservation files were last read")
    # Also a lease: the sweep moves it forward when it sends a check, so a check whose message was lost comes back.
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    evidence = models.JSONField(
        default=dict, blank=True, help_text="commit, reservations (kind, file, line, text, paths), malformed files"
    )
    request = models.ForeignKey(
        OptOutRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reservation_checks",
        help_text="The repository's reservation request, made the first time a reservation is found",
    )
    error = models.CharField(max_length=500, blank=True, help_text="Why the last check could not read the repository")
    failures = models.PositiveIntegerField(default=0, help_text="Checks failed in a row")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Reservations of {self.repository}"


class ImportedRecord(models.Model):
    """Where an imported request came from: one record of an existing opt-out registry (an issue, a URL line).

    The author is private: maintainers see it (review page, admin); it is never published, answered or logged.
    """

    request = models.OneToOneField(OptOutRequest, on_delete=models.PROTECT, related_name="imported_record")
    source = models.CharField(max_length=100, help_text="The registry's name, as given to import_optouts")
    record_id = models.CharField(max_length=1100, help_text="Its id in the registry: issue number, or repository")
    author = models.CharField(max_length=200, blank=True, help_text="Who filed the record. Private: maintainers only")
    file_sha256 = models.CharField(max_length=64, help_text="The file it was (last) read from")
    line = models.PositiveIntegerField(help_text="Its line in that file")
    # What the record named when last imported, to tell an unchanged record from an updated one without a join.
    repositories = models.JSONField(default=list, help_text="Canonical names, sorted")
    namespaces = models.JSONField(default=list, help_text="Namespaces, sorted")
    datasets = models.JSONField(default=list, help_text="Dataset slugs, sorted; empty: every dataset")
    imported_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was revoked because the registry no longer lists it"
    )

    class Meta:
        ordering = ["source", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "record_id"], name="imported_record_once")]

    def __str__(self) -> str:
        return f"{self.source} record {self.record_id}"
