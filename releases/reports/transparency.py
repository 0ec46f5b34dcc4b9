"""The public transparency report of a dataset: what was excluded, when, and how fast opt-outs took effect.

Only public, non-personal facts are counted: releases, the registry (whose targets releases publish anyway),
the inventory's license verdicts, and requests as counts. A request's e-mail address, reason, repositories and
event messages are never read here, so no figure can carry them.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from audits.models import Classification
from exclusions.release_files import CHANGES_JSONL, changes_read
from governance.models import Dataset, DatasetRepository, Release
from optout.models import OptOutRequest, RequestEvent
from releases.publication import release_folder
from releases.reports.figures import (
    DURATION_BUCKETS,
    SECONDS_PER_DAY,
    Column,
    Figure,
    days,
    duration_buckets,
    percentile,
    share_percent,
)
from releases.reports.lags import ExclusionLags, exclusion_lags

# Release folders never change once published: what is read from one is cached for good, keyed by its checksum.
RELEASE_CHANGES_CACHE_SECONDS = 30 * 86_400


@dataclass
class TransparencyReport:
    dataset: Dataset
    generated_at: datetime
    figures: dict[str, Figure]

    def as_dict(self) -> dict:
        return {
            "dataset": {"slug": self.dataset.slug, "name": self.dataset.name},
            "generated_at": _iso(self.generated_at),
            "figures": {key: figure.as_dict() for key, figure in self.figures.items()},
        }

    def figure_as_dict(self, key: str) -> dict:
        """One figure as its JSON download: the dataset's slug, when it was computed, and the figure."""
        return {"dataset": self.dataset.slug, "generated_at": _iso(self.generated_at), **self.figures[key].as_dict()}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def transparency_datasets(*, slug: str | None = None) -> tuple[list[Dataset], Dataset | None]:
    """The datasets a report can be shown for, and the one to show: `slug`'s, or the most recently published.

    None when there is no dataset (or none named `slug`).
    """
    datasets = list(Dataset.objects.order_by("slug"))
    if slug is not None:
        return datasets, next((dataset for dataset in datasets if dataset.slug == slug), None)
    latest = Release.objects.order_by("-created_at").select_related("dataset").first()
    return datasets, latest.dataset if latest else (datasets[0] if datasets else None)


def transparency_report_cached(*, dataset: Dataset) -> TransparencyReport:
    """The public report of one dataset as computed at most TRANSPARENCY_CACHE_SECONDS ago (its page says when)."""
    key = f"transparency-report:{dataset.pk}"
    report = cache.get(key) if settings.TRANSPARENCY_CACHE_SECONDS else None
    if report is None:
        report = transparency_report(dataset=dataset)
        if settings.TRANSPARENCY_CACHE_SECONDS:
            cache.set(key, report, settings.TRANSPARENCY_CACHE_SECONDS)
    return report


def transparency_report(*, dataset: Dataset) -> TransparencyReport:
    """Every figure of the public report of one dataset, computed now from the database and the release files."""
    now = timezone.now()
    releases = list(dataset.releases.order_by("version"))
    requests = _requests_of(dataset)
    by_state = _requests_by_state_figure(requests)
    lags = exclusion_lags(dataset=dataset, releases=releases)
    applied_seconds = _confirmation_to_applied_seconds(requests)
    verification_rows = _verification_rows(requests)
    proof_share = share_percent(
        sum(row["requests"] for row in verification_rows if row["method"] != "administrative"),
        sum(row["requests"] for row in verification_rows),
    )
    license_rows = _license_mix_rows(dataset)
    figures = {
        "summary": _summary_figure(
            releases=releases,
            requests_total=sum(by_state.column("requests")),
            applied_seconds=applied_seconds,
            proof_share=proof_share,
            lags=lags,
            inventory=sum(row["repositories"] for row in license_rows),
        ),
        "releases": _releases_figure(releases, lags),
        "requests_by_state": by_state,
        "time_to_applied": _buckets_figure(
            "time_to_applied",
            "Time from e-mail confirmation to applied",
            "Requests that became applied, by the time from the owner's e-mail confirmation to the first build "
            "that applied a release carrying them.",
            "requests",
            [row["count"] for row in duration_buckets([seconds / SECONDS_PER_DAY for seconds in applied_seconds])],
        ),
        "verification": Figure(
            key="verification",
            title="How requests were verified",
            definition="Requests that reached the verified state or later (including ones later withdrawn or "
            "rejected), by how they were verified: a proof file the owner committed, taking effect at once or "
            "after a maintainer looked; an administrative decision (a legal takedown, say) with no proof; a "
            "record imported from an existing opt-out registry (one bar per registry); or a machine-readable "
            "reservation found in the repository itself.",
            columns=[
                Column("method", "method"),
                Column("label", "how"),
                Column("requests", "requests"),
                Column("share_percent", "share (%)"),
            ],
            rows=verification_rows,
        ),
        "license_mix": Figure(
            key="license_mix",
            title="License classification of the inventory",
            definition="Every repository of the dataset's inventory, by the classification of its latest license "
            "verdict; repositories without a verdict yet are counted as not scanned yet.",
            columns=[
                Column("classification", "classification"),
                Column("label", "license"),
                Column("repositories", "repositories"),
                Column("share_percent", "share (%)"),
            ],
            rows=license_rows,
        ),
        "exclusion_lag": _buckets_figure(
            "exclusion_lag",
            "Lag from a new exclusion to the first release carrying it",
            "Exclusions of the registry (opt-outs and administrative ones) that a release carries, by the time "
            "from the moment they came into force to the publication of the first release that carries them.",
            "exclusions",
            lags.bucket_counts,
        ),
    }
    return TransparencyReport(dataset=dataset, generated_at=now, figures=figures)


