"""Proof reading: the token file an owner commits, read through governance/git.py and compared with a token.

One reading serves both the opt-out proof (verification.py) and the fresh proof that lifts an applied
exclusion (reinclusion.py); both are asked from the status page within the same limits.
"""

import hmac
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from governance.git import proof_file_fetch
from optout.models import OptOutRequest, RequestEvent
from optout.ratelimits import RateLimited, ip_hash, limit_check

PROOF_FILE = ".dataset-opt-out"


@dataclass(frozen=True)
class ProofReading:
    """What the head of a repository's default branch holds at PROOF_FILE."""

    commit: str  # the head commit that was read
    holds_token: bool  # the file is there and holds exactly the token (surrounding whitespace aside)
    missing: bool  # no such file in that commit (or it was too large to be read)
    too_large: bool  # the file is there, over the size a token needs


def proof_read(url: str, *, token: str, timeout: float) -> ProofReading:
    """Read the proof file of the repository at `url` and compare it with `token`.

    Raises governance.git.GitError (FetchRefused among them) when git could not read the repository.
    """
    proof = proof_file_fetch(url, path=PROOF_FILE, timeout=timeout)
    return ProofReading(
        commit=proof.commit,
        holds_token=proof.content is not None and _proof_matches(proof.content, token),
        missing=proof.content is None,
        too_large=proof.too_large,
    )


def _proof_matches(content: bytes, token: str) -> bool:
    # Constant time, so response timing cannot be used to guess a token byte by byte.
    return hmac.compare_digest(content.strip(), token.encode())


def check_lease() -> timedelta:
    """How long a sent check owns its verification before the sweep may send it again."""
    return timedelta(seconds=settings.OPTOUT_CHECK_LEASE_SECONDS)


def check_ask_wait(request: OptOutRequest, *, now) -> timedelta:
    """How long before the status page may ask for another check of this request (zero: now)."""
    interval = timedelta(seconds=settings.OPTOUT_VERIFY_INTERVAL_SECONDS)
    if not request.last_check_requested_at:
        return timedelta(0)
    return max(timedelta(0), request.last_check_requested_at + interval - now)


def check_ask_allowed(request: OptOutRequest, *, ip: str | None, now) -> None:
    """The limits on checks asked from a status page: one per request per interval, and per network address."""
    wait = check_ask_wait(request, now=now)
    if wait:
        raise RateLimited(
            f"A check was asked for a moment ago. Please wait {math.ceil(wait.total_seconds())} seconds.",
            retry_after=wait,
        )
    hashed = ip_hash(ip)
    if hashed:
        limit_check(
            timestamps=RequestEvent.objects.filter(kind="verify_requested", ip_hash=hashed),
            limit=settings.OPTOUT_VERIFY_PER_IP_PER_HOUR,
            window=timedelta(hours=1),
            what="verification requests from your network",
        )
