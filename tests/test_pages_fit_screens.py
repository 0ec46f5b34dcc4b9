"""Every page fits a laptop and a phone: nothing scrolls sideways, even with very long repository names.

The pages come from the URLconf: each URL name is either visited here (with the demo data, plus requests
and repositories with 120-character names in every state) or listed as not a page, so a new page cannot be
left out silently.
"""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from audits.models import DatasetDecision, Scan
from governance.models import Dataset, Repository
from optout.models import OptOutRequest
from optout.services import optout_request_confirm, optout_request_submit, optout_request_withdraw
from releases.demo import demo_load

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = [(1280, 800), (390, 844)]
# GitHub's longest owner (39 characters) and a repository name without a place to break a line: 120 in all.
LONG_OWNER = "averylongowner" + "o" * 25
LONG_NAME = "averylongrepositoryname" + "n" * 55

# URL names that render no page of ours (data, machines, or a third party's page), with the reason.
NOT_PAGES = {
    "governance-healthz": "JSON for monitors",
    "governance-transparency-json": "a download",
    "governance-transparency-figure-csv": "a download",
    "governance-transparency-figure-json": "a download",
    "audits-review-directory": "a form's target (POST only): it answers with a redirect to the review page",
}
NOT_PAGE_PREFIXES = ("api-",)  # the pipeline API (JSON) and its generated schema and docs


def url_names() -> set[str]:
    """Every named URL of the project outside the admin."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield pattern.name

    return set(walk(get_resolver().url_patterns))


def long_named_requests(dataset_slug: str) -> dict[str, str]:
    """A request for two 120-character repositories in every state, each with its status page's path."""
    repositories = "\n".join(f"github.com/{LONG_OWNER}/{LONG_NAME}{number}" for number in (1, 2))
    paths = {}
    for state in OptOutRequest.State.values:
        submission = optout_request_submit(
            email=f"long-{state}@example.org",
            scope="repositories",
            repositories_text=repositories,
            dataset_slugs=[dataset_slug],
            reason="A reason that is one long word: " + "x" * 150,
        )
        if state == "awaiting_email":
            paths[state] = reverse("optout-request-confirm", args=[submission.confirm_token])
            continue
        confirmation = optout_request_confirm(token=submission.confirm_token)
        if state == "withdrawn":
            optout_request_withdraw(request=confirmation.request)
        elif state != "awaiting_proof":
            # The other states need proofs of repositories that do not exist; their pages only read the state.
            OptOutRequest.objects.filter(pk=confirmation.request.pk).update(state=state)
        paths[state] = reverse("optout-request-status", args=[confirmation.status_token])
    submission = optout_request_submit(
        email="long-owner@example.org",
        scope="namespace",
        namespace=f"github.com/{LONG_OWNER}",
        proof_repository=f"github.com/{LONG_OWNER}/{LONG_NAME}",
        dataset_slugs=[dataset_slug],
    )
    paths["owner-wide"] = reverse(
        "optout-request-status", args=[optout_request_confirm(token=submission.confirm_token).status_token]
    )
    return paths


def long_named_repositories() -> None:
    """The repositories the license pages show get 120-character names."""
    decision = DatasetDecision.objects.filter(decision="needs_review").first()
    scan = Scan.objects.filter(status="failed").first()
    for number, repository in enumerate({decision.repository, scan.repository}):
        canonical = f"github.com/{LONG_OWNER}/{LONG_NAME}s{number}"
        Repository.objects.filter(pk=repository.pk).update(canonical=canonical, namespace=f"github.com/{LONG_OWNER}")


def _decisions():
    # The queue's, and those with files excluded alone (their per-directory table and forms).
    with_files = DatasetDecision.objects.filter(file_exclusions__isnull=False)
    pks = set(DatasetDecision.objects.filter(decision="needs_review").values_list("pk", flat=True))
    pks |= set(with_files.values_list("pk", flat=True))
    return [reverse("audits-review-decision", args=[pk]) for pk in pks]


def _scans():
    pks = [*Scan.objects.values_list("pk", flat=True)[:6], Scan.objects.filter(status="failed").first().pk]
    return [reverse("audits-scan-detail", args=[pk]) for pk in pks]


def _review_requests():
    pks = OptOutRequest.objects.filter(email__startswith="long-").values_list("pk", flat=True)
    return [reverse("optout-review-request", args=[pk]) for pk in pks]


def _lookups():
    return [f"/?q=github.com/{LONG_OWNER}/{LONG_NAME}s0", f"/?q=github.com/{LONG_OWNER}", "/?q=not%20a%20repository"]


