"""Seed 004 user events: what an integrator reported about a user, kept as history."""

from django.db import models
from django.utils import timezone


class UserEvent(models.Model):
    """One `POST /api/events/{individual|entity}/user`, as received, and when it was applied."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "INDIVIDUAL"
        ENTITY = "ENTITY"

    event_id = models.CharField(max_length=100, unique=True)
    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="user_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    timestamp = models.DateTimeField(help_text="When the event happened (seed `timestamp`).")
    reason = models.CharField(max_length=500, blank=True)
    event_description = models.TextField(blank=True)
    updated_attributes = models.JSONField(default=dict, help_text="The attributes as sent.")
    payload_digest = models.CharField(max_length=64, help_text="To tell a replay from a conflicting re-use.")
    risk_trail = models.ForeignKey(
        "users.RiskTrail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["customer", "-timestamp"], name="users_event_customer_time")]

    def __str__(self):
        return self.event_id
