"""The API's rates hold across processes and proxies: gunicorn with two workers, counting in the shared cache."""

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.server_helpers import gunicorn

LIMIT = 120
CALLS = 300
# Per day, so that 300 calls never straddle two counting windows (see wait_for_a_fresh_window).
RATE = {"API_ANONYMOUS_RATE": f"{LIMIT}/day"}
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_a_fresh_window():
    """Counting windows are clock days (UTC): within a minute of midnight, wait for the next one."""
    left = 86_400 - time.time() % 86_400
    if left < 60:
        time.sleep(left + 1)


def call(url: str, headers: dict | None = None) -> tuple[int, str | None]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def calls(url: str, headers_of) -> list[tuple[int, str | None]]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda number: call(url, headers_of(number)), range(CALLS)))


def test_two_workers_let_at_most_the_limit_through_even_with_spoofed_forwarded_for(tmp_path):
    wait_for_a_fresh_window()
    with gunicorn(tmp_path, TRUSTED_PROXY_COUNT="0", **RATE) as server:
        # Without trusted proxies X-Forwarded-For is ignored: a new one per call changes nothing.
        answers = calls(f"{server.url}/api/v1/keys/", lambda number: {"X-Forwarded-For": f"198.51.100.{number % 250}"})
    statuses = [status for status, _ in answers]
    assert statuses.count(200) == LIMIT and statuses.count(429) == CALLS - LIMIT
    assert all(int(retry_after) > 0 for status, retry_after in answers if status == 429)


def test_behind_one_trusted_proxy_the_address_it_appended_is_counted(tmp_path):
    wait_for_a_fresh_window()
    with gunicorn(tmp_path, TRUSTED_PROXY_COUNT="1", **RATE) as server:
        # What a client writes before the proxy's entry is not believed: all 300 count for 203.0.113.7.
        spoofed = calls(
            f"{server.url}/api/v1/keys/", lambda number: {"X-Forwarded-For": f"10.0.{number}.1, 203.0.113.7"}
        )
        # Another address the proxy appended is another caller, with a rate of its own.
        other = call(f"{server.url}/api/v1/keys/", {"X-Forwarded-For": "203.0.113.8"})
    assert [status for status, _ in spoofed].count(200) == LIMIT and other[0] == 200
