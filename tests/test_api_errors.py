"""Whatever a caller sends, the API answers JSON: unusable entries fail alone, bodies up to the limits are read,
and every error under /api/ (500 included) is {"code", "detail"}."""

import json
from unittest import mock

import pytest
from django.test import Client

from governance.limits import INVENTORY_MAX_BODY_BYTES, MAX_BODY_BYTES, MAX_JSON_DEPTH
from governance.services import dataset_get_or_create
from governance.tokens import pipeline_token_issue
from releases.api import views

pytestmark = pytest.mark.django_db(transaction=True)

CHECK = "/api/v1/datasets/the-stack/check/"
INVENTORY = "/api/v1/datasets/the-stack/inventory/"


@pytest.fixture
def pipeline():
    dataset_get_or_create(slug="the-stack")
    return pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[1]


@pytest.fixture
def api():
    """A client that shows the answer of an unexpected exception instead of raising it."""
    return Client(raise_request_exception=False)


def test_unusable_check_entries_get_invalid_input_and_the_rest_still_answer(api, pipeline):
    body = '{"repositories": ["a/b", "\\ud800", "c/d\\udfff", 123456789012345678901234567890, ["x\\u0000"], 1e400]}'
    response = api.post(CHECK, body, content_type="application/json")
    results = response.json()["results"]
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert results[0]["repository"] == "github.com/a/b" and results[0]["excluded"] is False
    assert [row.get("error", {}).get("code") for row in results[1:5]] == ["invalid_input"] * 4
    assert results[1]["input"] == "\ud800" and results[3]["input"] == 123456789012345678901234567890
    assert results[5]["input"] is None and "error" in results[5]  # 1e400 reads as infinity, written as null


def test_unusable_inventory_entries_fail_alone(api, pipeline):
    entries = '"a/b", {"repository": "c/d\\ud800"}, {"repository": "e/f", "commit": "\\u0000"}, 18446744073709551616'
    body = '{"repositories": [' + entries + "]}"
    response = api.post(INVENTORY, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {pipeline}")
    answer = response.json()
    assert response.status_code == 200 and answer["added"] == 1
    assert [row.get("error", {}).get("code") for row in answer["results"]] == [None, *["invalid_input"] * 3]


def test_bodies_up_to_the_documented_limits_are_read_and_larger_ones_refused_as_json(api, pipeline):
    # 10,000 long but valid entries: more than Django's default 2.5 MiB, within the check's limit.
    check = json.dumps({"repositories": [f"github.com/{'o' * 320}/r{index}" for index in range(10_000)]})
    assert 2.5 * 1024 * 1024 < len(check) <= MAX_BODY_BYTES
    assert api.post(CHECK, check, content_type="application/json").status_code == 200
    rows = [{"repository": f"github.com/{'o' * 200}/r{index}", "commit": "a" * 40} for index in range(10_000)]
    inventory = json.dumps({"repositories": rows, "notes": "n" * (INVENTORY_MAX_BODY_BYTES - 3_000_000)})
    assert MAX_BODY_BYTES < len(inventory) <= INVENTORY_MAX_BODY_BYTES
    headers = {"HTTP_AUTHORIZATION": f"Bearer {pipeline}"}
    assert api.post(INVENTORY, inventory, content_type="application/json", **headers).json()["added"] == 10_000
    too_large = api.post(CHECK, check + " " * (MAX_BODY_BYTES - len(check) + 1), content_type="application/json")
    assert too_large.status_code == 413 and too_large.json()["code"] == "too_large"


def test_json_nested_too_deep_is_a_400(api, pipeline):
    for body in ("[" * 100_000, '{"repositories": [' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "]}"):
        response = api.post(CHECK, body, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_an_unknown_api_url_and_a_nul_in_a_slug_are_json_404s(api):
    for url in ("/api/v1/nothing/", "/api/v1/datasets/a%00b/releases/"):
        response = api.get(url)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"
    assert api.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_an_unexpected_error_under_api_is_a_json_500(api):
    with mock.patch.object(views, "public_keys", autospec=True, side_effect=RuntimeError("disk gone")):
        response = api.get("/api/v1/keys/")
    assert response.status_code == 500 and response.json()["code"] == "server_error"
    assert "disk gone" not in response.content.decode()


def test_answers_echoing_what_orjson_cannot_write_are_still_json():
    from releases.api.renderers import FastJSONRenderer

    data = {"results": [{"input": "\ud800é", "n": 2**70, "inf": float("inf")}]}
    assert json.loads(FastJSONRenderer().render(data)) == {"results": [{"input": "\ud800é", "n": 2**70, "inf": None}]}
    assert FastJSONRenderer().render(data).isascii()
