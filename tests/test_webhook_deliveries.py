"""Release notifications: each new release is POSTed, signed, to the dataset's webhooks, and retried until delivered
or given up. The receiver is a real HTTP server on loopback; tasks run inline (one test runs a real worker)."""

import hashlib
import hmac
import json
import logging
import ssl
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance import outbound
from governance.services import dataset_get_or_create
from governance.tokens import pipeline_token_issue
from releases.models import MAX_ATTEMPTS, WebhookDelivery
from releases.notifications import webhook_deliveries_sweep, webhook_delivery_attempt, webhook_register
from releases.publication import release_publish
from releases.reports.overview import review_overview
from tests.webhook_helpers import localhost_certificate, receiver_running

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "pipeline-secret-" + "k" * 24


@pytest.fixture
def dataset():
    dataset = dataset_get_or_create(slug="the-stack", name="The Stack")[0]
    call_command("exclude", "the-stack", "github.com/a/one", "--reason", "legal", stdout=StringIO())
    return dataset


@pytest.fixture
def token(dataset):
    return pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[0]


@pytest.fixture
def receiver():
    with receiver_running() as running:
        yield running


@pytest.fixture
def webhook(dataset, token, receiver):
    return webhook_register(token=token, dataset=dataset, url=receiver.url, secret=SECRET)