def _requests_of(dataset: Dataset):
    """Requests that concern a dataset: those for every dataset, and those that name it."""
    ids = OptOutRequest.objects.filter(Q(all_datasets=True) | Q(datasets=dataset)).values("pk")
    return OptOutRequest.objects.filter(pk__in=ids)


def _summary_figure(*, releases, requests_total, applied_seconds, proof_share, lags: ExclusionLags, inventory):
    measures = [
        ("releases", "releases published", len(releases), ""),
        ("inventory_repositories", "repositories in the inventory", inventory, ""),
        ("requests", "opt-out requests (any state)", requests_total, ""),
        ("applied_requests_measured", "requests measured from confirmation to applied", len(applied_seconds), ""),
        (
            "applied_median_days",
            "median time from confirmation to applied",
            days(percentile(applied_seconds, 0.5)),
            "days",
        ),
        (
            "applied_p90_days",
            "90th percentile, confirmation to applied",
            days(percentile(applied_seconds, 0.9)),
            "days",
        ),
        ("verified_by_proof_percent", "verified requests verified by the owner's proof", proof_share, "%"),
        ("exclusions_measured", "exclusions carried by a release", lags.measured, ""),
        (
            "exclusion_lag_median_days",
            "median lag from exclusion to release",
            days(lags.median_seconds),
            "days",
        ),
        (
            "exclusion_lag_p90_days",
            "90th percentile lag from exclusion to release",
            days(lags.p90_seconds),
            "days",
        ),
        ("exclusions_waiting", "exclusions in force, waiting for their first release", lags.waiting, ""),
    ]
    return Figure(
        key="summary",
        title="Summary",
        definition="The headline numbers of this report; each is explained with its chart below.",
        columns=[
            Column("measure", "measure"),
            Column("label", "what"),
            Column("value", "value"),
            Column("unit", "unit"),
        ],
        rows=[{"measure": key, "label": label, "value": value, "unit": unit} for key, label, value, unit in measures],
    )


def _releases_figure(releases: list[Release], lags: ExclusionLags) -> Figure:
    rows = []
    for release in releases:
        changes = release_scope_changes(release)
        rows.append(
            {
                "version": release.version,
                "published_at": _iso(release.created_at),
                "repositories": release.counts.get("repositories", 0),
                "namespaces": release.counts.get("namespaces", 0),
                "repositories_added": changes.get("repository_added"),
                "repositories_removed": changes.get("repository_removed"),
                "namespaces_added": changes.get("namespace_added"),
                "namespaces_removed": changes.get("namespace_removed"),
                "exclusions_first_carried": lags.by_version.get(release.version, (0, None))[0],
                "median_lag_days": days(lags.by_version.get(release.version, (0, None))[1]),
            }
        )
    return Figure(
        key="releases",
        title="Releases over time",
        definition="Each published release of the exclusion list: how many repositories and namespaces it "
        "excludes, how many it added and removed against the release before (an entry whose reasons changed "
        "counts as neither), and how many registry exclusions it was the first to carry, with their median lag.",
        columns=[
            Column("version", "release"),
            Column("published_at", "published (UTC)"),
            Column("repositories", "repositories excluded"),
            Column("namespaces", "namespaces excluded"),
            Column("repositories_added", "repositories added"),
            Column("repositories_removed", "repositories removed"),
            Column("namespaces_added", "namespaces added"),
            Column("namespaces_removed", "namespaces removed"),
            Column("exclusions_first_carried", "new exclusions carried"),
            Column("median_lag_days", "their median lag (days)"),
        ],
        rows=rows,
    )


