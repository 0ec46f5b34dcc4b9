"""The home page's lookup never shows back, nor logs, a password or token pasted with a URL."""

import logging
import re
import threading
import urllib.request
from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.test import Client

from governance.identity import without_credentials
from governance.services import dataset_get_or_create, inventory_import_create, inventory_import_run

SECRET_URL = "https://someone:s3cr3t-Pa55@github.com/acme/widgets"


def lookup_input(page: str) -> str:
    return re.search(r'<input id="lookup-q"[^>]* value="([^"]*)"', page).group(1)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (SECRET_URL, "https://github.com/acme/widgets"),
        ("alice:token@github.com:acme/widgets", "github.com:acme/widgets"),
        ("see https://user:p@ss@gitlab.com/a/b", "see https://gitlab.com/a/b"),
        ("ssh://alice@example.org/a/b", "ssh://example.org/a/b"),
        ("git@github.com:acme/widgets.git", "git@github.com:acme/widgets.git"),  # git's ssh user, not a secret
        ("https://github.com/acme/widgets", "https://github.com/acme/widgets"),
    ],
)
def test_the_text_shown_back_has_no_userinfo_whatever_its_spelling(typed, shown):
    assert without_credentials(typed) == shown


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "get"])
def test_a_lookup_with_credentials_shows_neither_them_nor_the_user(client, method):
    page = getattr(client, method)("/", {"q": SECRET_URL}).content.decode()
    assert lookup_input(page) == "https://github.com/acme/widgets"
    assert "s3cr3t" not in page and "someone" not in page
    assert 'role="alert"' in page and "credentials" in page


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["see https://user:secretpassword@github.com/" + "a" * 90, "u:secret@host x"])
def test_a_refused_lookup_never_quotes_credentials_in_its_message(client, typed):
    page = client.post("/", {"q": typed}).content.decode()
    assert 'role="alert"' in page and "secret" not in page


@pytest.mark.django_db
def test_the_lookup_form_posts_with_its_csrf_token_and_answers(stack_lookup_inventory):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/").content.decode()
    assert re.search(r'<form method="post" action="/" class="lookup"', page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    answer = browser.post("/", {"q": "git@github.com:ACME/Widgets.git", "csrfmiddlewaretoken": token})
    assert answer.status_code == 200 and "<code>github.com/acme/widgets</code>" in answer.content.decode()


@pytest.fixture
def stack_lookup_inventory(tmp_path):
    path = tmp_path / "stack.jsonl"
    path.write_text('{"repo_name": "acme/widgets"}\n')
    inventory_import_run(
        import_id=inventory_import_create(dataset_slug="the-stack", source_path=str(path), enqueue=False).pk
    )
    dataset_get_or_create(slug="the-stack", name="The Stack")


@contextmanager
def runserver():
    """The portal behind runserver's own request handler, whose access lines go to the django.server logger."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_runservers_access_lines_drop_the_query_of_the_lookup_and_the_api(caplog):
    caplog.set_level(logging.INFO, logger="django.server")
    with runserver() as url:
        for path in ("/?q=https%3A%2F%2Fuser%3Asecret%40github.com%2Fa%2Fb", "/api/schema/?format=json&q=secret"):
            urllib.request.urlopen(url + path, timeout=30).read()
    lines = [record.getMessage() for record in caplog.records if record.name == "django.server"]
    assert any('"GET / HTTP/1.1" 200' in line for line in lines)
    assert any('"GET /api/schema/ HTTP/1.1" 200' in line for line in lines)
    assert "secret" not in caplog.text and "user" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_lookup_typed_in_a_browser_stays_out_of_the_address_and_the_box(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/")
    page.get_by_label("Repository or owner").fill(SECRET_URL)
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("alert").wait_for()
    assert page.url == f"{live_server.url}/"
    assert page.get_by_label("Repository or owner").input_value() == "https://github.com/acme/widgets"
    assert "s3cr3t" not in page.content() and "someone" not in page.content()
