"""From domain events to webhook envelopes, and the outbox handler that records the deliveries."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from compliance import events
from compliance.models import OutboxEvent, WebhookDelivery, WebhookEventType, WebhookSubscription

logger = logging.getLogger(__name__)

T = WebhookEventType
HANDLER_NAME = "compliance.webhooks"
TRIGGERS = ("MANUAL", "SYSTEM", "API")
ENVELOPE_KEYS = ("type", "data", "id", "triggeredBy", "createdTimestamp")
# The delivery id (= envelope id) is a name-based UUID of (event, subscription, type): a handler
# that runs again finds the same row instead of creating a second one.
DELIVERY_NAMESPACE = uuid.UUID("5b0f2b56-4c36-4c0e-9d7e-7a3c6f1e9a10")

# The `data` of each type, in the seed's order. The seed's "Case Open" example is a copy of the
# transaction one; CASE_OPENED carries what a receiver needs to act on a new case. USER_STATE_UPDATED
# and IRS_STATUS_UPDATED carry `userId` beyond the seed's example: a receiver must know whose state
# changed (the seed's own sample payload in the folder description has it too).
DATA_FIELDS: dict[str, tuple[str, ...]] = {
    T.USER_STATE_UPDATED: ("userId", "reason", "state"),
    T.IRS_STATUS_UPDATED: ("userId", "reason", "status"),
    T.TRANSACTION_STATUS_UPDATED: ("transactionId", "reasons", "status", "comment"),
    T.CASE_OPENED: (
        "caseId",
        "status",
        "priority",
        "source",
        "userId",
        "transactionIds",
        "reasons",
        "comment",
    ),
    T.CASE_CLOSED: (
        "caseId",
        "status",
        "reasons",
        "reasonDescriptionForOther",
        "comment",
        "userId",
        "transactionIds",
    ),
    T.ALERT_OPEN: (
        "alertId",
        "status",
        "transactionIds",
        "ruleName",
        "ruleDescription",
        "ruleId",
        "ruleInstanceId",
        "caseId",
        "userId",
    ),
    T.ALERT_CLOSED: (
        "alertId",
        "status",
        "reasons",
        "reasonDescriptionForOther",
        "comment",
        "userId",
        "transactionIds",
        "ruleName",
        "ruleDescription",
        "ruleId",
        "ruleInstanceId",
    ),
}
LIST_FIELDS = {"reasons", "transactionIds"}


def _pick(event_type: str, payload: dict) -> dict:
    default = lambda name: [] if name in LIST_FIELDS else None  # noqa: E731
    return {name: payload.get(name, default(name)) for name in DATA_FIELDS[event_type]}


def _user_status(payload: dict) -> list[tuple[str, dict]]:
    """One domain event may change the state and the KYC status at once: one envelope each."""
    out = []
    state = payload.get("userStateDetails")
    if state:
        out.append(
            (T.USER_STATE_UPDATED, _pick(T.USER_STATE_UPDATED, {**state, "userId": payload.get("userId")}))
        )
    kyc = payload.get("kycStatusDetails")
    if kyc:
        out.append(
            (T.IRS_STATUS_UPDATED, _pick(T.IRS_STATUS_UPDATED, {**kyc, "userId": payload.get("userId")}))
        )
    return out


def _one(event_type: str) -> Callable[[dict], list[tuple[str, dict]]]:
    return lambda payload: [(event_type, _pick(event_type, payload))]


# Domain event name -> the (webhook type, data) pairs it becomes.
MAPPINGS: dict[str, Callable[[dict], list[tuple[str, dict]]]] = {
    "user.status_changed": _user_status,
    "transaction.status_changed": _one(T.TRANSACTION_STATUS_UPDATED),
    "case.opened": _one(T.CASE_OPENED),
    "case.closed": _one(T.CASE_CLOSED),
    "alert.opened": _one(T.ALERT_OPEN),
    "alert.closed": _one(T.ALERT_CLOSED),
}


def envelopes_for(event: OutboxEvent) -> list[tuple[str, dict, str]]:
    """(type, data, triggeredBy) of each webhook a domain event becomes."""
    mapping = MAPPINGS.get(event.name)
    if mapping is None:
        return []
    triggered_by = event.payload.get("triggeredBy")
    if triggered_by not in TRIGGERS:
        triggered_by = "SYSTEM"
    return [(event_type, data, triggered_by) for event_type, data in mapping(event.payload)]


def delivery_id(event_id, subscription_id: int, event_type: str) -> uuid.UUID:
    return uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}:{subscription_id}:{event_type}")


def render(envelope: dict) -> bytes:
    """The request body: the envelope in the seed's key order (a JSON column may not keep it)."""
    data = envelope.get("data") or {}
    ordered_data = {name: data.get(name) for name in DATA_FIELDS.get(envelope.get("type"), ())} or data
    ordered = {key: envelope.get(key) for key in ENVELOPE_KEYS}
    ordered["data"] = {**ordered_data, **{k: v for k, v in data.items() if k not in ordered_data}}
    return json.dumps(ordered, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


def deliveries_create(event: OutboxEvent) -> list[WebhookDelivery]:
    """The outbox handler: one delivery per (active subscription, type) of the event, written in
    the dispatch's transaction; a send is enqueued for each after commit. Answers the new rows."""
    from compliance.webhooks.delivery import enqueue_delivery

    envelopes = envelopes_for(event)
    if not envelopes:
        return []
    subscriptions = list(WebhookSubscription.objects.filter(active=True).order_by("pk"))
    created_ms = int(event.created_at.timestamp() * 1000)
    created = []
    for event_type, data, triggered_by in envelopes:
        for subscription in subscriptions:
            if not subscription.receives(event_type):
                continue
            pk = delivery_id(event.pk, subscription.pk, event_type)
            envelope = {
                "type": str(event_type),
                "data": data,
                "id": str(pk),
                "triggeredBy": triggered_by,
                "createdTimestamp": created_ms,
            }
            delivery, was_created = WebhookDelivery.objects.get_or_create(
                id=pk,
                defaults={
                    "subscription": subscription,
                    "event_id": event.pk,
                    "event_name": event.name,
                    "event_type": event_type,
                    "envelope": envelope,
                    "next_attempt_at": _first_sweep_at(),
                },
            )
            if was_created:
                created.append(delivery)
    if created:
        ids = [d.pk for d in created]
        transaction.on_commit(lambda: [enqueue_delivery(pk, 0) for pk in ids], robust=True)
    return created


def _first_sweep_at():
    # The task enqueued after commit sends the first attempt; the sweep steps in only if it
    # never ran (broker down, worker lost).
    return timezone.now() + settings.WEBHOOK_SWEEP_GRACE


for _event_name in MAPPINGS:
    events.subscribe(_event_name, name=HANDLER_NAME)(deliveries_create)
