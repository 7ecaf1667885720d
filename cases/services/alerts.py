"""Alert writes: create in an open case, update, move along the workflow, assign."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import (
    Alert,
    AlertEntityType,
    Assignment,
    Case,
    CaseStatus,
    StatusChange,
)
from cases.services.workflow import (
    _acting_user,
    _assign_locked,
    _attach,
    _change_status,
    _check_status_request,
    _check_version,
    _claim_files,
    _closed_case_conflict,
    _lock_alert,
    _lock_case,
    _publish_alert_closed,
    _publish_alert_opened,
    _record_assignments,
    _refresh_case_priority,
    _touch,
    new_alert_id,
)
from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError, ConflictError
from compliance.ids import parse_id
from compliance.models import AuditTrail, StaffUser
from rules.models import RuleInstance
from transactions.models import Transaction

ALERT_FIELDS = (
    "priority",
    "entity_type",
    "transaction_ids",
    "screening_details",
    "rule_instance_ref",
    "rule_id",
    "rule_name",
    "rule_description",
    "rule_action",
    "rule_nature",
    "rule_version_id",
    "tags",
    "creation_reason",
)


def _resolve_transactions(transaction_ids: Sequence[str]) -> list[Transaction]:
    ids = list(dict.fromkeys(transaction_ids))
    found = {
        tx.transaction_id: tx
        for tx in Transaction.objects.filter(transaction_id__in=ids).only("id", "transaction_id")
    }
    missing = [tx_id for tx_id in ids if tx_id not in found]
    if missing:
        raise ApplicationError(
            errors={"entityDetails.transactionIds": [f"Unknown transactions: {', '.join(missing)}."]}
        )
    return [found[tx_id] for tx_id in ids]


def _rule_instance_of(ref: str) -> RuleInstance | None:
    pk = parse_id(ref) if ref else None
    return RuleInstance.all_objects.filter(pk=pk).first() if pk is not None else None


def _check_alert_entity(entity_type: str, transaction_ids: Sequence[str]) -> list[Transaction]:
    if entity_type == AlertEntityType.TRANSACTION:
        if not transaction_ids:
            raise ApplicationError(
                errors={"entityDetails.transactionIds": ["Required for a TRANSACTION alert."]}
            )
        return _resolve_transactions(transaction_ids)
    if entity_type == AlertEntityType.SANCTIONS:
        return _resolve_transactions(transaction_ids) if transaction_ids else []
    raise ApplicationError(errors={"entityDetails.type": [f"One of {', '.join(AlertEntityType)}."]})


def _open_alert_conflict(
    case: Case, rule_instance: RuleInstance | None, exclude_pk=None
) -> ConflictError | None:
    if rule_instance is None:
        return None
    existing = (
        Alert.objects.filter(case=case, rule_instance=rule_instance)
        .exclude(status=CaseStatus.CLOSED)
        .exclude(pk=exclude_pk)
        .first()
    )
    if existing is None:
        return None
    return ConflictError(
        f"Case {case.case_id} has an open alert of rule instance {rule_instance.pk} already: "
        f"{existing.alert_id}.",
        errors={
            "ruleDetails.instanceId": [f"Case {case.case_id} has an open alert of it: {existing.alert_id}."]
        },
    )


def _alert_insert(actor: Actor, case: Case, fields: dict, transactions: list[Transaction]) -> Alert:
    """Create an alert in a locked, open case (the caller's transaction; it handles IntegrityError)."""
    values = {name: fields[name] for name in ALERT_FIELDS if name in fields}
    alert = Alert(case=case, **values)
    alert.alert_id = fields.get("alert_id") or new_alert_id()
    now = timezone.now()
    alert.created_at = fields.get("created_at") or now
    alert.status_changed_at = now
    alert.updated_at = now
    alert.transaction_ids = [tx.transaction_id for tx in transactions]
    alert.rule_instance = fields.get("rule_instance") or _rule_instance_of(alert.rule_instance_ref)
    if alert.rule_instance is not None and not alert.rule_instance_ref:
        alert.rule_instance_ref = str(alert.rule_instance.pk)
    if Alert.objects.filter(alert_id=alert.alert_id).exists():
        raise ConflictError(
            f"Alert {alert.alert_id} exists already.", errors={"alertId": ["Already used by another alert."]}
        )
    conflict = _open_alert_conflict(case, alert.rule_instance)
    if conflict is not None:
        raise conflict
    alert.full_clean(exclude=["case"], validate_unique=False, validate_constraints=False)
    alert.save()
    if transactions:
        alert.transactions.add(*transactions)
    assignee = _record_assignments(actor, fields.get("assignments"), alert=alert)
    if assignee is not None:
        alert.assignee = assignee
        Alert.objects.filter(pk=alert.pk).update(assignee=assignee)
    reason = alert.creation_reason or {}
    StatusChange.objects.create(
        alert=alert,
        from_status="",
        to_status=alert.status,
        comment=str(reason.get("comment") or ""),
        actor=_acting_user(actor),
        actor_label=actor.label[:200],
        created_at=now,
    )
    audit_log(actor=actor, action=AuditTrail.Action.CREATE, instance=alert, after=snapshot(alert))
    return alert


def alert_create(*, actor: Actor, fields: dict) -> Alert:
    """Create an alert in an open case (`fields["case"]`, a Case). TRANSACTION alerts name
    existing transactions (`transaction_ids`, 400 naming the missing ones). `rule_instance_ref`
    links the rule instance when it exists; a case holds one open alert per rule instance (409)."""
    case = fields.get("case")
    if case is None:
        raise ApplicationError(errors={"caseId": ["Required."]})
    transactions = _check_alert_entity(fields.get("entity_type", ""), fields.get("transaction_ids") or [])
    try:
        with transaction.atomic():
            locked = _lock_case(case.pk)
            if locked.status == CaseStatus.CLOSED:
                raise _closed_case_conflict(locked)
            alert = _alert_insert(actor, locked, fields, transactions)
            _refresh_case_priority(actor, locked, timezone.now())
            _publish_alert_opened(actor, alert, locked)
            return alert
    except IntegrityError:
        if fields.get("alert_id") and Alert.objects.filter(alert_id=fields["alert_id"]).exists():
            raise ConflictError(
                f"Alert {fields['alert_id']} exists already.",
                errors={"alertId": ["Already used by another alert."]},
            ) from None
        conflict = _open_alert_conflict(
            case, fields.get("rule_instance") or _rule_instance_of(fields.get("rule_instance_ref", ""))
        )
        if conflict is not None:
            raise conflict from None
        raise


def alert_update(*, actor: Actor, alert: Alert, fields: dict, expected_version: int | None = None) -> Alert:
    """Replace the alert's fields that are given (seed "Alert - Update"): priority, entity
    details, rule details, tags, creation reason; `assignments` given are added to its history
    (those recorded already are not repeated) and the last becomes the assignee. The case's
    priority follows."""
    transactions = None
    if "entity_type" in fields or "transaction_ids" in fields:
        transactions = _check_alert_entity(
            fields.get("entity_type", alert.entity_type),
            fields.get("transaction_ids", alert.transaction_ids) or [],
        )
    try:
        with transaction.atomic():
            case = _lock_case(alert.case_id)
            locked = _lock_alert(alert.pk)
            _check_version(locked, expected_version)
            before = snapshot(locked)
            now = timezone.now()
            for name in ALERT_FIELDS:
                if name in fields:
                    setattr(locked, name, fields[name])
            if "rule_instance_ref" in fields:
                locked.rule_instance = _rule_instance_of(locked.rule_instance_ref)
                if locked.status != CaseStatus.CLOSED:
                    conflict = _open_alert_conflict(case, locked.rule_instance, exclude_pk=locked.pk)
                    if conflict is not None:
                        raise conflict
            if transactions is not None:
                locked.transaction_ids = [tx.transaction_id for tx in transactions]
                locked.transactions.set(transactions)
            new = []
            for assignee, assigned_by, at in fields.get("assignments") or ():
                if not Assignment.objects.filter(alert=locked, assignee=assignee, created_at=at).exists():
                    new.append((assignee, assigned_by, at))
            last = _record_assignments(actor, new, alert=locked)
            if fields.get("assignments"):
                locked.assignee = fields["assignments"][-1][0]
            elif last is not None:
                locked.assignee = last
            locked.full_clean(exclude=["case"], validate_unique=False, validate_constraints=False)
            after = snapshot(locked)
            if after == before and not new:
                return locked
            _touch(locked, now)
            locked.save()
            audit_log(
                actor=actor,
                action=AuditTrail.Action.UPDATE,
                instance=locked,
                before=before,
                after=snapshot(locked),
            )
            _refresh_case_priority(actor, case, now)
            return locked
    except IntegrityError:
        conflict = _open_alert_conflict(
            alert.case, _rule_instance_of(fields.get("rule_instance_ref", "")), exclude_pk=alert.pk
        )
        if conflict is not None:
            raise conflict from None
        raise


def alert_status_change(
    *,
    actor: Actor,
    alert: Alert,
    status: str,
    reason: str = "",
    other_reason: str = "",
    comment: str = "",
    file_keys: Sequence[str] = (),
    expected_version: int | None = None,
) -> Alert:
    """Move an alert along the workflow; the case's priority follows (its status does not:
    closing the last open alert leaves the case open)."""
    try:
        with transaction.atomic():
            case = _lock_case(alert.case_id)
            locked = _lock_alert(alert.pk)
            _check_version(locked, expected_version)
            _check_status_request(
                current=locked.status, status=status, reason=reason, other_reason=other_reason
            )
            if status == CaseStatus.REOPENED and case.status == CaseStatus.CLOSED:
                raise _closed_case_conflict(case)
            files = _claim_files(file_keys)
            now = timezone.now()
            change = _change_status(
                actor,
                locked,
                status=status,
                reason=reason,
                other_reason=other_reason,
                comment=comment,
                now=now,
            )
            _attach(files, case=case, alert=locked, status_change=change)
            if status == CaseStatus.CLOSED:
                _publish_alert_closed(actor, locked, case, change)
            elif status == CaseStatus.REOPENED:
                _publish_alert_opened(actor, locked, case)
            _refresh_case_priority(actor, case, now)
            return locked
    except IntegrityError:
        # Reopening while another open alert of the same rule instance exists in the case.
        conflict = _open_alert_conflict(alert.case, alert.rule_instance, exclude_pk=alert.pk)
        if conflict is not None:
            raise conflict from None
        raise


def alert_assign(
    *, actor: Actor, alert: Alert, assignee: StaffUser | None, expected_version: int | None = None
) -> Alert:
    with transaction.atomic():
        locked = _lock_alert(alert.pk)
        _check_version(locked, expected_version)
        _assign_locked(actor, locked, assignee, timezone.now())
    return locked
