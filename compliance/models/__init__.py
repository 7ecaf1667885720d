"""Platform models: staff users and their credentials, the audit trail, the outbox."""

from compliance.models.audit import AuditTrail
from compliance.models.credentials import AccessToken, ApiKey
from compliance.models.outbox import OutboxEvent
from compliance.models.staff import StaffUser

__all__ = ["AccessToken", "ApiKey", "AuditTrail", "OutboxEvent", "StaffUser"]
