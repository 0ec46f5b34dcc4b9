"""The public transparency report: figures from known rows, the same numbers in the table, CSV and JSON, and nothing
personal anywhere. Rows are written directly with known timestamps; releases are published for real and then dated."""

import csv
import html
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from audits.models import RepositoryAudit, Scan, Verdict
from governance.models import Dataset, DatasetRepository, Release, Repository
from optout.models import Exclusion, ExclusionSource, OptOutRequest, RequestEvent
from releases.publication import release_publish
from releases.reports.figures import duration_buckets, percentile

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SECRET_EMAIL = "very-secret-person@private.example"
SECRET_REASON = "my landlord must never know this reason"
UNVERIFIED_REPOSITORY = "github.com/private-owner/unverified-secret-repo"
_numbers = itertools.count(1)


def repository_named(canonical: str) -> Repository:
    host, namespace = canonical.split("/", 1)[0], canonical.rsplit("/", 1)[0]
    return Repository.objects.get_or_create(
        canonical=canonical, defaults={"host": host, "namespace": namespace, "clone_url": f"https://{canonical}.git"}
    )[0]


def request_made(state, *, datasets=(), origin="owner", verified=False, events=()):
    number = next(_numbers)
    request = OptOutRequest.objects.create(
        state=state,
        origin=origin,
        email=f"owner{number}@example.org" if origin == "owner" else "",
        all_datasets=not datasets,
        proof_token=f"token-{number}-{state}",
        verified_at=T0 if verified else None,
    )
    request.datasets.set(datasets)
    for kind, moment in events:
        event = RequestEvent.objects.create(request=request, kind=kind, message=f"{kind}.")
        RequestEvent.objects.filter(pk=event.pk).update(created_at=moment)
    return request


def exclusion_made(source, *, repository=None, namespace="", dataset=None, since):
    exclusion = Exclusion.objects.create(
        scope="repository" if repository else "namespace",
        repository=repository_named(repository) if repository else None,
        namespace=namespace,
        target=repository or namespace,
        reasons="opt-out",
        dataset=dataset,
        since=since,
    )
    ExclusionSource.objects.create(exclusion=exclusion, request=source)
    return exclusion


def published_at(slug: str, moment: datetime) -> Release:
    release = release_publish(dataset_slug=slug)
    Release.objects.filter(pk=release.pk).update(created_at=moment, frozen_at=moment)
    return Release.objects.get(pk=release.pk)


def verdict_made(canonical: str, classification: str):
    repository = repository_named(canonical)
    scan = Scan.objects.create(repository=repository, commit="a" * 40, status="done")
    verdict = Verdict.objects.create(
        scan=scan, repository=repository, commit="a" * 40, classification=classification, evidence_digest="x"
    )
    RepositoryAudit.objects.create(repository=repository, verdict=verdict)


@pytest.fixture
def history():
    """Known requests, exclusions, two releases and an inventory for `the-stack`; noise for `other`."""
    stack = Dataset.objects.create(slug="the-stack", name="The Stack")
    other = Dataset.objects.create(slug="other", name="Other")
    # Owners' requests applied 1, 2, 3, 4 and 10 days after confirming their address.
    applied = [
        request_made(
            "applied",
            datasets=[stack] if days == 10 else [],
            verified=True,
            events=[("confirmed", T0), ("proof_verified", T0 + DAY / 2), ("applied", T0 + days * DAY)],
        )
        for days in (1, 2, 3, 4, 10)
    ]
    request_made("applied", datasets=[other], verified=True, events=[("confirmed", T0), ("applied", T0 + 100 * DAY)])
    request_made("active", origin="administrative", verified=True, events=[("administrative", T0)])
    request_made("in_review", verified=True, events=[("confirmed", T0), ("in_review", T0 + DAY)])
    secret = request_made("awaiting_email")
    OptOutRequest.objects.filter(pk=secret.pk).update(email=SECRET_EMAIL, reason=SECRET_REASON)
    secret.verifications.create(repository=repository_named(UNVERIFIED_REPOSITORY))
    request_made("awaiting_proof", events=[("confirmed", T0)])
    request_made("expired", events=[("confirmed", T0), ("expired", T0 + 14 * DAY)])

    source = applied[0]
    exclusion_made(source, repository="github.com/a/one", since=T0)
    two = exclusion_made(source, repository="github.com/a/two", dataset=stack, since=T0 + DAY)
    exclusion_made(source, namespace="github.com/ns", since=T0 + 2 * DAY)
    exclusion_made(source, repository="github.com/a/other-only", dataset=other, since=T0)
    published_at("the-stack", T0 + 3 * DAY)  # carries one, two, ns: lags 3, 2 and 1 days
    Exclusion.objects.filter(pk=two.pk).update(revoked_at=T0 + 4 * DAY)
    ExclusionSource.objects.filter(exclusion=two).update(revoked_at=T0 + 4 * DAY)
    exclusion_made(source, repository="github.com/a/three", since=T0 + 4 * DAY)
    published_at("the-stack", T0 + 10 * DAY)  # adds three (lag 6 days), removes two
    exclusion_made(source, repository="github.com/a/four", since=T0 + 11 * DAY)  # waits for a release

    for canonical, classification in [
        ("github.com/a/one", "permissive"),
        ("github.com/a/two", "copyleft"),
        ("github.com/a/five", "permissive"),
        ("github.com/a/three", None),
    ]:
        if classification:
            verdict_made(canonical, classification)
        DatasetRepository.objects.create(dataset=stack, repository=repository_named(canonical))
    DatasetRepository.objects.create(dataset=other, repository=repository_named("github.com/a/other-inventory"))
    return stack


