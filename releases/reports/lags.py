"""The lag from a new exclusion to the first release that carries it, summed up for the transparency report.

The rule is the one that marks requests applied: the first release of the dataset frozen at or after the
exclusion's `since` carries it, unless it was revoked by then (and then no later release does either). A
registry of a million exclusions is summed up by PostgreSQL in one statement (medians and buckets included),
so the report never loads it row by row; other databases (embedded mode's SQLite) go through Python.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction

from governance.models import Dataset, Release
from optout.models import Exclusion
from releases.reports.figures import DURATION_BUCKETS, SECONDS_PER_DAY, duration_buckets, percentile


@dataclass
class ExclusionLags:
    """Exclusions carried by a release (with their lag, in seconds) and those still waiting for one."""

    measured: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    bucket_counts: list[int] = field(default_factory=lambda: [0] * len(DURATION_BUCKETS))
    waiting: int = 0
    # release version → (exclusions it was the first to carry, their median lag in seconds)
    by_version: dict[int, tuple[int, float | None]] = field(default_factory=dict)


def exclusion_lags(*, dataset: Dataset, releases: list[Release]) -> ExclusionLags:
    """How long the registry's exclusions of a dataset waited for their first release (releases by version)."""
    if connection.vendor == "postgresql":
        return _lags_in_sql(dataset, releases)
    return _lags_in_python(dataset, releases)


def _lags_in_python(dataset: Dataset, releases: list[Release]) -> ExclusionLags:
    frozen = [release.frozen_at for release in releases]  # ascending, like the versions
    carried: dict[int, list[float]] = defaultdict(list)
    waiting = 0
    exclusions = Exclusion.objects.for_dataset(dataset).values_list("since", "revoked_at")
    for since, revoked_at in exclusions.iterator(chunk_size=20_000):
        index = bisect.bisect_left(frozen, since)
        if index < len(releases) and (revoked_at is None or revoked_at > frozen[index]):
            first = releases[index]
            carried[first.version].append((first.created_at - since).total_seconds())
        elif index >= len(releases) and revoked_at is None:
            waiting += 1
    every = [seconds for lags in carried.values() for seconds in lags]
    return ExclusionLags(
        measured=len(every),
        median_seconds=percentile(every, 0.5),
        p90_seconds=percentile(every, 0.9),
        bucket_counts=[row["count"] for row in duration_buckets([seconds / SECONDS_PER_DAY for seconds in every])],
        waiting=waiting,
        by_version={version: (len(lags), percentile(lags, 0.5)) for version, lags in carried.items()},
    )


# `position` is where bisect_left would put `since` among the releases' freeze times, plus one: the number of
# releases frozen before it (timestamps hold microseconds, so "<= since - 1 µs" is "< since"). Ordered-set
# aggregates interpolate as percentile() does (PERCENTILE.INC).
_LAGS_SQL = """
WITH released AS (
    SELECT * FROM unnest(%(versions)s::integer[], %(frozen)s::timestamptz[], %(created)s::timestamptz[])
        WITH ORDINALITY AS r(version, frozen_at, created_at, position)
),
registry AS (
    SELECT since, revoked_at,
           COALESCE(width_bucket(since - interval '1 microsecond', %(frozen)s::timestamptz[]), 0) + 1 AS position
    FROM optout_exclusion
    WHERE dataset_id = %(dataset)s OR dataset_id IS NULL
),
carried AS (
    SELECT r.version, EXTRACT(EPOCH FROM r.created_at - e.since)::float8 AS lag
    FROM registry e JOIN released r ON r.position = e.position
    WHERE e.revoked_at IS NULL OR e.revoked_at > r.frozen_at
)
SELECT version, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY lag), {buckets},
       (SELECT count(*) FROM registry WHERE revoked_at IS NULL AND position > %(releases)s)
FROM carried
GROUP BY GROUPING SETS ((version), ())
"""


def _bucket_columns() -> str:
    """count(*) FILTER (…) per duration bucket, the same bounds as duration_buckets()."""
    columns = []
    bounds = [bound * SECONDS_PER_DAY for bound, _ in DURATION_BUCKETS]
    for number, lower in enumerate(bounds):
        conditions = []
        if number > 0:
            conditions.append(f"lag >= {lower}")
        if number + 1 < len(bounds):
            conditions.append(f"lag < {bounds[number + 1]}")
        columns.append(f"count(*) FILTER (WHERE {' AND '.join(conditions)})")
    return ", ".join(columns)


def _lags_in_sql(dataset: Dataset, releases: list[Release]) -> ExclusionLags:
    if not releases:  # width_bucket() wants thresholds; with no release every exclusion in force waits
        return ExclusionLags(waiting=Exclusion.objects.in_force(dataset).count())
    parameters = {
        "dataset": dataset.pk,
        "versions": [release.version for release in releases],
        "frozen": [release.frozen_at for release in releases],
        "created": [release.created_at for release in releases],
        "releases": len(releases),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # The medians sort every lag: in memory (a million of them: ~50 MB), not in temporary files.
        cursor.execute("SELECT set_config('work_mem', '128MB', true)")
        cursor.execute(_LAGS_SQL.format(buckets=_bucket_columns()), parameters)
        rows = cursor.fetchall()
    lags = ExclusionLags()
    for version, count, median, p90, *rest in rows:
        *buckets, waiting = rest
        if version is not None:
            lags.by_version[version] = (count, median)
            continue
        # The grand total (the empty grouping set): always there, even with nothing carried.
        lags.measured, lags.median_seconds, lags.p90_seconds = count, median, p90
        lags.bucket_counts, lags.waiting = list(buckets), waiting
    return lags
