"""Opt-out requests in every state for the demo, made through the real domain functions and git."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.test.utils import override_settings
from django.utils import timezone

from governance.git import local_repository_commit
from optout import services
from optout.models import OptOutRequest, Verification

DEMO_DOMAIN = "example.org"


def _file(repositories: list[str], email: str, **fields):
    submission = services.optout_request_submit(
        email=email, scope="repositories", repositories_text="\n".join(repositories), **fields
    )
    return submission


def _confirm(submission):
    return services.optout_request_confirm(token=submission.confirm_token)


def _prove(confirmation, repository_path: Path):
    local_repository_commit(
        repository_path, {".dataset-opt-out": confirmation.request.proof_token + "\n"}, message="Opt out"
    )
    Verification.objects.filter(request=confirmation.request).update(next_check_at=timezone.now())
    services.optout_request_verify(request_id=confirmation.request.pk)


def demo_optout_requests(repositories_dir: Path) -> dict[str, str]:
    """Requests in several states; returns {description: status page URL}. Skipped when already there."""
    if OptOutRequest.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists():
        return {}
    links: dict[str, str] = {}

    def url(confirmation) -> str:
        return f"{settings.PUBLIC_BASE_URL}/opt-out/r/{confirmation.status_token}/"

    def repo(name: str) -> Path:
        return repositories_dir / name

    active = _confirm(_file([repo("acme/mit-widgets").as_uri()], f"acme@{DEMO_DOMAIN}", reason="We sell it."))
    _prove(active, repo("acme/mit-widgets"))
    links["excluded (proof verified)"] = url(active)

    waiting = _confirm(
        _file(
            [repo("copyleft-labs/gpl-editor").as_uri(), repo("copyleft-labs/lgpl-codec").as_uri()],
            f"labs@{DEMO_DOMAIN}",
        )
    )
    links["waiting for proof"] = url(waiting)

    _file([repo("solo-dev/scripts").as_uri()], f"solo@{DEMO_DOMAIN}")  # never confirmed: no status page yet

    with override_settings(OPTOUT_AUTO_APPROVE=False):
        review = _confirm(_file([repo("acme/bsd-parser").as_uri()], f"parser@{DEMO_DOMAIN}", reason="Client code."))
        _prove(review, repo("acme/bsd-parser"))
    links["in review by a maintainer"] = url(review)

    withdrawn = _confirm(_file(["github.com/demo-user-7/project-7"], f"seven@{DEMO_DOMAIN}"))
    services.optout_request_withdraw(request=withdrawn.request)
    links["withdrawn"] = url(withdrawn)

    expired = _confirm(_file(["github.com/demo-user-8/project-8"], f"eight@{DEMO_DOMAIN}"))
    OptOutRequest.objects.filter(pk=expired.request.pk).update(proof_deadline=timezone.now() - timedelta(minutes=1))
    services.optout_requests_expire()
    links["expired without proof"] = url(expired)

    services.exclusion_administrative(
        dataset_slug=None, targets=["github.com/demo-user-9/project-9"], namespace=False, reason="Demo legal takedown"
    )
    return links