def figure(client, name, slug="the-stack"):
    return json.loads(client.get(f"/transparency/{slug}/{name}.json").content)


def summary(client, slug="the-stack"):
    return {row["measure"]: row["value"] for row in figure(client, "summary", slug)["rows"]}


def test_percentiles_interpolate_between_the_closest_ranks():
    assert percentile([1, 2, 3, 4, 10], 0.5) == 3
    assert percentile([1, 2, 3, 4, 10], 0.9) == pytest.approx(7.6)
    assert percentile([1, 2, 3, 6], 0.5) == 2.5
    assert percentile([5], 0.9) == 5 and percentile([], 0.5) is None
    assert [row["count"] for row in duration_buckets([0.5, 1, 2.99, 3, 7, 13.9, 14, 28, 400])] == [1, 2, 1, 2, 1, 2]


def test_the_time_from_confirmation_to_applied_has_its_median_and_90th_percentile(client, history):
    numbers = summary(client)
    assert numbers["applied_requests_measured"] == 5  # the request of the other dataset is not counted
    assert numbers["applied_median_days"] == 3.0
    assert numbers["applied_p90_days"] == 7.6
    rows = {row["bucket"]: row["requests"] for row in figure(client, "time_to_applied")["rows"]}
    assert rows == {
        "under 1 day": 0,
        "1 to 3 days": 2,
        "3 to 7 days": 2,
        "1 to 2 weeks": 1,
        "2 to 4 weeks": 0,
        "4 weeks or more": 0,
    }


def test_requests_are_counted_by_state_for_the_dataset_they_concern(client, history):
    rows = {row["state"]: row["requests"] for row in figure(client, "requests_by_state")["rows"]}
    assert rows == {
        "awaiting_email": 1,
        "awaiting_proof": 1,
        "verified": 0,
        "in_review": 1,
        "active": 1,
        "applied": 5,
        "rejected": 0,
        "expired": 1,
        "withdrawn": 0,
    }
    assert summary(client)["requests"] == 10
    other = {row["state"]: row["requests"] for row in figure(client, "requests_by_state", "other")["rows"]}
    assert other["applied"] == 5 and other["in_review"] == 1  # the four for every dataset, and its own


def test_the_share_verified_by_proof_counts_reviewed_proofs_and_not_administrative_decisions(client, history):
    rows = {row["method"]: (row["requests"], row["share_percent"]) for row in figure(client, "verification")["rows"]}
    assert rows == {"proof_automatic": (5, 71.4), "proof_reviewed": (1, 14.3), "administrative": (1, 14.3)}
    assert summary(client)["verified_by_proof_percent"] == 85.7


