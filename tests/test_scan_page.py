"""The scan page: progress for people and JSON for its script, and a bar that moves in a browser."""

import pytest

from audits.models import Scan
from governance.models import Dataset
from tests.review_helpers import repository_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


def test_the_scan_page_shows_progress_and_answers_json_for_its_script(client, reviewer, unsure):
    scan = unsure.verdict.scan
    client.force_login(reviewer)
    page = client.get(f"/review/scans/{scan.pk}/").content.decode()
    assert '<progress id="scan-progress" max="4" value="4"' in page
    assert "2 binary" in page and "1 too_large" in page and scan.commit in page
    assert "scan-progress.js" not in page  # done: nothing to follow
    assert f'href="/review/licenses/{unsure.pk}/"' in page

    running = Scan.objects.create(
        repository=repository_named("github.com/acme/running"),
        status=Scan.Status.RUNNING,
        step="scan_key_files",
        files_to_scan=10,
        files_done=3,
        files_scanned=2,
        files_reused=1,
    )
    page = client.get(f"/review/scans/{running.pk}/").content.decode()
    assert '<progress id="scan-progress" max="10" value="3"' in page and "scan-progress.js" in page
    assert client.get(f"/review/scans/{running.pk}/", {"format": "json"}).json() == {
        "status": "running",
        "step": "scan_key_files",
        "files_done": 3,
        "files_to_scan": 10,
        "files_scanned": 2,
        "files_reused": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_the_scan_page_moves_its_progress_bar_and_shows_the_verdict_when_done(
    live_server, browser_page, client, reviewer
):
    scan = Scan.objects.create(
        repository=repository_named("github.com/acme/live"), status=Scan.Status.RUNNING, step="list", files_to_scan=8
    )
    client.force_login(reviewer)
    session = client.cookies["sessionid"]
    browser_page.context.add_cookies([{"name": "sessionid", "value": session.value, "url": live_server.url}])
    browser_page.goto(f"{live_server.url}/review/scans/{scan.pk}/")
    bar = browser_page.locator("#scan-progress")
    assert bar.get_attribute("value") == "0"

    Scan.objects.filter(pk=scan.pk).update(files_done=5, files_scanned=4, files_reused=1, step="scan_key_files")
    browser_page.wait_for_function("document.getElementById('scan-progress').value === 5")
    assert browser_page.locator("#scan-step").inner_text() == "scan_key_files"

    Scan.objects.filter(pk=scan.pk).update(files_done=8, status=Scan.Status.DONE, step="done")
    browser_page.get_by_text("Done", exact=True).wait_for()
    assert bar.get_attribute("value") == "8"
