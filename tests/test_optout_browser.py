"""The whole opt-out flow in a real browser, with a real worker on Redis and a real repository on disk."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from optout import services
from optout.models import Exclusion, OptOutRequest
from tests.optout_helpers import commit_proof, file_and_confirm, verify_all


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_owner_opts_a_repository_out_proves_it_and_sees_it_excluded(
    live_server, browser_page, worker_process, make_repository, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    repository = make_repository("dana/parser", {"README.md": "# parser\n", "parser.py": "def parse(): ...\n"})
    page = browser_page

    # 1. The form, with a preview that shows the canonical name before anything is filed.
    page.goto(f"{live_server.url}/opt-out/")
    page.get_by_label("Repositories, one per line").fill(f"{repository.as_uri()}\n{repository.as_uri()}/\n")
    page.get_by_label("Your e-mail address").fill("dana@example.org")
    page.get_by_role("button", name="Preview").click()
    assert page.locator("#preview-repositories li").all_inner_texts() == [repository.as_uri()]
    assert not OptOutRequest.objects.exists()
    page.get_by_role("button", name="Submit request").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    # 2. The confirmation mail, read from the test outbox.
    [confirmation_mail] = mail.outbox
    link = re.search(r"https?://\S+/opt-out/confirm/\S+/", confirmation_mail.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm my request").click()
    page.get_by_role("heading", name="Your opt-out request").wait_for()
    assert page.locator("#request-state").inner_text() == "Waiting for proof"

    # 3. The proof, committed to the real repository; "Verify now" goes through Redis to the worker.
    token = page.locator("#proof-token").inner_text().strip()
    commit_proof(make_repository, "dana/parser", token)
    page.get_by_role("button", name="Verify now").click()
    # No reload by the test: the page follows the check by itself and reloads when it is done.
    page.locator("#request-state", has_text="Excluded").wait_for(timeout=60_000)

    # 4. The status page says so, with each step dated; the registry holds it.
    assert "Proof found in commit" in page.locator("#verifications").inner_text()
    history = page.locator("ol.timeline").inner_text()
    assert "E-mail address confirmed" in history and "is now excluded" in history
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", history)
    exclusion = Exclusion.objects.get()
    assert exclusion.repository.canonical == repository.as_uri() and exclusion.is_active
    assert "dana@example.org" not in page.content()


@pytest.mark.django_db(transaction=True)
def test_the_status_page_of_repositories_that_could_not_be_read_fits_a_phone(live_server, browser_page):
    closed = [f"http://127.0.0.1:1/some-organisation/a-repository-with-a-long-name-{n}.git" for n in range(2)]
    confirmation = file_and_confirm(repositories=closed)
    services.optout_request_verify_now(request=confirmation.request, ip="198.51.100.7")  # inline: read, refused
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{live_server.url}/opt-out/r/{confirmation.status_token}/")

    assert page.locator("#verifications").inner_text().count("could not be read") == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls in its box, not the page


@pytest.mark.django_db(transaction=True)
def test_the_checking_banner_gives_way_to_a_check_that_found_no_proof(live_server, browser_page, make_repository):
    confirmation = file_and_confirm(repositories=[make_repository("dana/lexer", {"lexer.py": "..."}).as_uri()])
    request = confirmation.request
    OptOutRequest.objects.filter(pk=request.pk).update(last_check_requested_at=timezone.now())  # a worker has it
    page = browser_page
    page.goto(f"{live_server.url}/opt-out/r/{confirmation.status_token}/")
    assert "Checking now" in page.locator("#live-status").inner_text()

    verify_all(request)  # the worker's check, here in the test: no proof file yet

    # No reload by the test: the page notices the finished check and drops the banner.
    page.locator("#live-status").wait_for(state="detached", timeout=15_000)
    assert "No .dataset-opt-out file on the default branch yet" in page.locator("#verifications").inner_text()
    assert page.locator("#request-state").inner_text() == "Waiting for proof"


@pytest.mark.django_db(transaction=True)
def test_verify_now_counts_down_its_wait_and_comes_back_for_the_fresh_commit(
    live_server, browser_page, make_repository, settings
):
    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 5
    confirmation = file_and_confirm(repositories=[make_repository("dana/lexer", {"lexer.py": "..."}).as_uri()])
    page = browser_page
    page.goto(f"{live_server.url}/opt-out/r/{confirmation.status_token}/")
    page.get_by_role("button", name="Verify now").click()  # read at once (tasks inline): no proof yet

    page.locator("button[value=verify]:disabled").wait_for()
    assert re.fullmatch(
        r"A check was asked a moment ago: you can ask again in [1-5] seconds\.",
        page.locator(".check-wait").inner_text(),
    )
    commit_proof(make_repository, "dana/lexer", confirmation.request.proof_token)
    page.locator("button[value=verify]:enabled").wait_for(timeout=15_000)
    assert page.locator(".check-wait").inner_text() == "You can ask for a check again now."
    page.get_by_role("button", name="Verify now").click()
    page.locator("#request-state", has_text="Excluded").wait_for()
