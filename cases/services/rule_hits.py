"""Alerts and cases opened from rule hits (`transaction.monitored`, via `cases.handlers`).

Screening hits (issue 6) have a sibling, `cases.services.screening_hits`: a SANCTIONS alert in
the customer's open case (source SCREENING), through `_case_for_entity` and `_alert_insert`,
deduplicated on the screening match instead of the rule instance."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import (
    Alert,
    AlertEntityType,
    Case,
    CaseEntityType,
    CasePriority,
    CaseSource,
    CaseStatus,
)
from cases.services.alerts import _alert_insert
from cases.services.cases import _case_insert
from cases.services.workflow import (
    _ms,
    _publish_alert_opened,
    _publish_case_opened,
    _refresh_case_priority,
    _touch,
)
from compliance.audit import Actor, audit_log
from compliance.errors import ConflictError
from compliance.ids import parse_id
from compliance.models import AuditTrail
from rules.models import RuleInstance
from transactions.models import Transaction
from users.models import Customer

logger = logging.getLogger(__name__)


RULE_HIT_REASON = "Rule hit"


# How often a write that lost a unique-constraint race to a concurrent one is tried again.
RACE_ATTEMPTS = 3


def _case_for_entity(
    actor: Actor, entity: dict, *, source: str, priority: str, reasons: list[str], comment: str
):
    """The entity's open case, locked, creating it when there is none. Answers (case, created).
    `entity`: `{"customer": Customer}` or `{"payment_method", "payment_details", "payment_identifier"}`.
    Raises IntegrityError when a concurrent writer opened it first (the caller retries)."""
    if "customer" in entity:
        lookup = Q(customer=entity["customer"])
    else:
        lookup = Q(payment_identifier=entity["payment_identifier"])
    case = Case.objects.select_for_update().filter(lookup).exclude(status=CaseStatus.CLOSED).first()
    if case is not None:
        return case, False
    fields = {
        "source": source,
        "priority": priority,
        "creation_reason": {"reasons": reasons, "comment": comment, "timestamp": _ms(timezone.now())},
    }
    if "customer" in entity:
        fields.update(entity_type=CaseEntityType.USER, customer=entity["customer"])
    else:
        fields.update(entity_type=CaseEntityType.PAYMENT, **entity)
    with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
        case = _case_insert(actor, fields, publish=False)
    return case, True


def _hit_entity(tx: Transaction, direction: str) -> dict | None:
    side = "origin" if direction == "ORIGIN" else "destination"
    customer_id = getattr(tx, f"{side}_user_id")
    if customer_id:
        customer = Customer.all_objects.filter(pk=customer_id).first()
        if customer is not None:
            return {"customer": customer}
    identifier = getattr(tx, f"{side}_payment_identifier")
    if identifier:
        return {
            "payment_method": getattr(tx, f"{side}_payment_method"),
            "payment_details": getattr(tx, f"{side}_payment_details") or {},
            "payment_identifier": identifier,
        }
    return None


def _rule_details(hit: Mapping, instance: RuleInstance | None) -> dict:
    from rules.library import REGISTRY

    template = REGISTRY.get(hit.get("ruleId", "") or (instance.rule_id if instance else ""))
    name = (instance.rule_name_alias if instance else "") or (template.name if template else "")
    description = (instance.description if instance else "") or (template.description if template else "")
    return {
        "rule_instance": instance,
        "rule_instance_ref": str(hit.get("ruleInstanceId", "")),
        "rule_id": hit.get("ruleId", "") or (instance.rule_id if instance else ""),
        "rule_name": name or str(hit.get("ruleId", "")),
        "rule_description": description,
        "rule_action": hit.get("action", "") or (instance.action if instance else ""),
        "rule_nature": (instance.nature if instance else "") or (template.nature if template else ""),
        "rule_version_id": hit.get("versionId", "") or (instance.version_id if instance else ""),
    }


def _entity_filter(entity: dict, prefix: str = "") -> Q:
    if "customer" in entity:
        return Q(**{f"{prefix}customer": entity["customer"]})
    return Q(**{f"{prefix}payment_identifier": entity["payment_identifier"]})


def alert_open_from_rule_hit(*, actor: Actor, tx: Transaction, hit: Mapping, direction: str) -> Alert | None:
    """Put one rule hit (a `newHits` item of `transaction.monitored`) aimed at `direction`
    (ORIGIN or DESTINATION) into the open case of that side's user, or of its payment
    instrument when the side has no user; opens the case (source RULE, reason "Rule hit")
    when there is none. An open alert of the same rule instance in that case gets the
    transaction added; otherwise a new alert opens (priority: the instance's `casePriority`).

    Idempotent: a hit whose transaction is already in an alert of this rule instance for this
    entity changes nothing. Answers the alert, or None when the side names neither a user nor
    a payment instrument (logged) or when nothing changed."""
    entity = _hit_entity(tx, direction)
    if entity is None:
        logger.info(
            "Rule instance %s hit transaction %s on the %s side, which has neither a user nor a "
            "payment identifier: no alert",
            hit.get("ruleInstanceId"),
            tx.transaction_id,
            direction,
        )
        return None
    instance = RuleInstance.all_objects.filter(pk=parse_id(str(hit.get("ruleInstanceId", "")))).first()
    details = _rule_details(hit, instance)
    ref = details["rule_instance_ref"]
    priority = instance.case_priority if instance is not None else CasePriority.P3
    for attempt in range(RACE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _open_from_hit(actor, tx, entity, details, priority)
        except (IntegrityError, ConflictError):
            # A concurrent worker opened the entity's case or this rule's alert first: use theirs.
            if attempt == RACE_ATTEMPTS - 1:
                raise
            logger.info("Lost a race opening an alert of %s for %s; retrying", ref, tx.transaction_id)
    return None  # pragma: no cover


def _open_from_hit(actor: Actor, tx: Transaction, entity: dict, details: dict, priority: str) -> Alert | None:
    ref = details["rule_instance_ref"]
    if Alert.objects.filter(
        _entity_filter(entity, "case__"), rule_instance_ref=ref, transactions=tx
    ).exists():
        return None  # a replayed event: the transaction is in this rule's alert already
    comment = f"Rule {details['rule_name']} ({details['rule_id']}) hit transaction {tx.transaction_id}."
    case, created = _case_for_entity(
        actor, entity, source=CaseSource.RULE, priority=priority, reasons=[RULE_HIT_REASON], comment=comment
    )
    alert_lookup = (
        Q(rule_instance=details["rule_instance"]) if details["rule_instance"] else Q(rule_instance_ref=ref)
    )
    alert = (
        Alert.objects.select_for_update()
        .filter(alert_lookup, case=case)
        .exclude(status=CaseStatus.CLOSED)
        .order_by("id")
        .first()
    )
    now = timezone.now()
    if alert is not None:
        before = {"transactionIds": list(alert.transaction_ids), "version": alert.version}
        alert.transaction_ids = [*alert.transaction_ids, tx.transaction_id]
        alert.transactions.add(tx)
        _touch(alert, now)
        alert.save(update_fields=["transaction_ids", "version", "updated_at"])
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=alert,
            before=before,
            after={"transactionIds": alert.transaction_ids, "version": alert.version},
        )
        return alert
    fields = {
        **details,
        "priority": priority,
        "entity_type": AlertEntityType.TRANSACTION,
        "creation_reason": {"reasons": [RULE_HIT_REASON], "comment": comment, "timestamp": _ms(now)},
    }
    with transaction.atomic():
        alert = _alert_insert(actor, case, fields, [tx])
    if not created:
        _refresh_case_priority(actor, case, now)
    else:
        _publish_case_opened(actor, case, reasons=[RULE_HIT_REASON], comment=comment)
    _publish_alert_opened(actor, alert, case)
    return alert
