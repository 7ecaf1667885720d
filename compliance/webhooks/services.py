"""Webhook writes: subscriptions (and their secrets) and redeliveries. Each one runs in one
transaction and records the audit trail in it; the admin calls these, nothing else."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError
from compliance.models import AuditTrail, WebhookDelivery, WebhookSubscription
from compliance.webhooks.delivery import enqueue_delivery
from compliance.webhooks.signing import encrypt, generate_secret

# Never in the audit trail, not even encrypted.
SECRET_FIELDS = ("secret_encrypted", "previous_secret_encrypted")
EDITABLE = ("name", "url", "event_types", "active")


def _snapshot(subscription: WebhookSubscription) -> dict:
    return snapshot(subscription, exclude=SECRET_FIELDS)


def _clean(subscription: WebhookSubscription) -> None:
    try:
        subscription.full_clean()
    except ValidationError as exc:
        raise ApplicationError(errors=exc.message_dict) from None


def webhook_subscription_create(
    *, actor: Actor, name: str, url: str, event_types: list[str], active: bool = True
) -> tuple[WebhookSubscription, str]:
    """Create a subscription with a new signing secret; answers it and the secret, which is
    shown this once and stored only encrypted."""
    secret = generate_secret()
    subscription = WebhookSubscription(
        name=name,
        url=url,
        event_types=sorted(set(event_types)),
        active=active,
        secret_encrypted=encrypt(secret),
        created_by=actor.user,
    )
    _clean(subscription)
    with transaction.atomic():
        subscription.save()
        audit_log(
            actor=actor, action=AuditTrail.Action.CREATE, instance=subscription, after=_snapshot(subscription)
        )
    return subscription, secret


def webhook_subscription_update(
    *, actor: Actor, subscription: WebhookSubscription, **fields
) -> WebhookSubscription:
    """Change a subscription's name, URL, event types or active flag. Deliveries already
    recorded go to the URL the subscription has when they are sent."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ApplicationError(errors={name: ["Cannot be changed."] for name in sorted(unknown)})
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        before = _snapshot(subscription)
        for name, value in fields.items():
            setattr(subscription, name, sorted(set(value)) if name == "event_types" else value)
        _clean(subscription)
        subscription.updated_at = timezone.now()
        subscription.save()
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=subscription,
            before=before,
            after=_snapshot(subscription),
        )
    return subscription


def webhook_subscription_rotate_secret(*, actor: Actor, subscription: WebhookSubscription) -> str:
    """Give a subscription a new signing secret (answered, shown once). The previous one keeps
    signing beside it for WEBHOOK_SECRET_ROTATION_GRACE, so the receiver can switch over."""
    secret = generate_secret()
    now = timezone.now()
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.previous_secret_encrypted = subscription.secret_encrypted
        subscription.previous_secret_expires_at = now + settings.WEBHOOK_SECRET_ROTATION_GRACE
        subscription.secret_encrypted = encrypt(secret)
        subscription.secret_rotated_at = now
        subscription.updated_at = now
        subscription.save()
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=subscription,
            after={
                "secret_rotated_at": now.isoformat(),
                "previous_secret_expires_at": subscription.previous_secret_expires_at.isoformat(),
            },
        )
    return secret


def webhook_deliveries_redeliver(*, actor: Actor, delivery_ids) -> int:
    """Send deliveries again (admin): whatever their state, each goes back to pending with a
    fresh round of attempts, and is sent after commit with the same envelope id. An attempt
    in flight meanwhile is logged but no longer decides the delivery's state. Answers how many."""
    now = timezone.now()
    with transaction.atomic():
        deliveries = list(WebhookDelivery.objects.select_for_update().filter(pk__in=list(delivery_ids)))
        queued = []
        for delivery in deliveries:
            before = {"status": delivery.status, "attempts": delivery.attempts}
            delivery.status = WebhookDelivery.Status.PENDING
            delivery.attempts = 0
            delivery.revision += 1
            delivery.delivered_at = None
            delivery.next_attempt_at = now + settings.WEBHOOK_SWEEP_GRACE
            delivery.save(update_fields=["status", "attempts", "revision", "delivered_at", "next_attempt_at"])
            audit_log(
                actor=actor,
                action=AuditTrail.Action.UPDATE,
                instance=delivery,
                before=before,
                after={"status": delivery.status, "attempts": 0, "redeliver": True},
            )
            queued.append((delivery.pk, delivery.revision))
        transaction.on_commit(lambda: [enqueue_delivery(pk, rev) for pk, rev in queued], robust=True)
    return len(queued)
