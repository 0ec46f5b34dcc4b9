"""Release notifications: the webhooks pipelines register, and one delivery row per release and webhook."""

from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from governance.models import Dataset, PipelineToken, Release


class Webhook(models.Model):
    """A URL a pipeline wants POSTed to when its dataset has a new release, signed with its secret."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="webhooks")
    token = models.ForeignKey(PipelineToken, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000)
    # Kept as given: it signs every delivery. Never shown (API, admin) nor logged.
    secret = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["token", "dataset", "url"], name="webhook_unique_url")]

    def __str__(self) -> str:
        return f"{self.dataset.slug} → {self.url}"


# Waits before attempts 2 to 8 (about 22 hours in all); after the 8th failure the delivery is failed.
RETRY_DELAYS = [timedelta(minutes=minutes) for minutes in (1, 5, 15, 60, 180, 360, 720)]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A delivery claimed this long ago and never finished was lost with its worker: it may be claimed again.
CLAIM_LEASE = timedelta(minutes=2)


class WebhookDelivery(models.Model):
    """Telling one webhook about one release. The row is the truth; tasks only say "look at delivery N".

    pending → sending (claimed by one worker) → delivered, or back to pending with the next attempt's time, or
    failed after MAX_ATTEMPTS. `claim` and `attempt_recorded` are the only transitions.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="webhook_deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True, help_text="The receiver's last answer")
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="Delivered, or given up")

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "release"], name="webhook_delivery_unique_release"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sending", "delivered", "failed"]),
                name="webhook_delivery_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} → webhook {self.webhook_id} ({self.state})"

    @classmethod
    def due(cls, now: datetime) -> Q:
        """Deliveries a worker may take now: pending and due, or claimed by a worker that was lost."""
        return Q(state=cls.State.PENDING, next_attempt_at__lte=now) | Q(
            state=cls.State.SENDING, claimed_at__lt=now - CLAIM_LEASE
        )

    @classmethod
    def claim(cls, pk: int, now: datetime) -> bool:
        """Take delivery `pk` for one attempt; False when it is not due or another worker has it."""
        claimed = cls.objects.filter(cls.due(now), pk=pk).update(
            state=cls.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        return claimed == 1

    def attempt_recorded(self, *, now: datetime, status_code: int | None, error: str) -> bool:
        """Record this claimed attempt's outcome: delivered on a 2xx, else retried later or, at the end, failed.

        False when the claim was lost meanwhile (its lease ended and another worker took the row over).
        """
        # The error may quote the receiver's answer: no NUL (PostgreSQL text refuses it), no control characters.
        error = "".join(character if character >= " " else " " for character in error[:500])
        changes = {"last_status_code": status_code, "last_error": error, "claimed_at": None}
        if status_code is not None and 200 <= status_code < 300:
            changes.update(state=self.State.DELIVERED, finished_at=now, last_error="")
        elif self.attempts >= MAX_ATTEMPTS:
            changes.update(state=self.State.FAILED, finished_at=now)
        else:
            changes.update(state=self.State.PENDING, next_attempt_at=now + RETRY_DELAYS[self.attempts - 1])
        recorded = type(self).objects.filter(pk=self.pk, state=self.State.SENDING, claimed_at=self.claimed_at)
        if recorded.update(**changes) != 1:
            return False
        for name, value in changes.items():
            setattr(self, name, value)
        return True
