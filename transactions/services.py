"""Writes of the transactions app: verify a transaction, apply a transaction event.

Both run in one database transaction: evaluate the active rules (`transactions.monitoring`,
the engine of the rules app), store the transaction with its verdict (a new transaction is
judged before its one INSERT; an event's changes are stored first and the re-run's verdict
after), apply the users' triggers, audit, and publish `transaction.monitored` (and, when an
event's re-run changes the decision, `transaction.status_changed`) — whose handlers (alerts
and cases, the users' ongoing risk, webhooks) run in workers after commit, so the answer
never waits for them.

The transaction lifecycle (which state an event may move a transaction to) is written
once, here, in `ALLOWED_TRANSITIONS`.
"""

from __future__ import annotations

import dataclasses
import uuid

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from compliance import events
from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError, ConflictError, NotFoundError
from compliance.models import AuditTrail
from transactions import money, monitoring, queries
from transactions.countries import USER_COUNTRIES, attach_countries
from transactions.models import Transaction, TransactionEvent, TransactionRuleHit, TransactionState
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


def _with_countries(customer: Customer) -> Customer:
    """The customer with the countries rules (R-14, custom conditions) and the answer's user document
    read, from the process's country table (`transactions.countries`) rather than joined."""
    return attach_countries(customer, *USER_COUNTRIES)


def _customers_by_ref(refs: list):
    # Unordered: ordering a select this wide costs the ORM more than the query (issue 4 benchmark).
    return Customer.objects.filter(external_ref__in=refs).order_by()


def _digest_of(transaction_ids: list):
    return (
        Transaction.objects.filter(transaction_id=transaction_ids[0])
        .order_by()
        .values_list("payload_digest")[:1]
    )


def _users(fields: dict) -> dict:
    """Resolve `originUserId` / `destinationUserId`: users must exist (400 naming each unknown)."""
    refs = {side: fields.get(f"{side}_user_ref") for side in ("origin", "destination")}
    wanted = {ref for ref in refs.values() if ref}
    customers = queries.rows("users", _customers_by_ref, sorted(wanted)) if wanted else ()
    found = {c.external_ref: _with_countries(c) for c in customers}
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
    # The digest alone first: nearly every transaction is new, and one column is cheap to ask for.
    stored = queries.first_row("digest", _digest_of, [transaction_id])
    if stored is None:
        return None
    if stored[0] != digest:
        raise ConflictError(
            f"Transaction {transaction_id} was verified with another body.",
            errors={"transactionId": ["Already used by another transaction."]},
        )
    return transaction_get(transaction_id)


def _hit_row(tx: Transaction, hit: monitoring.RuleHit) -> TransactionRuleHit:
    return TransactionRuleHit(
        transaction=tx,
        rule_instance_id=hit.rule_instance_id,
        rule_id=hit.rule_id,
        version_id=hit.version_id,
        action=hit.action,
        is_shadow=hit.is_shadow,
        hit_directions=hit.hit_directions,
        timestamp=tx.timestamp,
    )


def _hits_of(executed_rules: list[dict]) -> list[monitoring.RuleHit]:
    """The hits among stored executed rules (shadow ones included), as `TransactionRuleHit` columns."""
    return [
        monitoring.RuleHit(
            rule_instance_id=str(item.get("ruleInstanceId", "")),
            rule_id=item.get("ruleId", ""),
            version_id=item.get("versionId", ""),
            action=item.get("ruleAction") or item.get("action", ""),
            is_shadow=bool(item.get("isShadow")),
            hit_directions=(item.get("ruleHitMeta") or {}).get("hitDirections", []),
        )
        for item in executed_rules
        if item.get("ruleHit")
    ]


def _put_verdict(tx: Transaction, verdict: monitoring.Verdict) -> None:
    """Put the verdict on `tx` (saved by the caller)."""
    tx.status = verdict.status
    tx.executed_rules = verdict.executed_rules
    tx.hit_rules = verdict.hit_rules
    tx.rule_errors = verdict.rule_errors
    tx.risk_score_details = verdict.risk_score_details


def _write_hits(tx: Transaction, verdict: monitoring.Verdict, *, replace: bool) -> None:
    """Write the verdict's hit rows (one statement).

    `replace` (after an event): the verdict's executed rules are the old ones with the
    re-run instances' results in their place, so the hit rows are rebuilt from them. Deleting
    only the rows of instances that hit again would leave the row of a re-run instance that no
    longer hits, and the list's rule-hit filter would still find the transaction."""
    hits = verdict.hits
    if replace:
        TransactionRuleHit.objects.filter(transaction=tx).delete()
        hits = _hits_of(verdict.executed_rules)
    TransactionRuleHit.objects.bulk_create([_hit_row(tx, hit) for hit in hits])


