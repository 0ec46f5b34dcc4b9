"""Six weeks of opt-out requests for the demo, played through the real domain functions and git.

Each request is a short story of steps at moments in the past (days before now); releases/demo.py plays the
steps of every story, and the releases between them, in time order under a simulated clock, so the history,
the status pages and the transparency report show realistic dates and durations.
"""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django.utils import timezone

from governance.git import local_repository_commit
from optout import services
from optout.models import OptOutRequest, Verification
from optout.tasks import verification_sweep

DEMO_DOMAIN = "example.org"
Step = tuple[float, Callable[[], None]]  # (days before now, what happens then)


def demo_requests_exist() -> bool:
    return OptOutRequest.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists()


class _Story:
    """One demo request: filed, confirmed, proven, reviewed, withdrawn … each step at its own moment."""

    def __init__(self, links: dict[str, str], email: str, *, link: str = "", auto_approve: bool = True, **filed):
        self.links, self.email, self.link, self.auto_approve, self.filed = links, email, link, auto_approve, filed
        self.steps: list[Step] = []
        self.submission = self.confirmation = None

    @property
    def request(self) -> OptOutRequest:
        return OptOutRequest.objects.get(pk=self.submission.request.pk)

    def at(self, days_ago: float, action: Callable[[], None]) -> "_Story":
        self.steps.append((days_ago, action))
        return self

    def file(self, days_ago: float) -> "_Story":
        def action():
            self.submission = services.optout_request_submit(email=f"{self.email}@{DEMO_DOMAIN}", **self.filed)

        return self.at(days_ago, action)

    def confirm(self, days_ago: float) -> "_Story":
        def action():
            self.confirmation = services.optout_request_confirm(token=self.submission.confirm_token)
            if self.link:
                self.links[self.link] = f"{settings.PUBLIC_BASE_URL}/opt-out/r/{self.confirmation.status_token}/"

        return self.at(days_ago, action)

    def prove(self, days_ago: float, repository_path: Path) -> "_Story":
        def action():
            local_repository_commit(
                repository_path, {".dataset-opt-out": self.request.proof_token + "\n"}, message="Opt out"
            )
            Verification.objects.filter(request=self.request).update(next_check_at=timezone.now())
            with override_settings(OPTOUT_AUTO_APPROVE=self.auto_approve):
                services.optout_request_verify(request_id=self.request.pk)

        return self.at(days_ago, action)

    def approve(self, days_ago: float) -> "_Story":
        return self.at(days_ago, lambda: services.optout_request_approve(request_id=self.request.pk, actor=_admin()))

    def reject(self, days_ago: float, reason: str) -> "_Story":
        return self.at(
            days_ago, lambda: services.optout_request_reject(request_id=self.request.pk, actor=_admin(), reason=reason)
        )

    def withdraw(self, days_ago: float) -> "_Story":
        return self.at(days_ago, lambda: services.optout_request_withdraw(request=self.request))


def _admin():
    return get_user_model().objects.filter(is_superuser=True).order_by("pk").first()


