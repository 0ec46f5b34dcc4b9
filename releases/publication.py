"""Publishing releases of a dataset's exclusion list, and what pipelines report back about them.

A release is written into a temporary folder, signed, and renamed into place only when
complete, so a crash never leaves half a release; a published folder never changes.
"""

import json
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from exclusions.release_files import (
    BLOBS_PARQUET,
    blob_changes_diff,
    blob_rows_read,
    blobs_write,
    changes_diff,
    changes_read,
    changes_write,
    repositories_lookup,
    repositories_read,
    repositories_write,
)
from governance.exceptions import GovernanceError
from governance.models import BuildReport, Dataset, PipelineToken, Release
from governance.selectors import release_next_due
from governance.signing import key_ensure, key_import, manifest_sign
from optout.services import optout_requests_applied
from releases.exclusions import excluded_blobs, exclusion_rows
from releases.fuse import membership_build
from releases.notifications import release_notifications_queue

MANIFEST_FORMAT = 1


def releases_dir(dataset: Dataset) -> Path:
    return Path(settings.DATA_DIR) / "releases" / dataset.slug


def release_folder(release: Release) -> Path:
    return release.folder


def release_publish(*, dataset_slug: str) -> Release:
    """Freeze the registry into the dataset's next release: files, checksums, signed manifest, changes."""
    dataset = Dataset.objects.filter(slug=dataset_slug).first()
    if dataset is None:
        raise GovernanceError(f"No dataset {dataset_slug!r}: see the datasets at /api/v1/datasets/")
    keys_dir = Path(settings.DATA_DIR) / "keys"
    if settings.SIGNING_KEY_FILE:
        key_import(keys_dir=keys_dir, private_key_pem=Path(settings.SIGNING_KEY_FILE).read_bytes())
    key_ensure(keys_dir=keys_dir, create=settings.SIGNING_KEY_AUTOCREATE)
    root = releases_dir(dataset)
    root.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        # One publication per dataset at a time: the row lock queues the others.
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        previous = dataset.releases.order_by("-version").first()
        version = (dataset.releases.aggregate(last=Max("version"))["last"] or 0) + 1
        frozen_at = timezone.now()
        for leftover in root.glob(".partial-*"):
            shutil.rmtree(leftover, ignore_errors=True)  # from a publication that crashed
        partial = root / f".partial-{version}-{uuid.uuid4().hex[:8]}"
        partial.mkdir()
        try:
            manifest = _release_write(dataset, partial, version, previous, frozen_at)
            manifest = manifest_sign(manifest=manifest, keys_dir=keys_dir)
            (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            target = root / str(version)
            if target.exists():
                shutil.rmtree(target)  # never published: its row was rolled back by a crash
            release = Release.objects.create(
                dataset=dataset,
                version=version,
                created_at=frozen_at,
                frozen_at=frozen_at,
                path=str(target.relative_to(settings.DATA_DIR)),
                manifest=manifest,
            )
            partial.rename(target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    # Once the release is committed and its folder in place: the webhooks are told of a release they can fetch.
    release_notifications_queue(release=release)
    return release


def _release_write(dataset: Dataset, folder: Path, version: int, previous: Release | None, frozen_at) -> dict:
    counts = Counter()

    def counted(items, key):
        # Counted on the way through: the files are never read back just to count them.
        for item in items:
            counts[key(item)] += 1
            yield item

    jsonl, parquet = repositories_write(counted(exclusion_rows(dataset), lambda row: row.scope), folder)
    blobs = blobs_write(excluded_blobs(dataset), folder)
    # From the two files just written, so that the filter holds exactly the rows they publish.
    membership = membership_build(folder=folder)
    previous_rows = repositories_read(release_folder(previous) / "repositories.parquet") if previous else iter(())
    diff = changes_diff(previous_rows, repositories_read(folder / "repositories.parquet"))
    changes = changes_write(counted(diff, lambda change: change["op"]), folder)
    return {
        "format": MANIFEST_FORMAT,
        "dataset": dataset.slug,
        "version": version,
        "created_at": frozen_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "previous": previous.version if previous else None,
        "policy": {
            "allowed_categories": sorted(dataset.allowed_categories),
            "allowed_licenses": sorted(dataset.allowed_licenses),
            "denied_licenses": sorted(dataset.denied_licenses),
            "no_license": dataset.no_license,
        },
        "counts": {
            "repositories": counts["repository"],
            "namespaces": counts["namespace"],
            "blobs": blobs.rows,
            "added": counts["add"],
            "removed": counts["remove"],
        },
        "files": [info.as_dict() for info in (jsonl, parquet, blobs, membership, changes)],
    }


def build_report_record(
    *, dataset: Dataset, version: int, build_id: str, notes: str = "", token: PipelineToken | None = None
) -> BuildReport:
    """Record that a build applied a release; the requests it carried move to `applied`."""
    build_id = build_id.strip()
    if not build_id or len(build_id) > 200:
        raise GovernanceError("build_id must be 1 to 200 characters")
    release = dataset.releases.filter(version=version).first()
    if release is None:
        raise GovernanceError(f"{dataset.slug} has no release {version}")
    with transaction.atomic():
        report, created = BuildReport.objects.get_or_create(
            dataset=dataset, build_id=build_id, defaults={"release": release, "notes": notes[:2000], "token": token}
        )
        if not created and report.release_id != release.pk:
            raise GovernanceError(f"Build {build_id!r} already reported release {report.release.version}")
        if created:
            optout_requests_applied(report=report)
    return report


def releases_due() -> list[str]:
    """Datasets whose publication schedule has come round since their last release."""
    due = []
    for dataset in Dataset.objects.filter(publish_every_hours__gt=0):
        if release_next_due(dataset=dataset) <= timezone.now():
            due.append(dataset.slug)
    return due


def changes_since_lines(releases: list[Release], *, base: Release | None) -> Iterator[bytes]:
    """The changes of consecutive releases joined, each line tagged with the release it belongs to.

    For each release: its repository changes (changes.jsonl), then its blob changes (`"kind": "blob"`), computed
    from its blobs.parquet and the previous release's (`base` for the first; None: against an empty list).
    """
    previous = base
    for release in releases:
        for change in changes_read(release_folder(release) / "changes.jsonl"):
            yield (json.dumps({"version": release.version, **change}, ensure_ascii=False) + "\n").encode()
        old_blobs = _blob_rows(previous)
        for change in blob_changes_diff(old_blobs, _blob_rows(release)):
            yield (json.dumps({"version": release.version, **change}, ensure_ascii=False) + "\n").encode()
        previous = release


def _blob_rows(release: Release | None):
    path = release_folder(release) / BLOBS_PARQUET if release is not None else None
    return blob_rows_read(path) if path is not None and path.exists() else iter(())


def release_lookup(release: Release):
    """A lookup over a published release's repositories: (canonicals, namespaces) → {(target, scope): reasons}."""
    path = release_folder(release) / "repositories.parquet"

    def lookup(canonicals: set[str], namespaces: set[str]) -> dict:
        return {
            (target, scope): reasons
            for (target, scope), reasons in repositories_lookup(path, canonicals | namespaces).items()
            if (scope == "repository" and target in canonicals) or (scope == "namespace" and target in namespaces)
        }

    return lookup