def _apply_triggers(actor: Actor, tx: Transaction, verdict: monitoring.Verdict) -> None:
    changed = set()
    for trigger in verdict.triggers:
        event = user_status_apply(
            actor=actor,
            customer_id=trigger.customer_id,
            cause=f"rule instance {trigger.rule_instance_id} hit transaction {tx.transaction_id}",
            user_state=trigger.user_state,
            user_state_reason=trigger.user_state_reason,
            kyc_status=trigger.kyc_status,
            kyc_status_reason=trigger.kyc_status_reason,
        )
        if event is not None:
            changed.add(trigger.customer_id)
    # The transaction answers its users as they are now: reload those a trigger changed.
    for side in ("origin", "destination"):
        if getattr(tx, f"{side}_user_id") in changed:
            setattr(
                tx, f"{side}_user", _with_countries(Customer.objects.get(pk=getattr(tx, f"{side}_user_id")))
            )


def _publish(
    tx: Transaction,
    verdict: monitoring.Verdict,
    *,
    cause: str,
    event_id: str = "",
    previous_hits: frozenset[str] = frozenset(),
) -> None:
    """`transaction.monitored`: what the after-commit consequences need (alerts and cases,
    the users' ongoing risk, webhooks). `newHits` are the non-shadow hits this evaluation
    added (an event's re-run does not count a rule that had hit already)."""
    new_hits = [
        {
            "ruleInstanceId": hit.rule_instance_id,
            "ruleId": hit.rule_id,
            "versionId": hit.version_id,
            "action": hit.action,
            "hitDirections": hit.hit_directions,
        }
        for hit in verdict.hits
        if not hit.is_shadow and hit.rule_instance_id not in previous_hits
    ]
    events.publish(
        "transaction.monitored",
        {
            "transactionId": tx.transaction_id,
            "cause": cause,
            "eventId": event_id,
            "status": tx.status,
            "transactionState": tx.transaction_state,
            "timestamp": tx.timestamp.isoformat(),
            "originUserId": tx.origin_user_ref,
            "destinationUserId": tx.destination_user_ref,
            "originCustomerId": tx.origin_user_id,
            "destinationCustomerId": tx.destination_user_id,
            "newHits": new_hits,
        },
        aggregate=tx,
    )


