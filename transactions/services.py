"""Writes of the transactions app: verify a transaction, apply a transaction event.

Both run in one database transaction: store, evaluate the active rules
(`transactions.monitoring`, the engine of the rules app), store the verdict, apply the
users' triggers, audit, and publish `transaction.monitored` — whose handlers (alerts and
cases, the users' ongoing risk, webhooks) run in workers after commit, so the answer
never waits for them.
"""

from __future__ import annotations

import dataclasses
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance import events
from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError, ConflictError, NotFoundError
from compliance.models import AuditTrail
from transactions import money, monitoring
from transactions.models import Transaction, TransactionEvent, TransactionRuleHit
from users.models import Customer
from users.services.monitoring import user_status_apply
from users.services.user_api import payload_digest


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    transaction: Transaction
    replayed: bool


@dataclasses.dataclass(frozen=True)
class EventResult:
    event: TransactionEvent
    transaction: Transaction
    replayed: bool


def _users(fields: dict) -> dict:
    """Resolve `originUserId` / `destinationUserId`: users must exist (400 naming each unknown)."""
    refs = {side: fields.get(f"{side}_user_ref") for side in ("origin", "destination")}
    wanted = {ref for ref in refs.values() if ref}
    found = {c.external_ref: c for c in Customer.objects.filter(external_ref__in=wanted)} if wanted else {}
    errors, users = {}, {}
    for side, ref in refs.items():
        if ref:
            if ref not in found:
                errors[f"{side}UserId"] = [f"Unknown user {ref}."]
            users[f"{side}_user"] = found.get(ref)
    if errors:
        raise ApplicationError("Unknown users.", errors=errors)
    return users


def _replay(transaction_id: str, digest: str) -> Transaction | None:
    stored = Transaction.objects.filter(transaction_id=transaction_id).first()
    if stored is None:
        return None
    if stored.payload_digest != digest:
        raise ConflictError(
            f"Transaction {transaction_id} was verified with another body.",
            errors={"transactionId": ["Already used by another transaction."]},
        )
    return stored


def _store_verdict(tx: Transaction, verdict: monitoring.Verdict, *, replace_hits: bool) -> None:
    tx.status = verdict.status
    tx.executed_rules = verdict.executed_rules
    tx.hit_rules = verdict.hit_rules
    tx.rule_errors = verdict.rule_errors
    tx.risk_score_details = verdict.risk_score_details
    if replace_hits:
        TransactionRuleHit.objects.filter(
            transaction=tx, rule_instance_id__in=[hit.rule_instance_id for hit in verdict.hits]
        ).delete()
    TransactionRuleHit.objects.bulk_create(
        TransactionRuleHit(
            transaction=tx,
            rule_instance_id=hit.rule_instance_id,
            rule_id=hit.rule_id,
            version_id=hit.version_id,
            action=hit.action,
            is_shadow=hit.is_shadow,
            hit_directions=hit.hit_directions,
            timestamp=tx.timestamp,
        )
        for hit in verdict.hits
    )


def _apply_triggers(actor: Actor, tx: Transaction, verdict: monitoring.Verdict) -> None:
    for trigger in verdict.triggers:
        user_status_apply(
            actor=actor,
            customer_id=trigger.customer_id,
            cause=f"rule instance {trigger.rule_instance_id} hit transaction {tx.transaction_id}",
            user_state=trigger.user_state,
            user_state_reason=trigger.user_state_reason,
            kyc_status=trigger.kyc_status,
            kyc_status_reason=trigger.kyc_status_reason,
        )


def _publish(tx: Transaction, verdict: monitoring.Verdict, *, cause: str, event_id: str = "") -> None:
    events.publish(
        "transaction.monitored",
        {
            "transactionId": tx.transaction_id,
            "cause": cause,
            "eventId": event_id,
            "status": tx.status,
            "transactionState": tx.transaction_state,
            "originUserId": tx.origin_user_ref,
            "destinationUserId": tx.destination_user_ref,
            "hitRuleInstanceIds": [hit.rule_instance_id for hit in verdict.hits if not hit.is_shadow],
        },
        aggregate=tx,
    )


def transaction_verify(*, actor: Actor, fields: dict, payload: dict) -> VerifyResult:
    """Store a transaction, run the rules on it and answer it with its verdict (seed 004 POST).

    Idempotent on `transactionId`: the same body again answers the stored transaction and
    changes nothing; another body under a used id is a 409.
    """
    digest = payload_digest(payload)
    replay = _replay(fields["transaction_id"], digest)
    if replay is not None:
        return VerifyResult(replay, True)
    users = _users(fields)
    try:
        with transaction.atomic():
            tx = _verify(actor, {**fields, **users}, digest)
    except IntegrityError:
        # A concurrent request stored this transactionId first: answer as a replay would.
        replay = _replay(fields["transaction_id"], digest)
        if replay is None:
            raise
        return VerifyResult(replay, True)
    return VerifyResult(tx, False)


def _verify(actor: Actor, fields: dict, digest: str) -> Transaction:
    origin = fields.get("origin_user")
    tx = Transaction(**fields, payload_digest=digest)
    tx.origin_amount_base = money.to_base(tx.origin_amount, tx.origin_currency)
    tx.destination_amount_base = money.to_base(tx.destination_amount, tx.destination_currency)
    tx.is_first_transaction = (
        origin is not None and not Transaction.objects.filter(origin_user=origin).exists()
    )
    tx.save()
    verdict = monitoring.evaluate(tx)
    _store_verdict(tx, verdict, replace_hits=False)
    Transaction.objects.filter(pk=tx.pk).update(
        status=tx.status,
        executed_rules=tx.executed_rules,
        hit_rules=tx.hit_rules,
        rule_errors=tx.rule_errors,
        risk_score_details=tx.risk_score_details,
    )
    _apply_triggers(actor, tx, verdict)
    audit_log(
        actor=actor,
        action=AuditTrail.Action.CREATE,
        instance=tx,
        after={
            "transactionId": tx.transaction_id,
            "status": tx.status,
            "hitRules": [hit.rule_instance_id for hit in verdict.hits],
        },
    )
    _publish(tx, verdict, cause="verified")
    return tx


