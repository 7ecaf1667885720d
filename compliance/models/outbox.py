import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it announces.

    Dispatch runs the registered handlers from a Celery task after commit; each handler
    that succeeded is recorded in `handled_by`, so a retry runs only the ones that failed.
    The periodic sweep re-dispatches rows left undelivered (broker down, worker lost).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, db_index=True, help_text="e.g. 'customer.created'")
    payload = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    aggregate_type = models.CharField(max_length=100, blank=True)
    aggregate_id = models.CharField(max_length=100, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when attempts ran out; the admin can re-dispatch."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep's query: pending rows whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_idx",
                condition=models.Q(dispatched_at__isnull=True, failed_at__isnull=True),
            ),
        ]
        verbose_name = "domain event"
        verbose_name_plural = "domain events (outbox)"

    def __str__(self):
        return f"{self.name} {self.aggregate_type}:{self.aggregate_id}"

    @property
    def is_pending(self) -> bool:
        return self.dispatched_at is None and self.failed_at is None