def _has_sent(customer_id: int) -> bool:
    """Whether the customer is the origin of a stored transaction: one indexed probe, in plain SQL
    (the ORM's EXISTS cost three times the probe on every verified transaction)."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {q(Transaction._meta.db_table)} WHERE {q('origin_user_id')} = %s LIMIT 1",  # noqa: S608
            [customer_id],
        )
        return cursor.fetchone() is not None


def _publish_status_change(tx: Transaction, *, previous_status: str) -> None:
    """`transaction.status_changed`: a re-run changed the decision (webhooks' TRANSACTION_STATUS_UPDATED).
    `reasons` are the instances whose (non-shadow) hits now decide it."""
    events.publish(
        "transaction.status_changed",
        {
            "transactionId": tx.transaction_id,
            "status": tx.status,
            "previousStatus": previous_status,
            "reasons": [item["ruleInstanceId"] for item in tx.hit_rules],
            "comment": "",
            "triggeredBy": "SYSTEM",
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
    tx.is_first_transaction = origin is not None and not _has_sent(origin.pk)
    # Judged before it is stored (the engine counts an unsaved transaction in its own windows),
    # so one INSERT stores the transaction with its verdict: an UPDATE after it would write every
    # index of the table a second time.
    verdict = monitoring.evaluate(tx)
    _put_verdict(tx, verdict)
    tx.save(force_insert=True)
    _write_hits(tx, verdict, replace=False)
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

_S = TransactionState
# The transaction lifecycle: from each state, the states an event may move the transaction to.
#
#   CREATED     -> PROCESSING SENT SUSPENDED SUCCESSFUL DECLINED EXPIRED REVERSED
#   PROCESSING  -> SENT SUSPENDED SUCCESSFUL DECLINED EXPIRED REVERSED
#   SENT        -> PROCESSING SUSPENDED SUCCESSFUL DECLINED EXPIRED REVERSED
#   SUSPENDED   -> PROCESSING SENT SUCCESSFUL DECLINED EXPIRED REVERSED   (released or refused)
#   SUCCESSFUL  -> REFUNDED REVERSED                                      (money back, chargeback)
#   DECLINED, EXPIRED, REFUNDED, REVERSED: final
#
# Integrators may skip intermediate states (CREATED -> SUCCESSFUL is the seed's own flow). Staying
# in the same state is always allowed: an event may only update attributes (a final state
# included). Nothing goes back to CREATED, nothing leaves a final state, and a completed
# transaction is only refunded or reversed — a SUCCESSFUL -> PROCESSING or a DECLINED ->
# SUCCESSFUL is an integrator's bug (or a replayed, out-of-order message) and is refused with a
# 409, so that rules keyed on the state and the analysts' history are never rewritten by it.
# A transaction posted without a state is CREATED (the seed's default).
_LIVE = {_S.PROCESSING, _S.SENT, _S.SUSPENDED, _S.SUCCESSFUL, _S.DECLINED, _S.EXPIRED, _S.REVERSED}
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.CREATED: frozenset(_LIVE),
    _S.PROCESSING: frozenset(_LIVE - {_S.PROCESSING}),
    _S.SENT: frozenset(_LIVE - {_S.SENT}),
    _S.SUSPENDED: frozenset(_LIVE - {_S.SUSPENDED}),
    _S.SUCCESSFUL: frozenset({_S.REFUNDED, _S.REVERSED}),
    _S.DECLINED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.REFUNDED: frozenset(),
    _S.REVERSED: frozenset(),
}


def transition_allowed(current: str, target: str) -> bool:
    """Whether an event may move a transaction in state `current` ("" when posted without) to `target`."""
    current = current or TransactionState.CREATED
    return target == current or target in ALLOWED_TRANSITIONS[current]


def _check_transition(tx: Transaction, target: str) -> None:
    if transition_allowed(tx.transaction_state, target):
        return
    current = tx.transaction_state or TransactionState.CREATED
    allowed = sorted(ALLOWED_TRANSITIONS[current])
    raise ConflictError(
        f"Transaction {tx.transaction_id} is {current}; it cannot become {target}.",
        errors={
            "updatedTransactionAttributes.transactionState": [
                f"{current} cannot become {target}; "
                + (f"allowed: {', '.join(allowed)}." if allowed else f"{current} is final.")
            ]
        },
    )


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
    history, re-run the rules that ask for it. Idempotent on `eventId` like the transaction POST.

    Each attribute sent replaces the stored one as a whole (tags, device data, payment details,
    amounts with their base value); those not sent are kept. A move `ALLOWED_TRANSITIONS` does
    not allow is a 409 and changes nothing; an unknown transaction is a 400 naming it. Only the
    instances with `runOnTransactionEvents` run again, and their results replace their old ones
    in the transaction's executed rules (the decision follows)."""
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
    # Events of one transaction apply one after the other. Only the transaction's row is locked
    # (`of`): PostgreSQL refuses FOR UPDATE on the nullable side of the users' outer joins.
    tx = (
        Transaction.objects.select_for_update(of=("self",))
        .select_related("origin_user", "destination_user")
        .get(pk=tx_pk)
    )
    for user in (tx.origin_user, tx.destination_user):
        if user is not None:
            _with_countries(user)
    attributes = data["updatedTransactionAttributes"]
    _check_transition(tx, attributes["transactionState"])
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
    previous_hits = frozenset(item.get("ruleInstanceId") for item in tx.hit_rules)
    verdict = monitoring.evaluate(tx, event=event)
    _put_verdict(tx, verdict)
    _write_hits(tx, verdict, replace=True)
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
        after={
            "transactionState": tx.transaction_state,
            "status": tx.status,
            "eventId": event.event_id,
            "updatedAttributes": sorted(set(attributes) - {"transactionState"}),
        },
    )
    _publish(tx, verdict, cause="event", event_id=event.event_id, previous_hits=previous_hits)
    if tx.status != before["status"]:
        _publish_status_change(tx, previous_status=before["status"])
    return EventResult(event, tx, False)


def transaction_get(transaction_id: str) -> Transaction:
    # Unordered (the id is unique): ordering a select this wide costs the ORM more than the query.
    found = Transaction.objects.select_related("origin_user", "destination_user").filter(
        transaction_id=transaction_id
    )
    tx = next(iter(found.order_by()[:1]), None)
    if tx is None:
        raise NotFoundError(f"There is no transaction {transaction_id}.")
    return tx