# --- transaction events ---------------------------------------------------------------------

# Attributes an event may update, as model fields (the state is handled apart).
_EVENT_FIELDS = {
    "productType": "product_type",
    "reference": "reference",
    "promotionCodeUsed": "promotion_code_used",
    "relatedTransactionIds": "related_transaction_ids",
    "tags": "tags",
    "originDeviceData": "origin_device_data",
    "destinationDeviceData": "destination_device_data",
}


def transaction_event_create(*, actor: Actor, data: dict, payload: dict) -> EventResult:
    """Record a transaction event: move the state, merge the updated attributes, keep the
    history, re-run the rules that ask for it. Idempotent on `eventId` like the transaction POST."""
    digest = payload_digest(payload)
    event_id = data.get("eventId") or ""
    if event_id:
        replay = _event_replay(event_id, digest)
        if replay is not None:
            return EventResult(replay, replay.transaction, True)
    tx = Transaction.objects.filter(transaction_id=data["transactionId"]).first()
    if tx is None:
        raise ApplicationError(errors={"transactionId": [f"Unknown transaction {data['transactionId']}."]})
    try:
        with transaction.atomic():
            return _event(actor, tx.pk, data, digest, event_id)
    except IntegrityError:
        replay = _event_replay(event_id, digest) if event_id else None
        if replay is None:
            raise
        return EventResult(replay, replay.transaction, True)


def _event_replay(event_id: str, digest: str) -> TransactionEvent | None:
    stored = TransactionEvent.objects.select_related("transaction").filter(event_id=event_id).first()
    if stored is None:
        return None
    if stored.payload_digest != digest:
        raise ConflictError(
            f"Event {event_id} was recorded with another body.",
            errors={"eventId": ["Already used by another event."]},
        )
    return stored


def _event(actor: Actor, tx_pk: int, data: dict, digest: str, event_id: str) -> EventResult:
    # Events of one transaction apply one after the other.
    tx = (
        Transaction.objects.select_for_update()
        .select_related("origin_user", "destination_user")
        .get(pk=tx_pk)
    )
    attributes = data["updatedTransactionAttributes"]
    before = {"transactionState": tx.transaction_state, "status": tx.status}
    previous_state = tx.transaction_state
    tx.transaction_state = attributes["transactionState"]
    for key, field in _EVENT_FIELDS.items():
        if key in attributes:
            setattr(tx, field, attributes[key])
    for side in ("origin", "destination"):
        amount = attributes.get(f"{side}AmountDetails")
        if amount:
            setattr(tx, f"{side}_amount", amount["transactionAmount"])
            setattr(tx, f"{side}_currency", amount["transactionCurrency"])
            setattr(tx, f"{side}_country", amount["country"].alpha2 if amount.get("country") else "")
            setattr(
                tx,
                f"{side}_amount_base",
                money.to_base(amount["transactionAmount"], amount["transactionCurrency"]),
            )
        payment = attributes.get(f"{side}PaymentDetails")
        if payment:
            setattr(tx, f"{side}_payment_method", payment["method"])
            setattr(tx, f"{side}_payment_details", payment["details"])
            setattr(tx, f"{side}_payment_identifier", payment["identifier"])
    tx.updated_at = timezone.now()
    tx.save()
    event = TransactionEvent(
        event_id=event_id or uuid.uuid4().hex,
        transaction=tx,
        timestamp=data["timestamp"],
        transaction_state=tx.transaction_state,
        previous_state=previous_state,
        event_description=data.get("eventDescription", ""),
        reason=data.get("reason", ""),
        updated_transaction_attributes=data["raw_attributes"],
        meta_data=data.get("metaData") or {},
        payload_digest=digest,
    )
    with transaction.atomic():
        event.save()
    verdict = monitoring.evaluate(tx, event=event)
    _store_verdict(tx, verdict, replace_hits=True)
    tx.save(update_fields=["status", "executed_rules", "hit_rules", "rule_errors", "risk_score_details"])
    event.status = tx.status
    event.executed_rules = tx.executed_rules
    event.hit_rules = tx.hit_rules
    event.rule_errors = verdict.rule_errors
    event.risk_score_details = tx.risk_score_details
    event.save(update_fields=["status", "executed_rules", "hit_rules", "rule_errors", "risk_score_details"])
    _apply_triggers(actor, tx, verdict)
    audit_log(
        actor=actor,
        action=AuditTrail.Action.UPDATE,
        instance=tx,
        before=before,
        after={"transactionState": tx.transaction_state, "status": tx.status, "eventId": event.event_id},
    )
    _publish(tx, verdict, cause="event", event_id=event.event_id)
    return EventResult(event, tx, False)


def transaction_get(transaction_id: str) -> Transaction:
    tx = (
        Transaction.objects.select_related("origin_user", "destination_user")
        .filter(transaction_id=transaction_id)
        .first()
    )
    if tx is None:
        raise NotFoundError(f"There is no transaction {transaction_id}.")
    return tx
