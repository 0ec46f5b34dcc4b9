"""Reads on requests and the registry."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from audits.models import DatasetDecision
from governance.models import Dataset
from governance.publication import license_reason
from optout.models import Exclusion, OptOutRequest, Verification


def _namespace_chain(namespace: str) -> list[str]:
    """`gitlab.com/a/b` → [`gitlab.com/a/b`, `gitlab.com/a`]: a namespace exclusion covers its subgroups."""
    if namespace.count("/") == 1:
        return [namespace]
    host, _, path = namespace.partition("/")
    parts = path.split("/") if path else []
    return [f"{host}/{'/'.join(parts[:end])}" for end in range(len(parts), 0, -1)]


def exclusions_covering(*, canonical: str, namespace: str, dataset: Dataset | None = None):
    """Active exclusions that cover a repository (itself, or a namespace above it), for one dataset or any."""
    matches = Exclusion.objects.filter(revoked_at__isnull=True).filter(
        Q(repository__canonical=canonical) | Q(repository__isnull=True, namespace__in=_namespace_chain(namespace))
    )
    if dataset is not None:
        matches = matches.filter(Q(dataset=dataset) | Q(dataset__isnull=True))
    return matches.select_related("repository", "dataset").prefetch_related("sources")


def exclusions_of_namespace(*, namespace: str, dataset: Dataset | None = None):
    matches = Exclusion.objects.filter(revoked_at__isnull=True).filter(
        Q(repository__isnull=True, namespace__in=_namespace_chain(namespace)) | Q(repository__namespace=namespace)
    )
    if dataset is not None:
        matches = matches.filter(Q(dataset=dataset) | Q(dataset__isnull=True))
    return matches.select_related("repository", "dataset").prefetch_related("sources")


def exclusion_reasons(exclusions) -> list[str]:
    """Public reason codes only: never a requester's words."""
    return sorted(
        {source.reason for exclusion in exclusions for source in exclusion.sources.all() if source.revoked_at is None}
    )


@dataclass
class StatusPage:
    request: OptOutRequest
    verifications: list[Verification]
    events: list
    datasets: list[Dataset]
    releases: list = None

    @property
    def checking(self) -> bool:
        """A check asked for from the page in the last two minutes may still be running."""
        asked = self.request.last_check_requested_at
        return bool(self.waiting and asked and asked > timezone.now() - timedelta(minutes=2))

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything the page shows about the proofs changes."""
        parts = [self.request.state] + [
            f"{v.pk}:{v.public_state}:{v.last_checked_at.isoformat() if v.last_checked_at else ''}"
            for v in self.verifications
        ]
        return "|".join(parts)

    @property
    def waiting(self) -> int:
        """Repositories whose proof is still awaited."""
        return sum(1 for verification in self.verifications if verification.state in Verification.WAITING_STATES)


@dataclass
class ReleaseLine:
    dataset: Dataset
    version: int
    published_at: object
    builds: list  # BuildReport rows of this release or later ones


def request_releases(*, request: OptOutRequest) -> list[ReleaseLine]:
    """Per dataset, the first published release that carries this request's exclusions, and the builds since."""
    from governance.models import BuildReport, Release

    sources = request.exclusion_sources.filter(revoked_at__isnull=True, exclusion__revoked_at__isnull=True)
    since = sources.aggregate(first=Min("exclusion__since"))["first"]
    if since is None:
        return []
    datasets = Dataset.objects.all() if request.all_datasets else request.datasets.all()
    lines = []
    for dataset in datasets.order_by("slug"):
        first = Release.objects.filter(dataset=dataset, frozen_at__gte=since).order_by("version").first()
        if first is None:
            continue
        builds = list(
            BuildReport.objects.filter(dataset=dataset, release__version__gte=first.version)
            .select_related("release")
            .order_by("reported_at")[:20]
        )
        lines.append(ReleaseLine(dataset=dataset, version=first.version, published_at=first.created_at, builds=builds))
    return lines


def request_status(*, request: OptOutRequest) -> StatusPage:
    """Everything a requester's private status page shows."""
    verifications = list(request.verifications.select_related("repository", "proof_repository"))
    events = list(request.events.only("kind", "message", "created_at"))
    datasets = list(Dataset.objects.all()) if request.all_datasets else list(request.datasets.all())
    return StatusPage(
        request=request,
        verifications=verifications,
        events=events,
        datasets=datasets,
        releases=request_releases(request=request),
    )