def release_scope_changes(release: Release) -> dict[str, int | None]:
    """Entries a release added and removed, per scope, read from its changes.jsonl (cached: it never changes)."""

    checksum = next((item["sha256"] for item in release.manifest.get("files", []) if item["name"] == CHANGES_JSONL), "")
    key = f"transparency:changes:{release.dataset_id}:{release.version}:{checksum}"
    found = cache.get(key)
    if found is not None:
        return found
    ops: dict[tuple[str, str], set[str]] = defaultdict(set)
    try:
        for change in changes_read(release_folder(release) / CHANGES_JSONL):
            ops[(change["repository"], change["scope"])].add(change["op"])
    except FileNotFoundError:
        return {}  # the folder is gone (moved, or a test's row): the counts are unknown, not zero
    counted = Counter()
    for (_, scope), kinds in ops.items():
        if kinds == {"add"}:
            counted[f"{scope}_added"] += 1
        elif kinds == {"remove"}:
            counted[f"{scope}_removed"] += 1
    found = {
        f"{scope}_{op}": counted[f"{scope}_{op}"]
        for scope in ("repository", "namespace")
        for op in ("added", "removed")
    }
    cache.set(key, found, RELEASE_CHANGES_CACHE_SECONDS)
    return found


def _requests_by_state_figure(requests) -> Figure:
    counts = dict(requests.values_list("state").annotate(count=Count("pk")).values_list("state", "count"))
    return Figure(
        key="requests_by_state",
        title="Opt-out requests by state",
        definition="Every opt-out request that concerns this dataset (named in it, or made for every dataset), "
        "counted by its state today. Requests that were never confirmed or proven appear only in these counts.",
        columns=[Column("state", "state"), Column("label", "meaning"), Column("requests", "requests")],
        rows=[
            {"state": state.value, "label": state.label, "requests": counts.get(state.value, 0)}
            for state in OptOutRequest.State
        ],
    )


def _confirmation_to_applied_seconds(requests) -> list[float]:
    """Per owner request that became applied: seconds from its first `confirmed` event to its first `applied` one."""
    owners = requests.filter(origin=OptOutRequest.Origin.OWNER).values("pk")
    firsts: dict[int, dict[str, datetime]] = defaultdict(dict)
    events = (
        RequestEvent.objects.filter(request_id__in=owners, kind__in=["confirmed", "applied"])
        .order_by("created_at", "pk")
        .values_list("request_id", "kind", "created_at")
    )
    for request_id, kind, moment in events:
        firsts[request_id].setdefault(kind, moment)
    return [
        (moments["applied"] - moments["confirmed"]).total_seconds()
        for moments in firsts.values()
        if "applied" in moments and "confirmed" in moments and moments["applied"] >= moments["confirmed"]
    ]


def _verification_rows(requests) -> list[dict]:
    reached = requests.filter(verified_at__isnull=False)
    reviewed = set(
        RequestEvent.objects.filter(request_id__in=reached.values("pk"), kind__in=["in_review", "approved", "rejected"])
        .values_list("request_id", flat=True)
        .distinct()
    )
    counts = Counter()
    sources = set()
    for pk, origin, source in reached.values_list("pk", "origin", "imported_record__source"):
        if origin == OptOutRequest.Origin.ADMINISTRATIVE:
            counts["administrative"] += 1
        elif origin == OptOutRequest.Origin.IMPORTED:
            # One bar per registry: the source's name is public, its records' authors are not.
            counts[f"imported:{source}"] += 1
            sources.add(source)
        elif origin == OptOutRequest.Origin.RESERVATION:
            counts["reservation"] += 1
        else:
            counts["proof_reviewed" if pk in reviewed else "proof_automatic"] += 1
    total = sum(counts.values())
    labels = [
        ("proof_automatic", "Owner's proof file; took effect at once"),
        ("proof_reviewed", "Owner's proof file; a maintainer reviewed it"),
        ("administrative", "Administrative decision, no proof"),
        *((f"imported:{source}", f"Imported from {source}") for source in sorted(sources)),
        *([("reservation", "Reservation found in the repository")] if counts["reservation"] else []),
    ]
    return [
        {"method": key, "label": label, "requests": counts[key], "share_percent": share_percent(counts[key], total)}
        for key, label in labels
    ]


def _license_mix_rows(dataset: Dataset) -> list[dict]:
    counts = dict(
        DatasetRepository.objects.filter(dataset=dataset)
        .values_list("repository__audit__verdict__classification")
        .annotate(count=Count("pk"))
        .values_list("repository__audit__verdict__classification", "count")
    )
    total = sum(counts.values())
    labels = [(choice.value, choice.label.replace("_", " ").capitalize()) for choice in Classification]
    labels.append((None, "Not scanned yet"))
    return [
        {
            "classification": key or "not_scanned",
            "label": label,
            "repositories": counts.get(key, 0),
            "share_percent": share_percent(counts.get(key, 0), total),
        }
        for key, label in labels
    ]


def _buckets_figure(key: str, title: str, definition: str, noun: str, counts: list[int]) -> Figure:
    """A duration figure: how many `noun` fall in each bucket of DURATION_BUCKETS (counts in that order)."""
    return Figure(
        key=key,
        title=title,
        definition=definition,
        columns=[Column("bucket", "time"), Column(noun, noun)],
        rows=[{"bucket": label, noun: count} for (_, label), count in zip(DURATION_BUCKETS, counts, strict=True)],
    )