def demo_request_steps(repositories_dir: Path, links: dict[str, str]) -> list[Step]:
    """The steps of every demo request; confirmed requests named in the printout put their status link in `links`."""

    def uri(name: str) -> str:
        return (repositories_dir / name).as_uri()

    def listed(*names: str) -> dict:
        return {"scope": "repositories", "repositories_text": "\n".join(names)}

    stories = [
        # Proven at once, carried by the next weekly release, applied by its build: the common path.
        _Story(links, "acme", link="excluded (proof verified)", reason="We sell it.", **listed(uri("acme/mit-widgets")))
        .file(40.0)
        .confirm(39.9)
        .prove(39.0, repositories_dir / "acme/mit-widgets"),
        _Story(links, "tiny", **listed(uri("demo-owners/tiny-http")))
        .file(37.5)
        .confirm(37.4)
        .prove(36.8, repositories_dir / "demo-owners/tiny-http"),
        _Story(
            links,
            "org",
            scope="namespace",
            namespace=uri("demo-org"),
            proof_repository=uri("demo-org/website"),
            reason="Everything we publish, now and later.",
        )
        .file(33.0)
        .confirm(32.9)
        .prove(31.5, repositories_dir / "demo-org/website"),
        # Excluded by release 5, withdrawn before a build applied it: the next release removes it again.
        _Story(links, "changed-mind", **listed(uri("demo-owners/changed-mind")))
        .file(30.0)
        .confirm(29.9)
        .prove(29.5, repositories_dir / "demo-owners/changed-mind")
        .withdraw(27.9),
        _Story(links, "cli", **listed(uri("demo-owners/cli-helpers")))
        .file(26.0)
        .confirm(25.9)
        .prove(23.0, repositories_dir / "demo-owners/cli-helpers"),
        # With automatic approval off: a maintainer approved this one after two and a half days.
        _Story(
            links, "data", auto_approve=False, reason="Contains client data.", **listed(uri("demo-owners/data-tools"))
        )
        .file(22.0)
        .confirm(21.8)
        .prove(21.0, repositories_dir / "demo-owners/data-tools")
        .approve(18.5),
        _Story(links, "seven", link="withdrawn", **listed("github.com/demo-user-7/project-7"))
        .file(20.0)
        .confirm(19.9)
        .withdraw(17.0),
        _Story(links, "eleven", **listed("github.com/demo-user-11/project-11"))
        .file(18.0)
        .confirm(17.9)
        .reject(15.0, "The repository belongs to someone else; ask its owner to file the request."),
        _Story(links, "engine", **listed(uri("demo-owners/game-engine")))
        .file(16.2)
        .confirm(16.0)
        .prove(15.2, repositories_dir / "demo-owners/game-engine"),
        _Story(links, "twelve", **listed("github.com/demo-user-12/project-12")).file(16.0),  # never confirmed
        _Story(links, "eight", link="expired without proof", **listed("github.com/demo-user-8/project-8"))
        .file(36.0)
        .confirm(35.8),
        _Story(links, "webkit", **listed(uri("demo-owners/web-kit")))
        .file(12.0)
        .confirm(11.95)
        .prove(11.5, repositories_dir / "demo-owners/web-kit"),
        _Story(links, "ml", **listed(uri("demo-owners/ml-utils")))
        .file(9.0)
        .confirm(8.8)
        .prove(7.5, repositories_dir / "demo-owners/ml-utils"),
        _Story(
            links,
            "parser",
            link="in review by a maintainer",
            auto_approve=False,
            reason="Client code.",
            **listed(uri("acme/bsd-parser")),
        )
        .file(6.0)
        .confirm(5.9)
        .prove(5.0, repositories_dir / "acme/bsd-parser"),
        # Only for the second dataset, whose latest release no build has applied yet: it stays excluded, not applied.
        _Story(links, "starcoder", dataset_slugs=["starcoder-demo"], **listed(uri("demo-owners/sc-only")))
        .file(4.0)
        .confirm(3.9)
        .prove(3.5, repositories_dir / "demo-owners/sc-only"),
        _Story(
            links,
            "labs",
            link="waiting for proof",
            **listed(uri("copyleft-labs/gpl-editor"), uri("copyleft-labs/lgpl-codec")),
        )
        .file(3.0)
        .confirm(2.9),
        _Story(links, "newlib", **listed(uri("demo-owners/new-lib")))
        .file(2.0)
        .confirm(1.9)
        .prove(1.5, repositories_dir / "demo-owners/new-lib"),
        _Story(links, "solo", **listed(uri("solo-dev/scripts"))).file(1.0),  # its confirmation link still works
    ]
    steps = [step for story in stories for step in story.steps]
    # The periodic sweep: unconfirmed links (after 48 hours) and missing proofs (after 14 days) expire.
    steps += [(13.5, services.optout_requests_expire), (21.5, services.optout_requests_expire)]
    # The sweep's latest round, just before the demo ends: beat would have checked the waiting proofs every hour,
    # so none is shown overdue on the maintainers' overview (their repositories are on this disk).
    steps.append((0.0, verification_sweep))
    steps.append(
        (
            12.0,
            lambda: services.exclusion_administrative(
                dataset_slug=None,
                targets=["github.com/demo-user-9/project-9"],
                namespace=False,
                reason="Demo legal takedown",
            ),
        )
    )
    return steps


def demo_proof_repositories(repositories_dir: Path) -> None:
    """The owners' repositories the stories prove (made once; not in any inventory: opting out needs none)."""
    names = [
        "demo-owners/tiny-http",
        "demo-owners/changed-mind",
        "demo-owners/cli-helpers",
        "demo-owners/data-tools",
        "demo-owners/game-engine",
        "demo-owners/web-kit",
        "demo-owners/ml-utils",
        "demo-owners/sc-only",
        "demo-owners/new-lib",
        "demo-org/website",
        "demo-org/api-server",
    ]
    for name in names:
        path = repositories_dir / name
        if not (path / ".git").is_dir():
            local_repository_commit(
                path, {"README.md": f"# {name.split('/')[1]}\n", "main.py": "print('hello')\n"}, message="Initial"
            )
