"""The transparency report in headless Chromium: its charts are drawn, labelled, and its numbers downloadable."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from governance.models import Dataset, Repository
from optout.models import Exclusion, ExclusionSource, OptOutRequest, RequestEvent
from releases.charts import Series, column_chart, line_chart
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


# What the browser measures of each text of a chart: its box in the page.
TEXT_BOXES = """(selector) => [...document.querySelectorAll(selector)].map((text) => {
  const box = text.getBoundingClientRect();
  return {text: text.textContent, left: box.left, right: box.right, top: box.top, bottom: box.bottom};
})"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [
        (one["text"], other["text"])
        for index, one in enumerate(boxes)
        for other in boxes[index + 1 :]
        if one["left"] < other["right"]
        and other["left"] < one["right"]
        and one["top"] < other["bottom"]
        and other["top"] < one["bottom"]
    ]


@pytest.mark.parametrize("releases", [7, 26, 60])
def test_the_labels_of_a_chart_of_many_releases_never_overlap_in_the_browser(browser_page, releases):
    categories = [f"#{number} 11-{number % 28 + 1:02d}" for number in range(1, releases + 1)]
    counts = [number * 3 % 17 for number in range(releases)]
    charts = [
        column_chart(title="Added", categories=categories, series=[Series("a", counts), Series("b", counts[::-1])]),
        line_chart(title="Excluded", categories=categories, series=[Series("a", counts), Series("b", counts[::-1])]),
    ]
    styles = "".join(
        (Path(settings.BASE_DIR) / "governance/static/governance" / name).read_text()
        for name in ("site.css", "reports.css")
    )
    browser_page.set_viewport_size({"width": 390, "height": 844})
    browser_page.set_content(f"<style>{styles}</style><main class='wrap'>{''.join(charts)}</main>")

    for chart in range(2):
        svg = f"svg.chart:nth-of-type({chart + 1})"
        labels = browser_page.evaluate(TEXT_BOXES, f"{svg} .chart-label")
        assert labels[0]["text"] == categories[0] and labels[-1]["text"] == categories[-1]
        assert not overlapping(labels)
        assert not overlapping(browser_page.evaluate(TEXT_BOXES, f"{svg} .chart-value"))
        ticks = [box["text"] for box in browser_page.evaluate(TEXT_BOXES, f"{svg} .chart-tick")]
        assert all(tick.isdigit() for tick in ticks) and not overlapping(
            browser_page.evaluate(TEXT_BOXES, f"{svg} .chart-tick")
        )
