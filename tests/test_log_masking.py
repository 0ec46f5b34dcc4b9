"""No log line carries a private status link, a confirmation link or a pipeline token."""

import contextlib
import logging
import urllib.error
import urllib.request

import pytest

from governance.log_masking import SecretsMasked, secrets_masked
from tests.server_helpers import gunicorn

STATUS_TOKEN = "Zq3xY8c1vB7nM2kL5pQ9rT4wE6uI0oA1sD3fG5hJ7k"
PIPELINE_TOKEN = "gdp_HeFvLeQhZWyYqMZChF5vqe_-vEDXPTLgs-d1OjPwIw0"


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.0.1 - - "GET /opt-out/r/{STATUS_TOKEN}/?format=json HTTP/1.1" 200',
        f'"POST /opt-out/confirm/{STATUS_TOKEN}/ HTTP/1.1" 302 "https://portal.example/opt-out/r/{STATUS_TOKEN}/"',
        f"headers: {{'Authorization': 'Bearer {PIPELINE_TOKEN}'}}",
        f"Authorization: API {PIPELINE_TOKEN}",
        f"token {PIPELINE_TOKEN[:20]}… was used after revocation",
    ],
)
def test_secrets_are_masked_in_any_line(line):
    masked = secrets_masked(line)
    assert STATUS_TOKEN not in masked and PIPELINE_TOKEN[12:20] not in masked
    assert "…" in masked


def test_the_portals_log_handler_masks_what_django_writes():
    masking = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(item, SecretsMasked) for item in handler.filters)
    ]
    assert masking and not logging.getLogger("django.server").handlers  # runserver's lines go through it too
    handler = masking[0]
    path = f"/opt-out/r/{STATUS_TOKEN}/"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", (path,), None)
    assert handler.filter(record) and STATUS_TOKEN not in handler.format(record)
    assert "/opt-out/r/…/" in handler.format(record)


@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_and_error_logs_mask_tokens(tmp_path):
    with gunicorn(tmp_path) as server:
        for path in (f"/opt-out/r/{STATUS_TOKEN}/", f"/opt-out/confirm/{STATUS_TOKEN}/"):
            # An unknown status token answers 404, which Django logs with its path.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(server.url + path, timeout=30)
    written = server.access_log.read_text() + server.output.read_text()
    assert "GET /opt-out/r/…/ HTTP/1.1" in written and "GET /opt-out/confirm/…/ HTTP/1.1" in written
    assert "Not Found: /opt-out/r/…/" in written
    assert STATUS_TOKEN not in written


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ('"GET /?q=https://user:pw@github.com/a/b HTTP/1.1" 200', '"GET / HTTP/1.1" 200'),
        (
            '"GET /api/v1/check/?repo=a HTTP/1.1" 200 "http://h:8001/?q=user%3Apw%40h"',
            '"GET /api/v1/check/ HTTP/1.1" 200 "http://h:8001/"',
        ),
        (
            '"GET /opt-out/new?repository=github.com/a/b HTTP/1.1" 200',
            '"GET /opt-out/new?repository=github.com/a/b HTTP/1.1" 200',
        ),
    ],
)
def test_the_query_strings_of_the_lookup_and_the_api_are_dropped(line, logged):
    assert secrets_masked(line) == logged


@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_log_drops_the_lookups_query(tmp_path):
    lookup = "/?q=https%3A%2F%2Fsomeone%3As3cr3t%40github.com%2Fa%2Fb"
    with gunicorn(tmp_path) as server:
        urllib.request.urlopen(server.url + lookup, timeout=30).read()
        urllib.request.urlopen(
            urllib.request.Request(server.url + "/api/schema/?format=json", headers={"Referer": server.url + lookup}),
            timeout=30,
        ).read()
    written = server.access_log.read_text()
    assert '"GET / HTTP/1.1" 200' in written and '"GET /api/schema/ HTTP/1.1" 200' in written
    assert "s3cr3t" not in written and "someone" not in written