def test_releases_count_added_and_removed_repositories_and_namespaces(client, history):
    rows = figure(client, "releases")["rows"]
    assert [
        (row["version"], row["repositories"], row["namespaces"], row["repositories_added"], row["repositories_removed"])
        for row in rows
    ] == [(1, 2, 1, 2, 0), (2, 2, 1, 1, 1)]
    assert [(row["namespaces_added"], row["namespaces_removed"]) for row in rows] == [(1, 0), (0, 0)]
    assert [(row["exclusions_first_carried"], row["median_lag_days"]) for row in rows] == [(3, 2.0), (1, 6.0)]
    assert rows[0]["published_at"] == "2026-01-04T00:00:00Z"


def test_the_lag_from_exclusion_to_release_and_the_exclusions_still_waiting(client, history):
    numbers = summary(client)
    assert numbers["exclusions_measured"] == 4  # the other dataset's exclusion is not counted
    assert numbers["exclusion_lag_median_days"] == 2.5
    assert numbers["exclusion_lag_p90_days"] == 5.1
    assert numbers["exclusions_waiting"] == 1
    rows = {row["bucket"]: row["exclusions"] for row in figure(client, "exclusion_lag")["rows"]}
    assert rows["1 to 3 days"] == 2 and rows["3 to 7 days"] == 2


def test_the_license_mix_counts_each_inventory_repository_once_with_the_unscanned(client, history):
    rows = {row["classification"]: row["repositories"] for row in figure(client, "license_mix")["rows"]}
    assert rows == {
        "permissive": 2,
        "copyleft": 1,
        "proprietary": 0,
        "no_license": 0,
        "unknown": 0,
        "not_scanned": 1,
    }
    assert summary(client)["inventory_repositories"] == 4


