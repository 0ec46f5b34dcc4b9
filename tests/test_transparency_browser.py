"""The transparency report in headless Chromium: its charts are drawn, labelled, and its numbers downloadable."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.models import Dataset, Repository
from optout.models import Exclusion, ExclusionSource, OptOutRequest, RequestEvent
from releases.publication import release_publish


@pytest.mark.django_db(transaction=True)
def test_the_report_shows_its_charts_tables_and_downloads(live_server, browser_page):
    Dataset.objects.create(slug="the-stack", name="The Stack")
    request = OptOutRequest.objects.create(state="applied", proof_token="t-1", verified_at=timezone.now())
    RequestEvent.objects.create(request=request, kind="confirmed", message="confirmed")
    RequestEvent.objects.create(request=request, kind="applied", message="applied")
    RequestEvent.objects.filter(kind="confirmed").update(created_at=timezone.now() - timedelta(days=2))
    repository = Repository.objects.create(
        canonical="github.com/acme/out", host="github.com", namespace="github.com/acme", clone_url="x"
    )
    exclusion = Exclusion.objects.create(
        scope="repository", repository=repository, target=repository.canonical, reasons="opt-out", since=timezone.now()
    )
    ExclusionSource.objects.create(exclusion=exclusion, request=request)
    release_publish(dataset_slug="the-stack")

    browser_page.goto(f"{live_server.url}/transparency/")

    charts = browser_page.locator("svg.chart[role=img]")
    assert charts.count() == 7
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.is_visible() and chart.bounding_box()["height"] > 20
        assert chart.locator("title").first.text_content()
    releases = browser_page.locator("#releases svg.chart").first
    assert (
        "#1" in releases.locator("desc").text_content() and "repositories 1" in releases.locator("desc").text_content()
    )
    assert (
        browser_page.locator("#requests_by_state svg .chart-bar title", has_text="Applied in a release: 1").count() == 1
    )

    table = browser_page.locator("#releases details table")
    assert not table.is_visible()
    browser_page.locator("#releases summary").click()
    assert table.is_visible() and table.locator("tbody tr").count() == 1

    csv_link = browser_page.locator('#releases a[href$="releases.csv"]')
    answer = browser_page.request.get(f"{live_server.url}{csv_link.get_attribute('href')}")
    assert answer.ok and answer.text().splitlines()[1].startswith("1,")
    report = browser_page.request.get(f"{live_server.url}/transparency/the-stack.json").json()
    assert report["figures"]["releases"]["rows"][0]["repositories"] == 1
