"""One client address for every limit: X-Forwarded-For is believed only as far as TRUSTED_PROXY_COUNT says."""

import pytest
from django.test import RequestFactory, override_settings

from governance.network import client_address


@pytest.mark.parametrize(
    ("trusted", "forwarded", "address"),
    [
        (0, "203.0.113.7", "192.0.2.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.1, 203.0.113.7", "203.0.113.7"),
        (2, "10.0.0.1, 203.0.113.7, 192.0.2.50", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),
        (1, "not-an-address", "192.0.2.1"),
        (1, "", "192.0.2.1"),
    ],
)
def test_the_client_address_believes_only_the_trusted_proxies(trusted, forwarded, address):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=trusted):
        assert client_address(request) == address


def _submit(client, forwarded: str, email: str):
    body = {"email": email, "scope": "repositories", "repositories": "acme/widgets", "reason": "", "action": "submit"}
    return client.post("/opt-out/", body, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded).status_code


@pytest.mark.django_db(transaction=True)
def test_behind_a_trusted_proxy_each_visitor_has_its_own_submission_limit(client, settings):
    settings.OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR = 1
    settings.TRUSTED_PROXY_COUNT = 1
    assert _submit(client, "203.0.113.7", "one@example.org") == 302
    assert _submit(client, "203.0.113.8", "two@example.org") == 302  # another visitor behind the same proxy
    assert _submit(client, "198.51.100.1, 203.0.113.7", "three@example.org") == 429  # a spoofed entry changes nothing


@pytest.mark.django_db(transaction=True)
def test_without_trusted_proxies_a_forged_header_does_not_escape_the_limit(client, settings):
    settings.OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR = 1
    assert _submit(client, "203.0.113.7", "one@example.org") == 302
    assert _submit(client, "203.0.113.8", "two@example.org") == 429
