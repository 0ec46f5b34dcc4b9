"""What is excluded for dataset D, and why: the one rule every reader uses.

In force for D: the registry's exclusions that are not revoked and belong to D or to every dataset (opt-outs,
administrative and imported exclusions, reservations: their live sources' public reasons), and the repositories D's
license policy or a maintainer's review excludes (`license:<SPDX expression>`). Publication streams all of it
(`exclusion_rows`, and `excluded_blobs`: the blobs of excluded repositories and the files excluded alone: path
reservations, and the files D's policy refuses in repositories it keeps); the batch check, the Spawning-compatible
endpoint and the lookup on `/` ask for some names (`exclusion_reasons_among`); both read the same two sources
through the same queryset methods (`Exclusion.objects.in_force`, `DatasetDecision.objects.excluding`), and on
PostgreSQL the names go through one indexed statement that spells the same rule (tests/test_exclusion_answers.py
holds them equal).
"""

import heapq
import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Collate

from audits.models import DatasetDecision, Decision, FileExclusion
from exclusions.release_files import ExcludedBlob, ExcludedRow
from governance.models import Dataset, DatasetRepository, RepositoryBlob
from optout.models import Exclusion, ExclusionSource, ReservedFile

Reason = tuple[tuple[str, str], str]  # ((target, scope), public reason)


def license_reason(license_expression: str) -> str:
    """The public reason of a license exclusion: `license:<SPDX expression>`, `license:none` without one."""
    return f"license:{license_expression or 'none'}"


def _byte_order(expression):
    # Release files are sorted by code point (what a streaming diff compares); PostgreSQL's "C" collation agrees.
    return Collate(expression, "C") if connection.vendor == "postgresql" else expression