def table_rows(page: str, figure_key: str) -> list[list[str]]:
    section = page.split(f'id="{figure_key}"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_csv_and_json_downloads_hold_the_numbers_of_the_tables(client, history):
    page = client.get("/transparency/the-stack/").content.decode()
    report = json.loads(client.get("/transparency/the-stack.json").content)
    assert set(report["figures"]) == {
        "summary",
        "releases",
        "requests_by_state",
        "time_to_applied",
        "verification",
        "license_mix",
        "exclusion_lag",
    }
    for key, body in report["figures"].items():
        response = client.get(f"/transparency/the-stack/{key}.csv")
        assert response["Content-Type"].startswith("text/csv")
        assert f'filename="the-stack-{key}.csv"' in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        columns = [column["key"] for column in body["columns"]]
        assert rows[0] == columns
        as_text = [["" if row[column] is None else str(row[column]) for column in columns] for row in body["rows"]]
        assert rows[1:] == as_text
        if key != "summary":
            assert table_rows(page, key) == [[cell or "–" for cell in row] for row in as_text]
            assert f'href="/transparency/the-stack/{key}.csv"' in page
            assert f'href="/transparency/the-stack/{key}.json"' in page
    assert 'href="/transparency/the-stack.json"' in page


def test_the_page_has_a_chart_for_every_figure_and_explains_its_definitions(client, history):
    page = client.get("/transparency/the-stack/").content.decode()
    assert page.count('<svg class="chart') == 7  # releases have two
    assert page.count("<title id=") == 7 and "aria-labelledby" in page
    for words in ["Median and 90th percentile", "PERCENTILE.INC", "Share verified by proof", "not scanned yet"]:
        assert words in page


def test_the_report_is_public_and_chooses_a_dataset(client, history):
    default = client.get("/transparency/")
    assert default.status_code == 200 and "Transparency report: The Stack" in default.content.decode()
    other = client.get("/transparency/other/").content.decode()
    assert "Transparency report: Other" in other and 'href="/transparency/the-stack/"' in other
    assert client.get("/transparency/missing/").status_code == 404
    assert client.get("/transparency/missing.json").status_code == 404
    assert client.get("/transparency/the-stack/nonsense.csv").status_code == 404


def test_what_is_not_there_is_named_in_the_404(client, history):
    page = client.get("/transparency/missing/")
    assert page.status_code == 404 and "No dataset &#x27;missing&#x27;" in page.content.decode()
    for url, detail in [
        ("/transparency/missing.json", "No dataset 'missing'"),
        ("/transparency/the-stack/nonsense.csv", "No figure 'nonsense': choose from summary,"),
    ]:
        answer = client.get(url)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
        assert answer.json()["detail"].startswith(detail)


def test_the_report_works_with_no_dataset_and_no_release(client):
    assert "No dataset is registered yet" in client.get("/transparency/").content.decode()
    Dataset.objects.create(slug="empty", name="Empty")
    page = client.get("/transparency/").content.decode()
    assert "Nothing to show yet." in page
    assert summary(client, "empty")["applied_median_days"] is None


def test_nothing_personal_reaches_the_page_or_the_downloads(client, history):
    OptOutRequest.objects.update(reason=SECRET_REASON)
    RequestEvent.objects.update(message=f"{SECRET_EMAIL} {UNVERIFIED_REPOSITORY}")
    bodies = [client.get("/transparency/the-stack/").content.decode(), client.get("/transparency/").content.decode()]
    bodies.append(client.get("/transparency/the-stack.json").content.decode())
    for key in json.loads(bodies[-1])["figures"]:
        bodies.append(client.get(f"/transparency/the-stack/{key}.csv").content.decode())
        bodies.append(client.get(f"/transparency/the-stack/{key}.json").content.decode())
    tokens = list(OptOutRequest.objects.values_list("proof_token", flat=True))
    for body in bodies:
        for secret in [SECRET_EMAIL, SECRET_REASON, UNVERIFIED_REPOSITORY, "example.org", "private-owner", *tokens]:
            assert secret not in body
        assert "@" not in re.sub(r"@media|xmlns=\"[^\"]+\"", "", body.split("<main", 1)[-1].split("</main>")[0])


@pytest.mark.parametrize("edge", ["none", "since_at_freeze", "revoked_at_freeze", "no_release"])
def test_the_lags_summed_up_in_sql_equal_those_counted_in_python(history, edge):
    from django.db import connection

    from releases.reports import lags

    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL's")
    stack = Dataset.objects.get(slug="the-stack")
    releases = list(stack.releases.order_by("version"))
    source = OptOutRequest.objects.filter(state="applied").first()
    if edge == "since_at_freeze":  # frozen at exactly its `since`: that release carries it
        exclusion_made(source, repository="github.com/a/at-freeze", since=releases[0].frozen_at)
    elif edge == "revoked_at_freeze":  # revoked at the very moment of the freeze: not carried, not waiting
        gone = exclusion_made(source, repository="github.com/a/gone", since=T0 + 5 * DAY)
        Exclusion.objects.filter(pk=gone.pk).update(revoked_at=releases[1].frozen_at)
    elif edge == "no_release":
        releases = []
    in_sql = lags._lags_in_sql(stack, releases)
    in_python = lags._lags_in_python(stack, releases)
    assert in_sql == in_python
    if edge == "since_at_freeze":
        assert in_sql.by_version[1][0] == 4


def test_the_report_is_computed_once_per_cache_period(client, history, settings):
    settings.TRANSPARENCY_CACHE_SECONDS = 300
    first = client.get("/transparency/the-stack.json").json()
    exclusion_made(OptOutRequest.objects.first(), repository="github.com/a/later", since=T0 + 12 * DAY)
    assert client.get("/transparency/the-stack.json").json() == first  # same moment, same numbers
    settings.TRANSPARENCY_CACHE_SECONDS = 0
    fresh = client.get("/transparency/the-stack.json").json()
    summary = {row["measure"]: row["value"] for row in fresh["figures"]["summary"]["rows"]}
    assert summary["exclusions_waiting"] == 2


def test_one_figure_as_json_carries_its_dataset_and_the_moment_it_was_computed(client, history, settings):
    settings.TRANSPARENCY_CACHE_SECONDS = 300  # both answers from the same computation
    report = client.get("/transparency/the-stack.json").json()
    one = figure(client, "releases")
    assert one["dataset"] == "the-stack" and one["generated_at"] == report["generated_at"]
    assert {key: one[key] for key in report["figures"]["releases"]} == report["figures"]["releases"]


def test_the_unscanned_repositories_are_a_line_under_the_license_chart_not_one_of_its_bars(client, history):
    section = client.get("/transparency/").content.decode().split('id="license_mix"', 1)[1].split("</svg>", 1)[0]
    bars = re.findall(r'<g class="chart-bar"><title>(.*?)</title>', section)
    assert bars == ["Permissive: 2", "Copyleft: 1", "Proprietary: 0", "No license: 0", "Unknown: 0"]
    assert re.search(r'<text class="chart-note"[^>]*>Not scanned yet: 1 repository</text>', section)
