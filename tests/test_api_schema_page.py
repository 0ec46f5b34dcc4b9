"""/api/schema/ opened in a browser shows the schema; API clients get the OpenAPI types they ask for."""

import json

import pytest
import yaml

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_a_browser_gets_the_yaml_schema_as_text_it_can_show(client):
    response = client.get("/api/schema/", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert not response.get("Content-Disposition", "").startswith("attachment")
    assert yaml.safe_load(response.content)["info"]["title"] == "Dataset governance portal API"


def test_a_browser_asking_for_json_gets_json_it_can_show(client):
    response = client.get("/api/schema/?format=json", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert not response.get("Content-Disposition", "").startswith("attachment")
    assert "/api/v1/datasets/{slug}/check/" in json.loads(response.content)["paths"]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/vnd.oai.openapi", "application/vnd.oai.openapi"),
        ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json"),
        ("application/yaml", "application/yaml"),
        ("*/*", "application/vnd.oai.openapi"),
        ("text/plain", "text/plain; charset=utf-8"),
    ],
)
def test_api_clients_get_the_openapi_type_they_ask_for(client, accept, content_type):
    response = client.get("/api/schema/", headers={"Accept": accept})
    assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
    assert b"openapi: 3" in response.content or b'"openapi": "3' in response.content


@pytest.mark.django_db(transaction=True)
def test_chromium_shows_the_schema_instead_of_downloading_it(live_server, browser_page):
    # A download would make goto() fail ("Download is starting"); a shown page has the YAML as its text.
    response = browser_page.goto(f"{live_server.url}/api/schema/")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "openapi: 3" in browser_page.locator("body").inner_text()
    browser_page.goto(f"{live_server.url}/api/schema/?format=json")
    assert '"openapi"' in browser_page.locator("body").inner_text()
