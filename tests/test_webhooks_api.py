"""The webhooks API: a pipeline registers, lists and deletes its own webhooks for a dataset; secrets never come back."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.services import dataset_get_or_create
from governance.tokens import pipeline_token_issue
from releases.models import Webhook

pytestmark = pytest.mark.django_db

URL = "/api/v1/datasets/the-stack/webhooks/"
SECRET = "s3cret-" + "x" * 25


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


@pytest.fixture
def pipeline(dataset):
    """A build pipeline's token for the-stack, as request headers."""
    return {"HTTP_AUTHORIZATION": f"Bearer {pipeline_token_issue(name='nightly', dataset_slugs=['the-stack'])[1]}"}


@pytest.fixture
def other_pipeline(dataset):
    """Another pipeline's token, also for the-stack."""
    return {"HTTP_AUTHORIZATION": f"Bearer {pipeline_token_issue(name='weekly', dataset_slugs=['the-stack'])[1]}"}


def register(client, headers, url="https://hooks.example.org/release", secret=SECRET):
    return client.post(URL, {"url": url, "secret": secret}, content_type="application/json", **headers)


def test_a_pipeline_registers_a_webhook_and_never_gets_the_secret_back(client, pipeline):
    created = register(client, pipeline)
    assert created.status_code == 201
    assert set(created.json()) == {"id", "url", "created_at"}
    assert created.json()["url"] == "https://hooks.example.org/release"
    listed = client.get(URL, **pipeline)
    assert listed.json()["count"] == 1 and listed.json()["results"][0]["id"] == created.json()["id"]
    assert SECRET not in created.content.decode() + listed.content.decode()
    assert Webhook.objects.get().secret == SECRET  # kept as given: it signs the deliveries


def test_a_pipeline_deletes_its_webhook(client, pipeline):
    webhook_id = register(client, pipeline).json()["id"]
    deleted = client.delete(f"{URL}{webhook_id}/", **pipeline)
    assert deleted.status_code == 204 and not Webhook.objects.exists()
    again = client.delete(f"{URL}{webhook_id}/", **pipeline)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_another_pipeline_can_neither_see_nor_delete_the_webhook(client, pipeline, other_pipeline):
    webhook_id = register(client, pipeline).json()["id"]
    assert client.get(URL, **other_pipeline).json()["count"] == 0
    refused = client.delete(f"{URL}{webhook_id}/", **other_pipeline)
    assert refused.status_code == 404 and Webhook.objects.filter(pk=webhook_id).exists()


def test_a_token_for_another_dataset_or_none_is_refused(client, pipeline):
    dataset_get_or_create(slug="other")
    elsewhere = {"HTTP_AUTHORIZATION": f"Bearer {pipeline_token_issue(name='x', dataset_slugs=['other'])[1]}"}
    assert register(client, elsewhere).status_code == 403
    assert client.get(URL, **elsewhere).status_code == 403
    anonymous = client.get(URL)
    assert anonymous.status_code == 401 and "pipeline token" in anonymous.json()["detail"]


@pytest.mark.parametrize(
    ("url", "secret", "code"),
    [
        ("https://hooks.example.org/x", "short", "invalid"),
        ("https://hooks.example.org/x", "y" * 201, "invalid"),
        ("ftp://hooks.example.org/x", SECRET, "url_refused"),
        ("https://user:password@hooks.example.org/x", SECRET, "url_refused"),
        ("https://169.254.169.254/latest/meta-data/", SECRET, "url_refused"),
        ("not a url at all", SECRET, "url_refused"),
        ("https://hooks.example.org/" + "a" * 2000, SECRET, "invalid"),
    ],
)
def test_a_bad_url_or_secret_is_a_400_that_says_why(client, pipeline, url, secret, code):
    refused = register(client, pipeline, url=url, secret=secret)
    assert refused.status_code == 400 and refused.json()["code"] == code
    assert secret not in refused.content.decode() and not Webhook.objects.exists()


def test_a_private_address_or_plain_http_is_refused_unless_the_operator_allows_it(client, pipeline, settings):
    settings.REPOSITORY_FETCH_ALLOW = []
    refused_urls = (
        "https://127.0.0.1:9/x",
        "https://10.0.0.5/x",
        "https://[::ffff:10.0.0.5]/x",
        "https://localhost/x",
        "http://hooks.example.org/x",
    )
    for url in refused_urls:
        refused = register(client, pipeline, url=url)
        assert refused.status_code == 400 and refused.json()["code"] == "url_refused", url
    settings.REPOSITORY_FETCH_ALLOW = ["private", "http"]
    assert register(client, pipeline, url="http://127.0.0.1:9/x").status_code == 201


def test_a_token_has_at_most_ten_webhooks(client, pipeline):
    for number in range(10):
        assert register(client, pipeline, url=f"https://hooks.example.org/{number}").status_code == 201
    refused = register(client, pipeline, url="https://hooks.example.org/eleven")
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_webhooks"


def test_the_same_url_twice_is_refused(client, pipeline):
    register(client, pipeline)
    again = register(client, pipeline)
    assert again.status_code == 409 and again.json()["code"] == "duplicate"


def test_the_webhook_list_is_paginated_with_a_fixed_number_of_queries(client, pipeline):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, **pipeline).status_code == 200
        return len(captured)

    register(client, pipeline, url="https://hooks.example.org/0")
    one = queries()
    for number in range(1, 8):
        register(client, pipeline, url=f"https://hooks.example.org/{number}")
    assert queries() == one
    page = client.get(f"{URL}?page=1", **pipeline).json()
    assert page["count"] == 8 and [row["url"] for row in page["results"]][0] == "https://hooks.example.org/7"


def test_the_schema_documents_the_webhook_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    webhooks = schema["paths"]["/api/v1/datasets/{slug}/webhooks/"]
    assert {"get", "post"} <= set(webhooks) and "delete" in schema["paths"][
        "/api/v1/datasets/{slug}/webhooks/{webhook_id}/"
    ]
    request_body = webhooks["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][request_body]["properties"]) == {"url", "secret"}
    answer = webhooks["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "secret" not in schema["components"]["schemas"][answer]["properties"]


def test_a_host_name_that_resolves_to_a_private_address_is_refused(client, pipeline, settings, resolves):
    settings.REPOSITORY_FETCH_ALLOW = []
    resolves({"hooks.corp.test": ["10.0.0.5"]})
    refused = register(client, pipeline, url="https://hooks.corp.test/x")
    assert refused.status_code == 400 and "not on a public address" in refused.json()["detail"]
    assert "10.0.0.5" not in refused.json()["detail"]  # the portal's network is not described
