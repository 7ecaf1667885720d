from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditTrailQuerySet(models.QuerySet):
    """Refuses bulk changes: the trail is append-only (the database refuses them too)."""

    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only")

    def delete(self):
        raise PermissionError("The audit trail is append-only")


class AuditTrail(models.Model):
    """One row per write: who (staff user and/or API key), what, on which object, before/after.

    Its id is what the customer API answers as `idAuditTrail`. Append-only three times over:
    `save()` refuses updates, the queryset refuses bulk update/delete, and database triggers
    (migration 0002) refuse UPDATE and DELETE from any client.
    """

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        REVOKE = "revoke"
        APPROVE = "approve"
        OTHER = "other"

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "compliance.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A snapshot of who acted, readable even after the account is renamed.
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the changed object")
    object_id = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditTrailQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        verbose_name = "audit trail entry"
        verbose_name_plural = "audit trail"

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only")