def review_queue(*, state: str | None = None, older_than_days: int | None = None):
    """Requests for maintainers, oldest first, with their proof counts."""
    requests = OptOutRequest.objects.annotate(
        targets=Count("verifications"),
        verified=Count("verifications", filter=Q(verifications__state=Verification.State.VERIFIED)),
        first_proof=Min("verifications__verified_at"),
    ).order_by("created_at")
    requests = requests.filter(state=state) if state else requests.filter(state=OptOutRequest.State.IN_REVIEW)
    if older_than_days:
        requests = requests.filter(created_at__lte=timezone.now() - timedelta(days=older_than_days))
    return requests


def review_counts() -> dict[str, int]:
    return dict(OptOutRequest.objects.values_list("state").annotate(count=Count("id")).values_list("state", "count"))


def exclusions_check(*, dataset: Dataset, inputs: list, release_rows=None) -> list[dict]:
    """Answer a batch in input order: excluded or not, with public reasons; an unreadable entry gets its own error.

    Against the live registry, or against `release_rows` ({(target, scope): reasons}) of a published release.
    """
    from governance.identity import RepositoryParseError, canonical_and_namespace

    # Per entry: (canonical, namespace chain), or the error. Namespaces repeat across a batch; so do chains.
    parsed: list = []
    chains: dict[str, list[str]] = {}
    for item in inputs:
        if not isinstance(item, str):
            parsed.append(RepositoryParseError(f"{str(item)[:80]!r} is not text: send repositories as strings"))
            continue
        try:
            canonical, namespace = canonical_and_namespace(item)
        except RepositoryParseError as error:
            parsed.append(error)
            continue
        chain = chains.get(namespace)
        if chain is None:
            chain = chains[namespace] = _namespace_chain(namespace)
        parsed.append((canonical, chain))
    canonicals = {entry[0] for entry in parsed if type(entry) is tuple}
    namespaces = {namespace for chain in chains.values() for namespace in chain}

    by_repository: dict[str, set[str]] = {}
    by_namespace: dict[str, set[str]] = {}
    if release_rows is not None:
        found = release_rows(canonicals, namespaces).items()
        pairs = ((key, reason) for key, row_reasons in found for reason in row_reasons)
    else:
        pairs = _exclusion_reasons_for(dataset, canonicals, namespaces)
    # Reasons as sorted lists: nearly every name has one, and the answer needs a list.
    for (target, scope), reason in pairs:
        found = by_repository if scope == "repository" else by_namespace
        reasons = found.get(target)
        if reasons is None:
            found[target] = [reason]
        elif reason not in reasons:
            reasons.append(reason)
            reasons.sort()

    results = []
    append = results.append
    for item, entry in zip(inputs, parsed, strict=True):
        if type(entry) is not tuple:
            append({"input": item, "error": {"code": getattr(entry, "code", "invalid"), "detail": str(entry)}})
            continue
        canonical, chain = entry
        reasons = by_repository.get(canonical)
        if by_namespace:
            for namespace in chain:
                covering = by_namespace.get(namespace)
                if covering:
                    reasons = sorted({*reasons, *covering}) if reasons else covering
        if reasons:
            append({"input": item, "repository": canonical, "excluded": True, "reasons": [*reasons]})
        else:
            append({"input": item, "repository": canonical, "excluded": False, "reasons": []})
    return results


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


def _exclusion_reasons_for(dataset: Dataset, canonicals: set[str], namespaces: set[str]):
    """((target, scope), reason) of the exclusions and license exclusions in force among these names."""
    from django.db import connection, transaction

    if connection.vendor == "postgresql":
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
        return
    in_force = Exclusion.objects.filter(revoked_at__isnull=True, sources__revoked_at__isnull=True).filter(
        Q(dataset=dataset) | Q(dataset__isnull=True)
    )
    for canonical, reason in in_force.filter(repository__canonical__in=canonicals).values_list(
        "repository__canonical", "sources__reason"
    ):
        yield (canonical, "repository"), reason
    for namespace, reason in in_force.filter(repository__isnull=True, namespace__in=namespaces).values_list(
        "namespace", "sources__reason"
    ):
        yield (namespace, "namespace"), reason
    for canonical, spdx in DatasetDecision.objects.filter(
        dataset=dataset, decision="exclude", repository__canonical__in=canonicals
    ).values_list("repository__canonical", "verdict__effective_license"):
        yield (canonical, "repository"), license_reason(spdx)
