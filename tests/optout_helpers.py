"""Shared steps for opt-out tests: file, confirm and prove requests against real repositories."""

import re

from django.core import mail
from django.utils import timezone

from optout import services
from optout.models import Verification


def confirm_link_token(message) -> str:
    return re.search(r"/opt-out/confirm/([A-Za-z0-9_-]+)/", message.body).group(1)


def file_and_confirm(*, repositories: list[str] | None = None, email="owner@example.org", ip="198.51.100.7", **fields):
    """Submit a request for these repositories (clone URLs or any spelling) and confirm it, as its owner would."""
    if repositories is not None:
        fields.setdefault("scope", "repositories")
        fields["repositories_text"] = "\n".join(repositories)
    submission = services.optout_request_submit(email=email, ip=ip, **fields)
    confirmation = services.optout_request_confirm(token=submission.confirm_token)
    return confirmation


def commit_proof(make_repository, name: str, token: str) -> None:
    make_repository(name, {".dataset-opt-out": token + "\n"}, message="Opt out of code datasets")


def outbox_to(address: str):
    return [message for message in mail.outbox if address in message.to]


def verify_all(request):
    """Make every proof of the request due now, and run its checks."""
    Verification.objects.filter(request=request).update(next_check_at=timezone.now())
    return services.optout_request_verify(request_id=request.pk)
