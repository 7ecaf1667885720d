"""Platform models: staff users and their credentials, the audit trail, the outbox, webhooks."""

from compliance.models.audit import AuditTrail
from compliance.models.credentials import AccessToken, ApiKey
from compliance.models.outbox import OutboxEvent
from compliance.models.staff import StaffUser
from compliance.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEventType, WebhookSubscription

__all__ = [
    "AccessToken",
    "ApiKey",
    "AuditTrail",
    "OutboxEvent",
    "StaffUser",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEventType",
    "WebhookSubscription",
]
