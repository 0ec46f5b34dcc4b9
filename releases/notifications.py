"""Release notifications: pipelines register webhooks, and each new release is POSTed to them, signed, until delivered.

The body names the release and the sha256 of its manifest.json; `X-Signature-256: sha256=<hex>` is the HMAC-SHA256
of the exact body with the webhook's secret, as GitHub signs its webhooks. Each release makes one delivery row per
webhook; a task claims the row, makes one attempt and records it; failures are tried again with growing waits
(models.RETRY_DELAYS) by the sweep, which also sends again what a lost message or worker left behind.
"""

import hashlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.fetch_policy import http_target_check
from governance.git_errors import FetchRefused, GitUnreachable
from governance.models import Dataset, PipelineToken, Release
from governance.outbound import http_post
from governance.queueing import task_send, task_send_on_commit
from releases.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

DELIVERY_TASK = "releases.tasks.webhook_delivery_task"
WEBHOOKS_PER_TOKEN = 10
SECRET_MIN_CHARS = 16
SECRET_MAX_CHARS = 200
URL_MAX_CHARS = 2000
SWEEP_BATCH = 500
USER_AGENT = "governance-portal-webhooks/1"


class WebhookRefused(GovernanceError):
    def __init__(self, message: str, *, code: str = "invalid", conflict: bool = False):
        super().__init__(message)
        self.code = code
        self.conflict = conflict  # the request is well formed; what the token already has stands in its way


def webhook_register(*, token: PipelineToken, dataset: Dataset, url: str, secret: str) -> Webhook:
    """Register `url` to be told of `dataset`'s new releases, signed with `secret`; WebhookRefused if it cannot be."""
    for field, value in (("url", url), ("secret", secret)):
        if "\x00" in value or not value.isascii() and not _encodable(value):
            raise WebhookRefused(f"{field}: holds a NUL or a lone surrogate, which is not text", code="invalid")
    if not SECRET_MIN_CHARS <= len(secret) <= SECRET_MAX_CHARS:
        raise WebhookRefused(
            f"secret: give {SECRET_MIN_CHARS} to {SECRET_MAX_CHARS} characters "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')",
            code="invalid",
        )
    if len(url) > URL_MAX_CHARS:
        raise WebhookRefused(f"url: at most {URL_MAX_CHARS:,} characters", code="invalid")
    try:
        # Looked up once, within a few seconds; a name that does not resolve now is decided at each delivery.
        http_target_check(url, resolve=False, lookup_seconds=5.0)
    except FetchRefused as refused:
        raise WebhookRefused(f"url: {refused}", code="url_refused") from None
    with transaction.atomic():
        # The token's row lock makes the count and the insert one step for concurrent registrations.
        PipelineToken.objects.select_for_update().filter(pk=token.pk).first()
        if Webhook.objects.filter(token=token).count() >= WEBHOOKS_PER_TOKEN:
            raise WebhookRefused(
                f"this token has {WEBHOOKS_PER_TOKEN} webhooks, the most it may have: delete one first",
                code="too_many_webhooks",
                conflict=True,
            )
        try:
            with transaction.atomic():
                return Webhook.objects.create(dataset=dataset, token=token, url=url, secret=secret)
        except IntegrityError:
            raise WebhookRefused(
                "url: this token already registered it for this dataset", code="duplicate", conflict=True
            ) from None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def webhook_delete(*, token: PipelineToken, dataset: Dataset, webhook_id: int) -> bool:
    """Delete one of this token's webhooks of `dataset` (and its delivery log); False when it has no such webhook."""
    deleted, _ = Webhook.objects.filter(pk=webhook_id, token=token, dataset=dataset).delete()
    return deleted > 0


def release_notifications_queue(*, release: Release) -> int:
    """One delivery of `release` per webhook of its dataset, each sent to a worker once committed; how many."""
    with transaction.atomic():
        # A revoked token's webhooks are told nothing more; a token no longer for the dataset neither.
        webhooks = Webhook.objects.filter(
            dataset_id=release.dataset_id, token__revoked_at__isnull=True, token__datasets=release.dataset_id
        ).order_by("pk")
        # A second call for the same release adds nothing (one delivery per release and webhook).
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(webhook=webhook, release=release) for webhook in webhooks], ignore_conflicts=True
        )
        queued = list(WebhookDelivery.objects.filter(release=release, attempts=0).values_list("pk", flat=True))
        for delivery_id in queued:
            task_send_on_commit(DELIVERY_TASK, delivery_id)
    return len(queued)


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt of delivery `delivery_id` if it is due and no other worker has it; the row after it."""
    now = timezone.now()
    if not WebhookDelivery.claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("webhook", "release__dataset").get(pk=delivery_id)
    status_code, error = None, ""
    try:
        body = release_notification_body(release=delivery.release)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Delivery-Id": str(delivery.pk),
            "X-Event": "release",
            "X-Signature-256": signature(secret=delivery.webhook.secret, body=body),
        }
        answer = http_post(delivery.webhook.url, body=body, headers=headers)
    except FetchRefused as refused:
        error = f"refused by the outbound policy: {refused}"
    except (GitUnreachable, OSError) as failure:  # TimeoutError included
        error = str(failure) or type(failure).__name__
    else:
        status_code = answer.status
        if 300 <= answer.status < 400:
            error = f"answered {answer.status}: redirects are not followed (register the final URL)"
        elif not 200 <= answer.status < 300:
            error = f"answered {answer.status}: {answer.body[:200].decode('utf-8', 'replace')}"
    delivery.attempt_recorded(now=timezone.now(), status_code=status_code, error=error)
    # The host only: a webhook URL may carry a credential in its path or query.
    logger.info(
        "webhook delivery %s of %s to %s: attempt %s, %s",
        delivery.pk,
        delivery.release,
        urlsplit(delivery.webhook.url).hostname,
        delivery.attempts,
        delivery.state,
    )
    return delivery


def webhook_deliveries_sweep() -> int:
    """Send every due delivery to a worker again (retries, lost messages, lost workers); how many were sent."""
    due = WebhookDelivery.objects.filter(WebhookDelivery.due(timezone.now())).order_by("next_attempt_at")
    sent = 0
    for delivery_id in due.values_list("pk", flat=True)[:SWEEP_BATCH]:
        sent += task_send(DELIVERY_TASK, delivery_id)
    return sent


def release_notification_body(*, release: Release) -> bytes:
    """The exact bytes POSTed about `release` (and signed)."""
    slug = release.dataset.slug
    manifest = (release.folder / "manifest.json").read_bytes()
    payload = {
        "dataset": slug,
        "version": release.version,
        "manifest_url": f"{settings.PUBLIC_BASE_URL}/api/v1/datasets/{slug}/releases/{release.version}/manifest.json",
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signature(*, secret: str, body: bytes) -> str:
    """The X-Signature-256 header of `body`: `sha256=` and the hex HMAC-SHA256 with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
