"""Limits on how often one address or one network address may submit and verify.

Counted from rows already in the database (the source of truth), so they hold across
processes and need no cache. Network addresses (governance.network.client_address, which believes
X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says) are kept only as keyed hashes.
"""

import hashlib
import hmac
import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from governance.exceptions import GovernanceError


class RateLimited(GovernanceError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: timedelta):
        super().__init__(message)
        self.retry_after = retry_after


def ip_hash(ip: str | None) -> str:
    """A keyed hash of a network address: enough to count, useless to anyone reading the database."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def _wait_text(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{math.ceil(minutes / 60)} hours"


def limit_check(*, timestamps, limit: int, window: timedelta, what: str) -> None:
    """Raise RateLimited when `limit` events already fall inside `window`; the message says when to retry."""
    now = timezone.now()
    recent = sorted(timestamps.filter(**{"created_at__gte": now - window}).values_list("created_at", flat=True))
    if len(recent) < limit:
        return
    retry_after = recent[-limit] + window - now
    raise RateLimited(
        f"Too many {what}. Please try again in {_wait_text(retry_after.total_seconds())}.", retry_after=retry_after
    )
