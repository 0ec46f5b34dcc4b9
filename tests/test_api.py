"""The pipeline API: listing, downloading and verifying releases, batch checks, inventory, builds, compatibility."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.services import dataset_get_or_create
from governance.signing import manifest_verify
from governance.tokens import pipeline_token_issue
from releases.publication import release_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


@pytest.fixture
def pipeline(dataset):
    """A build pipeline's token for the-stack."""
    return pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[1]


def exclude(*targets, slug="the-stack", namespace=False):
    call_command(
        "exclude", slug, *targets, "--reason", "legal", *(["--namespace"] if namespace else []), stdout=StringIO()
    )


def test_a_pipeline_lists_downloads_and_verifies_a_release(client, dataset):
    exclude("github.com/a/one")
    release_publish(dataset_slug="the-stack")
    datasets = client.get("/api/v1/datasets/").json()
    assert datasets["results"][0]["slug"] == "the-stack" and datasets["results"][0]["latest_release"] == 1
    latest = client.get("/api/v1/datasets/the-stack/releases/latest/").json()
    assert latest["version"] == 1 and latest["counts"]["repositories"] == 1
    manifest = json.loads(b"".join(client.get("/api/v1/datasets/the-stack/releases/1/manifest.json").streaming_content))
    keys = {
        key["key_id"]: __import__("base64").b64decode(key["public_key"]) for key in client.get("/api/v1/keys/").json()
    }
    manifest_verify(manifest=manifest, public_keys=keys)
    for info in manifest["files"]:
        response = client.get(f"/api/v1/datasets/the-stack/releases/1/{info['name']}")
        content = b"".join(response.streaming_content)
        assert hashlib.sha256(content).hexdigest() == info["sha256"]
        assert response["ETag"] == f'"{info["sha256"]}"' and "immutable" in response["Cache-Control"]
        again = client.get(f"/api/v1/datasets/the-stack/releases/1/{info['name']}", HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304


def test_a_release_file_answers_a_byte_range_so_downloads_resume(client, dataset):
    exclude("github.com/a/one")
    release_publish(dataset_slug="the-stack")
    url = "/api/v1/datasets/the-stack/releases/1/repositories.jsonl"
    whole = client.get(url)
    content = b"".join(whole.streaming_content)
    etag, size = whole["ETag"], len(content)
    assert whole["Accept-Ranges"] == "bytes"

    rest = client.get(url, HTTP_RANGE="bytes=10-", HTTP_IF_RANGE=etag)
    assert rest.status_code == 206 and b"".join(rest.streaming_content) == content[10:]
    assert rest["Content-Range"] == f"bytes 10-{size - 1}/{size}" and rest["Content-Length"] == str(size - 10)
    middle = client.get(url, HTTP_RANGE="bytes=2-5")
    assert middle.status_code == 206 and b"".join(middle.streaming_content) == content[2:6]
    tail = client.get(url, HTTP_RANGE="bytes=-4")
    assert b"".join(tail.streaming_content) == content[-4:]

    # Another file's ETag, several ranges or a malformed header: the whole file, as a plain 200.
    for headers in (
        {"HTTP_RANGE": "bytes=10-", "HTTP_IF_RANGE": '"other"'},
        {"HTTP_RANGE": "bytes=0-1,4-5"},
        {"HTTP_RANGE": "bits=1-2"},
    ):
        again = client.get(url, **headers)
        assert again.status_code == 200 and b"".join(again.streaming_content) == content
    beyond = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"


def test_changes_since_join_several_releases(client, dataset):
    exclude("github.com/a/one")
    release_publish(dataset_slug="the-stack")
    exclude("github.com/b/two")
    release_publish(dataset_slug="the-stack")
    exclude("github.com/c/three")
    release_publish(dataset_slug="the-stack")
    response = client.get("/api/v1/datasets/the-stack/releases/3/changes/", {"since": 1})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [(line["version"], line["op"], line["repository"]) for line in lines] == [
        (2, "add", "github.com/b/two"),
        (3, "add", "github.com/c/three"),
    ]
    assert client.get("/api/v1/datasets/the-stack/releases/3/changes/", {"since": 3}).status_code == 400


def test_release_lists_are_paginated_with_a_fixed_number_of_queries(client, dataset):
    exclude("github.com/a/one")
    for _ in range(3):
        release_publish(dataset_slug="the-stack")
    with CaptureQueriesContext(connection) as three:
        client.get("/api/v1/datasets/the-stack/releases/")
    for _ in range(3):
        release_publish(dataset_slug="the-stack")
    with CaptureQueriesContext(connection) as six:
        body = client.get("/api/v1/datasets/the-stack/releases/").json()
    assert body["count"] == 6 and len(six) == len(three)


def test_check_answers_in_input_order_with_per_entry_errors(client, dataset):
    exclude("github.com/a/one")
    exclude("github.com/whole-org", namespace=True)
    body = {
        "repositories": ["https://github.com/A/One.git", "ftp://x.org/a/b", "github.com/whole-org/new-repo", "c/d", 42]
    }
    results = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert results[0] == {
        "input": "https://github.com/A/One.git",
        "repository": "github.com/a/one",
        "excluded": True,
        "reasons": ["administrative"],
    }
    assert results[1]["input"] == "ftp://x.org/a/b" and results[1]["error"]["code"] == "not_a_repository"
    assert results[2]["excluded"] is True and results[3]["excluded"] is False
    assert "error" in results[4]


def test_a_namespace_exclusion_covers_subgroups_in_the_check(client, dataset):
    exclude("gitlab.com/group", namespace=True)
    body = {"repositories": ["https://gitlab.com/group/sub/project", "gitlab.com/grouping/x", "gitlab.com/group/y"]}
    results = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert [row["excluded"] for row in results] == [True, False, True]
    assert results[0]["repository"] == "gitlab.com/group/sub/project" and results[0]["reasons"] == ["administrative"]


def test_a_repository_named_like_a_namespace_covers_only_itself(client, dataset):
    """GitLab has `group/sub` as a subgroup and `group/sub` as a project: excluding the project leaves the subgroup."""
    exclude("gitlab.com/group/sub")
    body = {"repositories": ["gitlab.com/group/sub", "gitlab.com/group/sub/project"]}
    results = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert [row["excluded"] for row in results] == [True, False]

    exclude("gitlab.com/group/sub", namespace=True)
    results = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert [row["excluded"] for row in results] == [True, True]


def test_an_exclusion_cannot_be_stored_without_what_the_check_answers_from():
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from optout.models import Exclusion

    def made(**fields):
        row = {"scope": "namespace", "namespace": "github.com/acme", "target": "github.com/acme"}
        with transaction.atomic():
            return Exclusion.objects.create(**{**row, "reasons": "opt-out", "since": timezone.now(), **fields})

    for wrong in ({"target": ""}, {"target": "github.com/other"}, {"reasons": ""}):
        with pytest.raises(IntegrityError):
            made(**wrong)
    assert made(reasons="", revoked_at=timezone.now()).reasons == ""  # revoked: nothing to answer


@pytest.mark.skipif(connection.vendor != "postgresql", reason="covering indexes exist on PostgreSQL only")
def test_the_check_has_its_lookup_indexes_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%INCLUDE%'")
        found = dict(cursor.fetchall())
    lookup = found["exclusion_target_live"]
    assert 'COLLATE "C"' in lookup and "WHERE (revoked_at IS NULL)" in lookup
    assert "INCLUDE (scope, dataset_id, reasons)" in lookup
    license = found["decision_exclude_target"]
    assert 'COLLATE "C"' in license and "WHERE ((decision)::text = 'exclude'::text)" in license
    assert not {"exclusion_repository_live", "exclusion_namespace_live", "repository_canonical_id"} & set(found)


def test_check_against_a_published_release(client, dataset):
    exclude("github.com/a/one")
    release_publish(dataset_slug="the-stack")
    exclude("github.com/b/two")
    body = {"repositories": ["a/one", "b/two"]}
    live = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    frozen = client.post("/api/v1/datasets/the-stack/check/?release=1", body, content_type="application/json").json()
    assert [row["excluded"] for row in live] == [True, True]
    assert [row["excluded"] for row in frozen["results"]] == [True, False]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"repositories": [', "application/json", 400, "parse_error"),
        ("repositories=a/b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ('{"repos": []}', "application/json", 400, "parse_error"),
        (json.dumps({"repositories": ["a/b"] * 10_001}), "application/json", 413, "too_large"),
    ],
)
def test_bad_check_requests_get_json_errors_never_a_5xx(client, dataset, body, content_type, status, code):
    response = client.post("/api/v1/datasets/the-stack/check/", body, content_type=content_type)
    assert response.status_code == status and response.json()["code"] == code and response.json()["detail"]


def test_an_unknown_dataset_is_a_404_with_a_hint(client):
    response = client.get("/api/v1/datasets/nope/releases/")
    assert response.status_code == 404 and "GET /api/v1/datasets/" in response.json()["detail"]


def test_inventory_and_builds_need_a_token_for_that_dataset(client, dataset):
    dataset_get_or_create(slug="other")
    other_token = pipeline_token_issue(name="other", dataset_slugs=["other"])[1]
    body = {"repositories": ["a/b"]}
    anonymous = client.post("/api/v1/datasets/the-stack/inventory/", body, content_type="application/json")
    assert anonymous.status_code == 401 and "pipeline token" in anonymous.json()["detail"]
    refused = client.post(
        "/api/v1/datasets/the-stack/inventory/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {other_token}",
    )
    assert refused.status_code == 403 and "not for the-stack" in refused.json()["detail"]
    wrong = client.post(
        "/api/v1/datasets/the-stack/inventory/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer gdp_not-a-token",
    )
    assert wrong.status_code == 401


def test_a_pipeline_registers_inventory_with_per_item_errors(client, dataset, pipeline):
    body = {"repositories": ["a/b", {"repository": "c/d", "commit": "a" * 40}, {"repository": "x", "commit": "zz"}, 7]}
    response = client.post(
        "/api/v1/datasets/the-stack/inventory/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {pipeline}",
    )
    answer = response.json()
    assert response.status_code == 200 and answer["added"] == 2
    assert [("error" in row) for row in answer["results"]] == [False, False, True, True]


def test_a_pipeline_reports_a_build(client, dataset, pipeline):
    exclude("github.com/a/one")
    release_publish(dataset_slug="the-stack")
    body = {"build_id": "run-42", "release": 1, "notes": "shards 0-99"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {pipeline}"}
    created = client.post("/api/v1/datasets/the-stack/builds/", body, content_type="application/json", **headers)
    assert created.status_code == 201 and created.json()["release"] == 1
    missing = client.post(
        "/api/v1/datasets/the-stack/builds/",
        {**body, "build_id": "x", "release": 9},
        content_type="application/json",
        **headers,
    )
    assert missing.status_code == 400 and "no release 9" in missing.json()["detail"]


def test_the_compatibility_endpoint_answers_existing_clients(client, dataset, pipeline):
    exclude("github.com/owner/secret")
    urls = [
        "https://github.com/Owner/Secret",
        "https://raw.githubusercontent.com/owner/secret/main/src/x.py",
        "",
        "https://example.com/cat.jpg",
        "https://github.com/owner/public/blob/main/a.py  ",
    ]
    response = client.post(
        "/api/v2/query/urls/", "\n".join(urls), content_type="text/plain", HTTP_AUTHORIZATION=f"API {pipeline}"
    )
    answer = response.json()["urls"]
    assert [row["url"] for row in answer] == [url for url in urls if url.strip()]
    assert [row["optOut"] for row in answer] == [True, True, False, False]
    assert all(row["optIn"] is False for row in answer)
    assert client.post("/api/v2/query/urls/", "x", content_type="text/plain").status_code == 401


def test_the_schema_and_docs_are_served_offline(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "swagger" in docs.lower() and "cdn" not in docs.lower()


def test_the_dataset_list_is_paginated_with_a_fixed_number_of_queries(client, dataset):
    exclude("github.com/a/one")
    release_publish(dataset_slug="the-stack")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/datasets/")
    for number in range(5):
        dataset_get_or_create(slug=f"more-{number}")
    with CaptureQueriesContext(connection) as six:
        body = client.get("/api/v1/datasets/").json()
    assert body["count"] == 6 and len(six) == len(one)
    assert {row["slug"]: row["latest_release"] for row in body["results"]}["the-stack"] == 1


def test_api_answers_mean_what_drf_would_have_rendered():
    from datetime import UTC, datetime

    from django.utils.translation import gettext_lazy
    from rest_framework.exceptions import ErrorDetail
    from rest_framework.renderers import JSONRenderer

    from releases.api.renderers import FastJSONRenderer

    data = {
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "detail": ErrorDetail("Not found.", code="not_found"),
        "lazy": gettext_lazy("Not found."),
        "rows": [{"input": "github.com/é/ü", "excluded": True, "reasons": ["opt-out"]}, None, 1.5],
    }
    fast = FastJSONRenderer().render(data)
    assert json.loads(fast) == json.loads(JSONRenderer().render(data))
    assert b'"2026-01-02T03:04:05Z"' in fast
    assert b"\n" in FastJSONRenderer().render(data, "application/json; indent=2", {})
