"""File exclusions: the files a dataset's policy refuses in a repository it keeps, and maintainers' directory reviews.

A repository whose declared license the policy allows stays in; its files whose own label the policy refuses
(their own notice, or the license file of a directory above them) are excluded alone: their blob ids reach the
release's blobs.parquet with `license:<SPDX>` and their path. A maintainer who reads them can keep a directory's
files (the license there is a false positive, or allowed after all): the review holds while that license is what
the scans find there, and asks again when something else is found.
"""

from audits.models import DatasetDecision, DirectoryReview, FileExclusion, FileLabel, Verdict
from audits.policy import Policy, policy_allows
from audits.scanning.labels import label_directory


def file_exclusions_write(*, decision: DatasetDecision, verdict: Verdict, policy: Policy) -> dict[str, int]:
    """The files of a verdict's scan whose own label the dataset's policy refuses (the rest of the repository stays),
    with a maintainer's current directory reviews applied; returns the count per refused license."""
    FileExclusion.objects.filter(decision=decision).delete()
    reviews = list(
        DirectoryReview.objects.filter(
            dataset_id=decision.dataset_id, repository_id=decision.repository_id, withdrawn_at__isnull=True
        ).order_by("-created_at")
    )
    labels = _labels_below_root(verdict.scan_id)
    rows, counts = [], {}
    for label in labels.only("path", "blob_id", "license", "origin", "source").iterator(chunk_size=5000):
        if policy_allows(label.license, policy) is not False:
            continue
        directory = label_directory(label)
        overruling = next((r for r in reviews if r.license == label.license and _under(directory, r.directory)), None)
        rows.append(
            FileExclusion(
                decision=decision,
                dataset_id=decision.dataset_id,
                path=label.path,
                blob_id=label.blob_id,
                license=label.license,
                directory=directory,
                overruled_by=overruling,
            )
        )
        if overruling is None:
            counts[label.license] = counts.get(label.license, 0) + 1
    FileExclusion.objects.bulk_create(rows, batch_size=5000)
    return counts


def _under(directory: str, ancestor: str) -> bool:
    return not ancestor or directory == ancestor or directory.startswith(ancestor + "/")


def files_refused(*, scan_id: int, policy: Policy) -> dict[str, int]:
    """How many files of a scan the policy refuses by their own label, per license (nothing written)."""
    counts: dict[str, int] = {}
    for license_ in _labels_below_root(scan_id).values_list("license", flat=True).iterator(chunk_size=5000):
        if policy_allows(license_, policy) is False:
            counts[license_] = counts.get(license_, 0) + 1
    return counts


def _labels_below_root(scan_id: int):
    return FileLabel.objects.filter(
        scan_id=scan_id, origin__in=[FileLabel.Origin.OWN_NOTICE, FileLabel.Origin.DIRECTORY]
    )


def files_excluded_reason(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    licenses = ", ".join(f"{license} ({count})" for license, count in sorted(counts.items()))
    return {
        "code": "files_excluded",
        "count": total,
        "detail": f"{total} file{'s' if total != 1 else ''} excluded alone, the repository kept: {licenses}",
    }


def file_exclusions_by_directory(decision: DatasetDecision) -> list[dict]:
    """A decision's file exclusions grouped by the directory their license comes from, with a few paths each."""
    groups: dict[tuple[str, str], dict] = {}
    for path, directory, license_, overruled_by in (
        FileExclusion.objects.filter(decision=decision)
        .order_by("directory", "license", "path")
        .values_list("path", "directory", "license", "overruled_by")
    ):
        group = groups.setdefault(
            (directory, license_),
            {"directory": directory, "license": license_, "files": 0, "paths": [], "overruled_by": overruled_by},
        )
        group["files"] += 1
        if len(group["paths"]) < 5:
            group["paths"].append(path)
    return list(groups.values())
