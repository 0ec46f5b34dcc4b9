"""The exclusion registry: what is excluded, for which datasets, because of which requests."""

from django.db import models
from django.db.models import Q

from governance.models import Dataset, Repository
from optout.models.requests import OptOutRequest


def dataset_q(dataset: Dataset, via: str = "") -> Q:
    """Rows of `dataset` or of every dataset (dataset empty, which includes datasets added later)."""
    return Q(**{f"{via}dataset": dataset}) | Q(**{f"{via}dataset__isnull": True})


def in_force_q(dataset: Dataset | None = None, via: str = "") -> Q:
    """The rule, written once: an exclusion in force for `dataset` is not revoked and belongs to that dataset
    or to every dataset (no dataset given: in force for any). `via` reaches it from a related row."""
    in_force = Q(**{f"{via}revoked_at__isnull": True})
    return in_force if dataset is None else in_force & dataset_q(dataset, via)


class ExclusionQuerySet(models.QuerySet):
    def for_dataset(self, dataset: Dataset):
        """Exclusions of `dataset` or of every dataset, revoked ones included (their history)."""
        return self.filter(dataset_q(dataset))

    def in_force(self, dataset: Dataset | None = None):
        """Exclusions in force for `dataset` (or for any dataset)."""
        return self.filter(in_force_q(dataset))


class ExclusionSourceQuerySet(models.QuerySet):
    def in_force(self, dataset: Dataset | None = None):
        """Live sources of the exclusions in force for `dataset`: each names one public reason."""
        return self.filter(revoked_at__isnull=True).filter(in_force_q(dataset, via="exclusion__"))


class Exclusion(models.Model):
    """The registry: a repository or namespace left out of one dataset (or of all: dataset empty)."""

    class Scope(models.TextChoices):
        REPOSITORY = "repository"
        NAMESPACE = "namespace"

    scope = models.CharField(max_length=20, choices=Scope.choices)
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.PROTECT, related_name="exclusions"
    )
    namespace = models.CharField(max_length=1100, blank=True, db_index=True)
    # What a batch check looks up: one index probe per name, without going through the repository table.
    # Set once when the exclusion is made (a repository's canonical name never changes).
    target = models.CharField(
        max_length=1100, editable=False, help_text="The repository's canonical name, or the namespace"
    )
    dataset = models.ForeignKey(
        Dataset,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exclusions",
        help_text="Empty: every dataset, including ones added later",
    )
    since = models.DateTimeField(help_text="When it (last) came into force")
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When its last source was withdrawn")
    # What a batch check answers, kept with the row so that the check reads one index and no sources: the
    # registry writes it in the same transaction as the sources it sums up (optout/registry.py).
    reasons = models.CharField(
        max_length=200,
        editable=False,
        help_text="Public reason codes of its live sources, sorted, comma-separated (the last ones once revoked)",
    )

    objects = ExclusionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "dataset"],
                condition=Q(dataset__isnull=False, repository__isnull=False),
                name="exclusion_unique_repository_dataset",
            ),
            models.UniqueConstraint(
                fields=["repository"],
                condition=Q(dataset__isnull=True, repository__isnull=False),
                name="exclusion_unique_repository_all",
            ),
            models.UniqueConstraint(
                fields=["namespace", "dataset"],
                condition=Q(dataset__isnull=False, repository__isnull=True),
                name="exclusion_unique_namespace_dataset",
            ),
            models.UniqueConstraint(
                fields=["namespace"],
                condition=Q(dataset__isnull=True, repository__isnull=True),
                name="exclusion_unique_namespace_all",
            ),
            models.CheckConstraint(
                condition=Q(scope="repository", repository__isnull=False, namespace="")
                | Q(scope="namespace", repository__isnull=True) & ~Q(namespace=""),
                name="exclusion_one_target",
            ),
            models.CheckConstraint(
                condition=Q(scope="repository") & ~Q(target="") | Q(scope="namespace", target=models.F("namespace")),
                name="exclusion_target_named",
            ),
            # An exclusion in force always has a reason: an empty list must never read as "not excluded".
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=False) | ~Q(reasons=""), name="exclusion_in_force_has_reasons"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} from {self.dataset.slug if self.dataset_id else 'every dataset'}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ExclusionSource(models.Model):
    """Why an exclusion is in force: one request; an exclusion holds while any source does."""

    exclusion = models.ForeignKey(Exclusion, on_delete=models.PROTECT, related_name="sources")
    request = models.ForeignKey(OptOutRequest, on_delete=models.PROTECT, related_name="exclusion_sources")
    reason = models.CharField(max_length=50, default="opt-out", help_text="Public reason code: opt-out, legal, …")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ExclusionSourceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exclusion", "request"], condition=Q(revoked_at__isnull=True), name="exclusion_source_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} (request {self.request_id})"
