"""Reads where opt-outs and licenses meet: what is excluded for a dataset, and why."""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import BooleanField, ExpressionWrapper, Q

from governance.identity import (
    RepositoryParseError,
    canonical_and_namespace,
    namespace_chain,
    parse_namespace,
    parse_repository,
)
from governance.models import Dataset, DatasetRepository, PipelineToken
from releases.exclusions import excluded_repository_ids, exclusion_reasons_among
from releases.models import Webhook


@dataclass(frozen=True)
class InventoryMatch:
    dataset: Dataset
    repositories: list[str]  # canonical names found in this dataset (capped)
    total: int
    excluded: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class InventoryLookup:
    query: str
    kind: str  # "repository" or "namespace"
    canonical: str
    matches: list[InventoryMatch]


LOOKUP_LIMIT = 50


def inventory_lookup(*, text: str) -> InventoryLookup:
    """Which datasets hold a repository (or any repository under an owner), and whether each excludes it and
    why: the batch check's own answer for a repository, the namespace exclusions covering an owner; raises on
    unreadable input."""
    text = text.strip()
    try:
        ref = parse_repository(text)
        kind, canonical = "repository", ref.canonical
        entries = DatasetRepository.objects.filter(repository__canonical=canonical)

        def reasons_for(dataset):
            return exclusions_check(dataset=dataset, inputs=[canonical])[0]["reasons"]

    except RepositoryParseError as repository_error:
        try:
            canonical = parse_namespace(text)
        except RepositoryParseError:
            raise repository_error from None
        kind = "namespace"
        entries = DatasetRepository.objects.filter(repository__namespace=canonical)
        chain = namespace_chain(canonical)

        def reasons_for(dataset):
            found = exclusion_reasons_among(dataset=dataset, canonicals=(), namespaces=chain)
            return sorted({reason for (_, scope), reason in found if scope == "namespace"})

    matches = []
    for dataset in Dataset.objects.order_by("slug"):
        in_dataset = entries.filter(dataset=dataset)
        names = list(
            in_dataset.order_by("repository__canonical").values_list("repository__canonical", flat=True)[:LOOKUP_LIMIT]
        )
        total = len(names) if len(names) < LOOKUP_LIMIT else in_dataset.count()
        reasons = reasons_for(dataset)
        matches.append(
            InventoryMatch(
                dataset=dataset, repositories=names, total=total, excluded=bool(reasons), reasons=tuple(reasons)
            )
        )
    return InventoryLookup(query=text, kind=kind, canonical=canonical, matches=matches)


@dataclass(frozen=True)
class LookupExample:
    canonical: str
    excluded: bool
    dataset: Dataset


EXAMPLE_CANDIDATES = 20
# Hosted repositories make better examples than paths on the portal's disk (the demo has both).
LOCAL_LAST = ExpressionWrapper(Q(repository__canonical__startswith="file:"), output_field=BooleanField()).asc()


def lookup_examples_cached() -> list[LookupExample]:
    """The home page's examples as found at most TRANSPARENCY_CACHE_SECONDS ago: finding them sorts the inventory,
    which a page every visitor opens should not do each time (the lookup itself always answers now)."""
    if not settings.TRANSPARENCY_CACHE_SECONDS:
        return lookup_examples()
    examples = cache.get(LOOKUP_EXAMPLES_KEY)
    if examples is None:
        examples = lookup_examples()
        cache.set(LOOKUP_EXAMPLES_KEY, examples, settings.TRANSPARENCY_CACHE_SECONDS)
    return examples


LOOKUP_EXAMPLES_KEY = "lookup-examples"


def lookup_examples() -> list[LookupExample]:
    """Two repositories of the inventory to try the lookup with, one excluded and one not (the first of each
    found, hosted ones before local paths); fewer, or none, when the data holds none of a kind."""
    found: dict[bool, LookupExample] = {}
    for dataset in Dataset.objects.order_by("slug"):
        inventory = DatasetRepository.objects.filter(dataset=dataset)
        excluded_ids = excluded_repository_ids(dataset)
        for excluded in (True, False):
            if excluded in found:
                continue
            candidates = (
                inventory.filter(repository_id__in=excluded_ids)
                if excluded
                else inventory.exclude(repository_id__in=excluded_ids)
            )
            names = list(
                candidates.order_by(LOCAL_LAST, "repository__canonical").values_list(
                    "repository__canonical", flat=True
                )[:EXAMPLE_CANDIDATES]
            )
            # The batch check has the last word: licenses exclude too, and the registry may say more.
            for answer in exclusions_check(dataset=dataset, inputs=names):
                if "error" not in answer and answer["excluded"] == excluded:
                    found[excluded] = LookupExample(canonical=answer["input"], excluded=excluded, dataset=dataset)
                    break
        if len(found) == 2:
            break
    return [found[excluded] for excluded in (True, False) if excluded in found]


def exclusions_check(*, dataset: Dataset, inputs: list, release_rows=None) -> list[dict]:
    """Answer a batch in input order: excluded or not, with public reasons; an unreadable entry gets its own error.

    Against the live registry, or against `release_rows` ({(target, scope): reasons}) of a published release.
    """
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
            chain = chains[namespace] = namespace_chain(namespace)
        parsed.append((canonical, chain))
    canonicals = {entry[0] for entry in parsed if type(entry) is tuple}
    namespaces = {namespace for chain in chains.values() for namespace in chain}

    by_repository: dict[str, set[str]] = {}
    by_namespace: dict[str, set[str]] = {}
    if release_rows is not None:
        found = release_rows(canonicals, namespaces).items()
        pairs = ((key, reason) for key, row_reasons in found for reason in row_reasons)
    else:
        pairs = exclusion_reasons_among(dataset=dataset, canonicals=canonicals, namespaces=namespaces)
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


def webhooks_of_token(*, token: PipelineToken, dataset: Dataset):
    """The webhooks `token` registered for `dataset`, newest first (another token's are never among them)."""
    return Webhook.objects.filter(token=token, dataset=dataset).order_by("-created_at", "-pk")
