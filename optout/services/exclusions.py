"""What makes exclusions take effect: a request's proven targets, or a maintainer's administrative decision."""

import secrets

from django.db import transaction
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.identity import RepositoryParseError, parse_namespace, parse_repository
from governance.models import Dataset
from governance.services import repository_from_ref
from optout import registry
from optout.models import OptOutRequest, Verification
from optout.services.events import request_event_record


def datasets_from_slugs(slugs: list[str] | None) -> list[Dataset]:
    """The datasets named by `slugs` (none: every dataset); raises on a slug that names none."""
    if not slugs:
        return []
    datasets = list(Dataset.objects.filter(slug__in=slugs))
    unknown = set(slugs) - {dataset.slug for dataset in datasets}
    if unknown:
        raise GovernanceError(f"Unknown dataset {sorted(unknown)[0]!r}: choose from the list, or leave all selected")
    return datasets


def exclusions_activate(request: OptOutRequest, verifications) -> None:
    """Put each verified target of the request into the registry, with the request as its source."""
    for verification in verifications:
        registry.exclusion_add(
            request=request,
            repository=verification.repository,
            namespace=verification.namespace,
            reason="opt-out" if request.origin == OptOutRequest.Origin.OWNER else "administrative",
        )
        request_event_record(request, "excluded", f"{verification.target} is now excluded.")


def exclusion_administrative(
    *, dataset_slug: str | None, targets: list[str], namespace: bool, reason: str, actor=None
) -> OptOutRequest:
    """An exclusion a maintainer decides (a legal takedown, say), recorded like any request."""
    reason = reason.strip()
    if not reason:
        raise GovernanceError("Give the reason (kept private): it is recorded with the exclusion")
    try:
        refs = [parse_namespace(target) if namespace else parse_repository(target) for target in targets]
    except RepositoryParseError as error:
        raise GovernanceError(str(error)) from None
    datasets = datasets_from_slugs([dataset_slug] if dataset_slug else None)
    now = timezone.now()
    with transaction.atomic():
        # Created in force: a maintainer's decision needs no confirmation, proof or review.
        request = OptOutRequest.objects.create(
            origin=OptOutRequest.Origin.ADMINISTRATIVE,
            scope=OptOutRequest.Scope.NAMESPACE if namespace else OptOutRequest.Scope.REPOSITORIES,
            namespace=refs[0] if namespace and len(refs) == 1 else "",
            all_datasets=not datasets,
            reason=reason[: OptOutRequest.MAX_REASON_LENGTH],
            state=OptOutRequest.State.ACTIVE,
            proof_token=f"administrative-{secrets.token_urlsafe(24)}",
            confirmed_at=now,
            verified_at=now,
            decided_at=now,
        )
        request.datasets.set(datasets)
        request_event_record(request, "administrative", "Administrative exclusion recorded.", actor=actor)
        for ref in refs:
            repository = None if namespace else repository_from_ref(ref=ref)
            verification = Verification.objects.create(
                request=request,
                repository=repository,
                namespace=ref if namespace else "",
                method=Verification.Method.ADMINISTRATIVE,
                state=Verification.State.VERIFIED,
                verified_at=now,
                result="Administrative decision.",
            )
            exclusions_activate(request, [verification])
    return request
