"""Pipeline tokens: shown once, stored as a hash, scoped to datasets, revocable."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.models import Dataset, PipelineToken

TOKEN_PREFIX = "gdp_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def pipeline_token_issue(*, name: str, dataset_slugs: list[str]) -> tuple[PipelineToken, str]:
    """Create a token for these datasets; the raw token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 200:
        raise GovernanceError("Give the token a name of 1 to 200 characters, e.g. the pipeline it is for")
    datasets = list(Dataset.objects.filter(slug__in=dataset_slugs))
    unknown = set(dataset_slugs) - {dataset.slug for dataset in datasets}
    if unknown or not dataset_slugs:
        raise GovernanceError(f"Unknown dataset {sorted(unknown)[0]!r}" if unknown else "Name at least one dataset")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = PipelineToken.objects.create(name=name, prefix=raw[:12], token_hash=_hash(raw))
        token.datasets.set(datasets)
    return token, raw


def pipeline_token_authenticate(*, raw: str) -> PipelineToken | None:
    """The live token these characters are, or None."""
    if not raw or len(raw) > 200:
        return None
    token = PipelineToken.objects.filter(token_hash=_hash(raw), revoked_at__isnull=True).first()
    if token is not None and (token.last_used_at is None or timezone.now() - token.last_used_at > timedelta(minutes=5)):
        PipelineToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