def exclusion_rows(dataset: Dataset) -> Iterator[ExcludedRow]:
    """Every repository and namespace in force for a dataset now, sorted, one row each with its public reasons.

    Two sorted streams merged: the opt-out registry, and the repositories the dataset's license policy
    (or a maintainer's review) excludes, with the reason `license:<SPDX expression>`.
    """
    sources = (
        ExclusionSource.objects.in_force(dataset)
        .order_by(_byte_order(F("exclusion__target")), "exclusion__scope")
        .values_list("exclusion__target", "exclusion__scope", "reason", "exclusion__since")
    )
    merged = heapq.merge(
        sources.iterator(chunk_size=20_000), _license_exclusions(dataset), key=lambda row: (row[0], row[1])
    )
    for (target, scope), group in itertools.groupby(merged, key=lambda row: row[:2]):
        group = list(group)
        since = min(row[3] for row in group)
        yield ExcludedRow(
            repository=target,
            scope=scope,
            reasons=tuple(sorted({row[2] for row in group})),
            since=since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


def _license_exclusions(dataset: Dataset) -> Iterator[tuple]:
    rows = (
        DatasetDecision.objects.excluding(dataset)
        .order_by(_byte_order(F("target")))
        .values_list("target", "verdict__effective_license", "since")
    )
    for target, license_expression, since in rows.iterator(chunk_size=20_000):
        yield target, "repository", license_reason(license_expression), since


def excluded_repository_ids(dataset: Dataset):
    """Ids of excluded repositories: listed ones, and inventory repositories under excluded namespaces."""
    active = Exclusion.objects.in_force(dataset)
    direct = active.filter(repository__isnull=False).values("repository_id")
    namespaces = active.filter(repository__isnull=True).values("namespace")
    under_namespaces = DatasetRepository.objects.filter(dataset=dataset, repository__namespace__in=namespaces).values(
        "repository_id"
    )
    return direct.union(under_namespaces)


def excluded_blob_ids(dataset: Dataset) -> Iterator[str]:
    """Blob ids of excluded repositories, minus those also found in an inventory repository that stays in."""
    excluded = excluded_repository_ids(dataset)
    kept_elsewhere = RepositoryBlob.objects.filter(repository__memberships__dataset=dataset).exclude(
        repository_id__in=excluded
    )
    blobs = (
        RepositoryBlob.objects.filter(repository_id__in=excluded)
        .exclude(blob_id__in=kept_elsewhere.values("blob_id"))
        .order_by(_byte_order(F("blob_id")))
        .values_list("blob_id", flat=True)
        .distinct()
    )
    return blobs.iterator(chunk_size=50_000)


def excluded_blobs(dataset: Dataset) -> Iterator[str | ExcludedBlob]:
    """What blobs.parquet lists, in blob id order: the blobs of excluded repositories (`excluded_blob_ids`) and
    the files excluded alone (a path reservation covers them in every dataset), those with their reason first."""
    files = (
        ReservedFile.objects.in_force()
        .order_by(_byte_order(F("blob_id")), "reason", "path")
        .values_list("blob_id", "reason", "path")
    )
    reserved = (ExcludedBlob(*row) for row in files.iterator(chunk_size=20_000))
    return heapq.merge(reserved, _license_file_exclusions(dataset), excluded_blob_ids(dataset), key=_blob_order)


def _license_file_exclusions(dataset: Dataset) -> Iterator[ExcludedBlob]:
    """Files the dataset's license policy refuses in repositories it keeps (`license:<SPDX>`), minus those a
    maintainer's directory review keeps; a repository excluded whole lists its blobs anyway."""
    rows = (
        FileExclusion.objects.filter(dataset=dataset, overruled_by__isnull=True, decision__decision=Decision.INCLUDE)
        .order_by(_byte_order(F("blob_id")), "license", "path")
        .values_list("blob_id", "license", "path")
    )
    for blob_id, license_expression, path in rows.iterator(chunk_size=20_000):
        yield ExcludedBlob(blob_id, license_reason(license_expression), path)


def _blob_order(blob: str | ExcludedBlob) -> tuple[str, int]:
    # A blob both listed alone and in an excluded repository keeps the row that says why (blobs_write keeps the first).
    return (blob, 1) if isinstance(blob, str) else (blob.blob_id, 0)


def exclusion_reasons_among(
    *, dataset: Dataset, canonicals: Iterable[str], namespaces: Iterable[str]
) -> Iterator[Reason]:
    """((target, scope), reason) of what is in force for `dataset` among these repository names and namespaces.

    A name can be both a namespace and a repository (GitLab subgroups): each pair says which it matched.
    """
    canonicals, namespaces = set(canonicals), set(namespaces)
    if connection.vendor == "postgresql":
        return _reasons_in_sql(dataset, canonicals, namespaces)
    return _reasons_in_orm(dataset, canonicals, namespaces)


def _reasons_in_orm(dataset: Dataset, canonicals: set[str], namespaces: set[str]) -> Iterator[Reason]:
    sources = ExclusionSource.objects.in_force(dataset).filter(exclusion__target__in=canonicals | namespaces)
    for target, scope, reason in sources.values_list("exclusion__target", "exclusion__scope", "reason"):
        yield (target, scope), reason
    decisions = DatasetDecision.objects.excluding(dataset).filter(target__in=canonicals)
    for target, license_expression in decisions.values_list("target", "verdict__effective_license"):
        yield (target, "repository"), license_reason(license_expression)


# One round trip for a whole batch. The canonical names and the namespaces go in as newline-joined texts (a
# newline cannot be in a parsed name), which psycopg sends far faster than arrays of 10,000 strings; the
# sub-selects keep the planner from estimating each name. Each index then takes a whole array in one scan,
# sorted by the server in the index's own byte order (sorting 19,000 names in Python cost ~10 ms more):
# exclusions by their `target` (names and namespaces), answered from the index alone, reasons included
# (migrations optout 0004-0005); license exclusions by the names alone, from the dataset's `exclude`
# decisions (audits 0003-0004), and only when it has any (the EXISTS is evaluated once, first). A name can
# be both a namespace and a repository (GitLab subgroups): each row says which it matched, and the caller
# files it.
_REASONS_SQL = """
SELECT e.target, e.scope, e.reasons
FROM optout_exclusion e
WHERE (e.target COLLATE "C") = ANY((SELECT string_to_array(%(canonicals)s || E'\\n' || %(namespaces)s, E'\\n'))::text[])
    AND e.revoked_at IS NULL AND (e.dataset_id = %(dataset)s OR e.dataset_id IS NULL)
UNION ALL
SELECT d.target, 'license', v.effective_license
FROM audits_datasetdecision d
JOIN audits_verdict v ON v.id = d.verdict_id
WHERE d.dataset_id = %(dataset)s AND d.decision = 'exclude'
    AND (d.target COLLATE "C") = ANY((SELECT string_to_array(%(canonicals)s, E'\\n'))::text[])
    AND EXISTS (SELECT 1 FROM audits_datasetdecision x WHERE x.dataset_id = %(dataset)s AND x.decision = 'exclude')
"""
# A batch of at most 10,000 names wants index lookups (covering indexes: migrations optout 0005, audits
# 0004). With a million rows the planner may pick hash joins over full (parallel) scans instead (1,150 ms
# against 267 ms, measured), and its cost estimate switches JIT compilation on, which alone took ~80 ms of
# a ~270 ms statement. The settings go in one statement, so that a single-name check pays one round trip for
# them, not five.
_INDEX_LOOKUPS = (
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),"
    " set_config('enable_seqscan', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('jit', 'off', true)"
)


def _reasons_in_sql(dataset: Dataset, canonicals: set[str], namespaces: set[str]) -> Iterator[Reason]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INDEX_LOOKUPS)
        cursor.execute(
            _REASONS_SQL,
            {"dataset": dataset.pk, "canonicals": "\n".join(canonicals), "namespaces": "\n".join(namespaces)},
        )
        rows = cursor.fetchall()
    for target, kind, reasons in rows:
        if kind == "license":
            yield (target, "repository"), license_reason(reasons)
        else:
            for reason in reasons.split(","):
                yield (target, kind), reason