def made_due(delivery: WebhookDelivery) -> None:
    """As if the wait before its next attempt were over."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_new_release_is_posted_signed_to_the_webhook(dataset, webhook, receiver, settings):
    release = release_publish(dataset_slug="the-stack")

    (request,) = receiver.requests
    body = json.loads(request.body)
    manifest = (release.folder / "manifest.json").read_bytes()
    assert body == {
        "dataset": "the-stack",
        "version": 1,
        "manifest_url": f"{settings.PUBLIC_BASE_URL}/api/v1/datasets/the-stack/releases/1/manifest.json",
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Signature-256"], expected)
    assert request.headers["Content-Type"] == "application/json" and request.headers["User-Agent"]
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-Delivery-Id"] == str(delivery.pk)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_failed_delivery_is_retried_later_and_then_delivered(dataset, webhook, receiver):
    receiver.answers = [(500, {}), (200, {})]
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50) and "500" in delivery.last_error

    assert webhook_deliveries_sweep() == 0  # not due yet
    made_due(delivery)
    assert webhook_deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body


def test_a_delivery_is_given_up_after_the_last_attempt_and_shown_to_maintainers(dataset, webhook, receiver):
    receiver.answers = [(503, {})]
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    for _ in range(MAX_ATTEMPTS - 1):
        made_due(delivery)
        webhook_deliveries_sweep()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", MAX_ATTEMPTS, 503)
    assert delivery.finished_at is not None
    made_due(delivery)
    assert webhook_deliveries_sweep() == 0 and len(receiver.requests) == MAX_ATTEMPTS

    (failed,) = [job for job in review_overview().failed if job.kind == "webhook_delivery"]
    assert "127.0.0.1" in failed.label and "/hooks/" not in failed.label and "503" in failed.detail


def test_a_redirect_is_not_followed(dataset, webhook, receiver):
    receiver.answers = [(302, {"Location": "http://127.0.0.1:9/elsewhere"})]
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.requests) == 1
    assert (delivery.state, delivery.last_status_code) == ("pending", 302)
    assert "redirects are not followed" in delivery.last_error


def test_a_private_address_is_not_called_unless_the_operator_allows_it(dataset, webhook, receiver, settings):
    settings.REPOSITORY_FETCH_ALLOW = ["http"]  # no `private`: 127.0.0.1 is refused
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert delivery.state == "pending" and "refused by the outbound policy" in delivery.last_error


def test_a_receiver_that_never_answers_is_cut_off_and_retried(dataset, token, silent_listener, monkeypatch):
    monkeypatch.setattr(outbound, "CALL_SECONDS", 1.0)
    webhook_register(token=token, dataset=dataset, url=f"http://127.0.0.1:{silent_listener}/hook", secret=SECRET)
    started = time.monotonic()
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status_code is None and delivery.last_error
    assert time.monotonic() - started < 10


def test_a_second_message_for_a_delivered_release_sends_nothing(dataset, webhook, receiver):
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert webhook_deliveries_sweep() == 0 and len(receiver.requests) == 1


def test_the_secret_never_reaches_a_log_or_the_admin(dataset, webhook, receiver, caplog, admin_client):
    receiver.answers = [(500, {}), (200, {})]
    with caplog.at_level(logging.DEBUG):
        release_publish(dataset_slug="the-stack")
        made_due(WebhookDelivery.objects.get())
        webhook_deliveries_sweep()
    assert caplog.records and SECRET not in caplog.text
    delivery = WebhookDelivery.objects.get()
    for page in (
        "/admin/releases/webhook/",
        f"/admin/releases/webhook/{webhook.pk}/change/",
        "/admin/releases/webhookdelivery/",
        f"/admin/releases/webhookdelivery/{delivery.pk}/change/",
    ):
        answer = admin_client.get(page)
        assert answer.status_code == 200 and SECRET not in answer.content.decode(), page


@pytest.mark.worker
def test_a_real_worker_delivers_the_notification(dataset, webhook, receiver, worker_process, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "worker-data"  # where the worker reads the release's manifest
    settings.DATA_DIR.mkdir(exist_ok=True)
    release_publish(dataset_slug="the-stack")
    deadline = time.monotonic() + 60
    while WebhookDelivery.objects.get().state != "delivered" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert WebhookDelivery.objects.get().state == "delivered"
    assert len(receiver.requests) == 1 and json.loads(receiver.requests[0].body)["version"] == 1


def test_a_revoked_token_s_webhooks_are_told_nothing(dataset, webhook, receiver, token):
    token.revoked_at = timezone.now()
    token.save()
    release_publish(dataset_slug="the-stack")
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def test_a_delivery_left_sending_by_a_lost_worker_is_taken_again_after_its_lease(dataset, webhook, receiver):
    receiver.answers = [(500, {}), (200, {})]
    release_publish(dataset_slug="the-stack")
    delivery = WebhookDelivery.objects.get()
    made_due(delivery)
    now = timezone.now()
    assert WebhookDelivery.claim(delivery.pk, now)  # a worker takes it…
    assert not WebhookDelivery.claim(delivery.pk, now + timedelta(minutes=1))  # …and nobody else while it may run
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_at=now - timedelta(minutes=10))  # it died
    assert webhook_deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)


def test_the_connection_goes_to_the_address_checked_with_the_url_s_host_name(dataset, token, receiver, resolves):
    # hooks.test exists only in this test's resolver: the request reaches the receiver only if the connection is
    # made to the checked address itself, not to a second lookup of the name.
    port = receiver.url.split(":")[2].split("/")[0]
    resolver = resolves({"hooks.test": ["127.0.0.1"]})
    webhook_register(token=token, dataset=dataset, url=f"http://hooks.test:{port}/hooks/release", secret=SECRET)
    resolver.reset_mock()
    release_publish(dataset_slug="the-stack")
    (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.test:{port}" and request.path == "/hooks/release"
    assert resolver.call_count == 1 and WebhookDelivery.objects.get().state == "delivered"


def test_an_https_receiver_is_called_with_its_certificate_checked_against_the_name(
    dataset, token, tmp_path, monkeypatch
):
    certificate, key = localhost_certificate(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, key)
    with receiver_running(tls=tls) as receiver:
        webhook_register(token=token, dataset=dataset, url=receiver.url, secret=SECRET)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "elsewhere.pem"))  # the certificate is not trusted…
        release_publish(dataset_slug="the-stack")
        delivery = WebhookDelivery.objects.get()
        assert receiver.requests == [] and "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # …and now it is
        made_due(delivery)
        webhook_deliveries_sweep()
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and len(receiver.requests) == 1
