"""Outgoing webhooks: who receives which events, and the record of every delivery and attempt.

How events become deliveries and how they are sent is in `compliance/webhooks/`.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone


class WebhookEventType(models.TextChoices):
    """The seed 004 "Webhook" folder's event types, spelled as there."""

    USER_STATE_UPDATED = "USER_STATE_UPDATED"
    IRS_STATUS_UPDATED = "IRS_STATUS_UPDATED"
    TRANSACTION_STATUS_UPDATED = "TRANSACTION_STATUS_UPDATED"
    CASE_OPENED = "CASE_OPENED"
    CASE_CLOSED = "CASE_CLOSED"
    ALERT_OPEN = "ALERT_OPEN"
    ALERT_CLOSED = "ALERT_CLOSED"


def validate_webhook_url(value: str) -> None:
    """http(s) only; plain http only where WEBHOOK_ALLOW_HTTP (development, private networks)."""
    URLValidator(schemes=["http", "https"])(value)
    if urlsplit(value).scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise ValidationError(
            "Use an https:// URL: plain HTTP would expose the events to the network "
            "(set WEBHOOK_ALLOW_HTTP to allow it).",
            code="insecure",
        )


def validate_event_types(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event type.", code="required")
    unknown = sorted(set(map(str, value)) - set(WebhookEventType.values))
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(unknown)}.", code="invalid")


class WebhookSubscription(models.Model):
    """An integrator's endpoint and the event types it receives.

    The signing secret is generated here, shown once (on creation and rotation) and stored
    only encrypted with WEBHOOK_SECRETS_KEY (Fernet); `compliance.webhooks.secrets` reads it.
    After a rotation the previous secret keeps signing alongside the new one for
    WEBHOOK_SECRET_ROTATION_GRACE, so the receiver can switch without losing events.
    """

    name = models.CharField(max_length=100)
    url = models.URLField("URL", max_length=500, validators=[validate_webhook_url])
    event_types = models.JSONField(
        default=list, validators=[validate_event_types], help_text="The event types sent to this URL."
    )
    active = models.BooleanField(default=True, help_text="Inactive subscriptions receive nothing.")
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(default=timezone.now, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "webhook subscription"

    def __str__(self):
        return self.name

    def receives(self, event_type: str) -> bool:
        return self.active and event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event sent to one subscription: the envelope, where it stands, and its last outcome.

    The primary key is the envelope's `id` (and the `X-Webhook-Id` header): derived from the
    outbox event, the subscription and the type, so it is the same on every retry and
    redelivery and a receiver can de-duplicate on it. `revision` is the claim counter: a worker
    claims an attempt with a conditional UPDATE on it, so two workers never send the same attempt.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.UUIDField(db_index=True, help_text="The outbox event (domain event) delivered.")
    event_name = models.CharField(max_length=100, help_text="The domain event's name.")
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    envelope = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Attempts since creation or the last redelivery."
    )
    revision = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id", "event_type"],
                name="webhook_delivery_once_per_event",
                violation_error_message="This event is already delivered to this subscription.",
            ),
        ]
        indexes = [
            # The sweep's query: pending deliveries whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"], name="webhook_due_idx", condition=models.Q(status="pending")
            ),
            models.Index(fields=["status", "-created_at"], name="webhook_status_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long, what came back. Append-only."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(help_text="The delivery's attempt number (restarts on redelivery).")
    started_at = models.DateTimeField(default=timezone.now)
    url = models.URLField("URL", max_length=500)
    latency_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error