# The paths to visit for each URL name, from the data of the test (status pages' paths by state or label).
PAGES = {
    "governance-home": lambda status_pages: ["/", *_lookups()],
    "governance-transparency-report": lambda status_pages: [reverse("governance-transparency-report")],
    "governance-transparency-dataset": lambda status_pages: [
        reverse("governance-transparency-dataset", args=[slug])
        for slug in Dataset.objects.values_list("slug", flat=True)
    ],
    "governance-review-overview": lambda status_pages: [reverse("governance-review-overview")],
    "optout-request-form": lambda status_pages: [reverse("optout-request-form")],
    "optout-request-sent": lambda status_pages: [reverse("optout-request-sent")],
    "optout-request-confirm": lambda status_pages: [path for path in status_pages.values() if "/confirm/" in path],
    "optout-request-status": lambda status_pages: [
        *(path for path in status_pages.values() if "/r/" in path),
        reverse("optout-request-status", args=["x" * 200]),
    ],
    "optout-review-queue": lambda status_pages: [
        reverse("optout-review-queue"),
        *(f"{reverse('optout-review-queue')}?state={state}" for state in OptOutRequest.State.values),
    ],
    "optout-review-request": lambda status_pages: _review_requests(),
    "audits-review-queue": lambda status_pages: [reverse("audits-review-queue")],
    "audits-review-decision": lambda status_pages: _decisions(),
    "audits-scan-detail": lambda status_pages: _scans(),
}


def admin_changelists() -> list[str]:
    """The admin's list of every model of the opt-out and license apps."""
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in {"optout", "audits", "governance"}
    ]


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


# The innermost element sticking out of the window, to say in a failure what to fix.
CULPRIT = """() => {
  const out = [...document.querySelectorAll("main *, header *")].filter(
    (element) => element.getBoundingClientRect().right > window.innerWidth + 1);
  const inner = out.filter((element) => !out.some((other) => other !== element && element.contains(other)));
  return inner.slice(0, 3).map((element) => element.tagName.toLowerCase()
    + (element.className ? "." + element.className : "")
    + " «" + (element.textContent || "").trim().slice(0, 40) + "»").join(", ");
}"""


def too_wide(page, where: str) -> list[str]:
    """[] when the page fits its window, else one line saying by how much and what sticks out."""
    excess = overflow(page)
    return [f"{where}: {excess}px too wide ({page.evaluate(CULPRIT)})"] if excess > 0 else []


def admin_list_too_wide(page, where: str) -> list[str]:
    """The admin lets a list scroll inside its box: on a laptop, the list of requests should not need to."""
    excess = page.evaluate(
        "(() => { const box = document.querySelector('.results');"
        " return box ? box.scrollWidth - box.clientWidth : 0; })()"
    )
    return [f"{where}: the list is {excess}px wider than its box"] if excess > 0 else []


def test_every_named_url_is_a_visited_page_or_listed_as_none():
    forgotten = {
        name
        for name in url_names()
        if name not in PAGES and name not in NOT_PAGES and not name.startswith(NOT_PAGE_PREFIXES)
    }
    assert not forgotten, f"pages not checked for their width: add them to PAGES or NOT_PAGES: {forgotten}"
    assert set(PAGES) <= url_names(), "PAGES names a URL that no longer exists"


def test_no_page_scrolls_sideways_on_a_laptop_or_a_phone(live_server, browser_page, django_user_model):
    summary = demo_load()
    status_pages = {label: urlsplit(link).path for label, link in summary.status_pages.items()}
    status_pages |= long_named_requests(Dataset.objects.order_by("slug").first().slug)
    long_named_repositories()
    client = Client()
    client.force_login(django_user_model.objects.get(username=summary.admin_username))
    browser_page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    paths = [path for paths_of in PAGES.values() for path in paths_of(status_pages)] + admin_changelists()

    failures = []
    for width, height in SCREENS:
        browser_page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            answer = browser_page.goto(f"{live_server.url}{path}")
            assert answer.status < 500, path
            browser_page.evaluate("document.querySelectorAll('details').forEach((details) => { details.open = true; })")
            failures += too_wide(browser_page, f"{path} at {width}px")
            if path == reverse("admin:optout_optoutrequest_changelist") and width >= 1280:
                failures += admin_list_too_wide(browser_page, f"{path} at {width}px")
        browser_page.goto(f"{live_server.url}{reverse('optout-request-form')}")
        browser_page.fill("#id_repositories", "\n".join(f"github.com/{LONG_OWNER}/{LONG_NAME}{n}" for n in (1, 2)))
        browser_page.fill("#id_email", "owner@example.org")
        browser_page.click("button[value=preview]")
        assert browser_page.locator("#preview-repositories li").count() == 2
        failures += too_wide(browser_page, f"the opt-out preview at {width}px")
    assert not failures, "\n".join(failures)
