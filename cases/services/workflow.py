"""What the case and alert writes share: the status workflow, version checks, history rows,
file claims, case priority, and the domain events with their exact payloads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from cases.models import (
    PRIORITY_ORDER,
    Alert,
    Assignment,
    Case,
    CaseEntityType,
    CaseStatus,
    File,
    StatusChange,
    StatusReason,
)
from compliance import events
from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError, ConflictError
from compliance.models import AuditTrail, StaffUser

_S = CaseStatus


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.OPEN: frozenset({_S.IN_PROGRESS, _S.ON_HOLD, _S.CLOSED}),
    _S.IN_PROGRESS: frozenset({_S.ON_HOLD, _S.CLOSED}),
    _S.ON_HOLD: frozenset({_S.IN_PROGRESS, _S.CLOSED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
    _S.REOPENED: frozenset({_S.IN_PROGRESS, _S.ON_HOLD, _S.CLOSED}),
}


OPEN_STATUSES = frozenset(set(CaseStatus.values) - {CaseStatus.CLOSED})


SAR_PERMISSION = "cases.close_sar"


def transition_allowed(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def allowed_targets(current: str) -> list[str]:
    """The statuses a case or an alert in `current` may move to, in the enum's order (screens)."""
    allowed = ALLOWED_TRANSITIONS.get(current, frozenset())
    return [value for value in CaseStatus.values if value in allowed]


def can_close_sar(actor: Actor) -> bool:
    user = _acting_user(actor)
    if user is None:
        return bool(actor.system)
    return user.has_perm(SAR_PERMISSION)


def _acting_user(actor: Actor) -> StaffUser | None:
    return actor.api_key.user if actor.api_key is not None else actor.user


def triggered_by(actor: Actor) -> str:
    """The webhooks' `triggeredBy`: MANUAL when a person or an API key acted, SYSTEM otherwise."""
    return "SYSTEM" if actor.user is None and actor.api_key is None else "MANUAL"


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def new_case_id() -> str:
    return f"C-{uuid.uuid4().hex[:12].upper()}"


def new_alert_id() -> str:
    return f"A-{uuid.uuid4().hex[:12].upper()}"


def _check_version(obj: Case | Alert, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != obj.version:
        kind = "Case" if isinstance(obj, Case) else "Alert"
        raise ConflictError(
            f"{kind} {obj} was changed by someone else since you opened it "
            f"(it is at version {obj.version}, yours was {expected_version}); reload it and try again.",
            errors={"version": [f"Stale: the current version is {obj.version}."]},
        )


def _lock_case(pk: int) -> Case:
    return Case.objects.select_for_update().get(pk=pk)


def _lock_alert(pk: int) -> Alert:
    return Alert.objects.select_for_update().get(pk=pk)


def _touch(obj: Case | Alert, now: datetime) -> None:
    obj.version += 1
    obj.updated_at = now


def _state(obj: Case | Alert) -> dict:
    return {
        "status": obj.status,
        "priority": obj.priority,
        "assignee": obj.assignee_id,
        "version": obj.version,
        "closedAt": _ms(obj.closed_at),
    }


def _check_status_request(*, current: str, status: str, reason: str, other_reason: str) -> None:
    if status not in CaseStatus.values:
        raise ApplicationError(
            errors={"status": [f"Unknown status {status!r}; one of {', '.join(CaseStatus)}."]}
        )
    if not transition_allowed(current, status):
        allowed = allowed_targets(current)
        raise ConflictError(
            f"The status is {current}; it cannot become {status}.",
            errors={
                "status": [
                    f"{current} cannot become {status}; allowed: {', '.join(allowed)}."
                    if allowed
                    else f"{current} is final."
                ]
            },
        )
    if reason and reason not in StatusReason.values:
        raise ApplicationError(errors={"reason": [f"Unknown reason {reason!r}."]})
    if status == CaseStatus.CLOSED and not reason:
        raise ApplicationError(errors={"reason": ["A reason is required to close."]})
    if reason == StatusReason.OTHER and not other_reason.strip():
        raise ApplicationError(errors={"otherReason": ["Required when the reason is Other."]})


def _claim_files(file_keys: Sequence[str]) -> list[File]:
    """The uploaded, not yet attached files the keys name, locked; 400 naming `files` otherwise."""
    keys = list(dict.fromkeys(file_keys))
    if not keys:
        return []
    files = {f.key: f for f in File.objects.select_for_update().filter(key__in=keys)}
    unknown = [key for key in keys if key not in files]
    attached = [
        key for key, f in files.items() if f.case_id or f.alert_id or f.status_change_id or f.comment_id
    ]
    problems = []
    if unknown:
        problems.append(f"Unknown file keys (upload them first): {', '.join(unknown)}.")
    if attached:
        problems.append(f"Already attached elsewhere: {', '.join(sorted(attached))}.")
    if problems:
        raise ApplicationError("Invalid files.", errors={"files": problems})
    return [files[key] for key in keys]


def _attach(files: list[File], **links) -> None:
    if files:
        File.objects.filter(pk__in=[f.pk for f in files]).update(**links)
        for f in files:
            for name, value in links.items():
                setattr(f, name, value)


def _case_transaction_ids(case: Case) -> list[str]:
    seen: dict[str, None] = {}
    for ids in case.alerts.order_by("created_at", "id").values_list("transaction_ids", flat=True):
        for tx_id in ids or []:
            seen.setdefault(tx_id, None)
    return list(seen)


def _user_id(case: Case) -> str:
    return "" if case.entity_type == CaseEntityType.PAYMENT else case.user_ref


def _publish_case_opened(actor: Actor, case: Case, *, reasons: list[str], comment: str) -> None:
    events.publish(
        "case.opened",
        {
            "caseId": case.case_id,
            "status": case.status,
            "priority": case.priority,
            "source": case.source,
            "userId": _user_id(case),
            "transactionIds": _case_transaction_ids(case),
            "reasons": reasons,
            "comment": comment,
            "triggeredBy": triggered_by(actor),
        },
        aggregate=case,
    )


def _publish_case_closed(actor: Actor, case: Case, change: StatusChange) -> None:
    events.publish(
        "case.closed",
        {
            "caseId": case.case_id,
            "status": case.status,
            "reasons": [change.reason] if change.reason else [],
            "reasonDescriptionForOther": change.other_reason,
            "comment": change.comment,
            "userId": _user_id(case),
            "transactionIds": _case_transaction_ids(case),
            "triggeredBy": triggered_by(actor),
        },
        aggregate=case,
    )


def _rule_fields(alert: Alert) -> dict:
    return {
        "ruleName": alert.rule_name,
        "ruleDescription": alert.rule_description,
        "ruleId": alert.rule_id,
        "ruleInstanceId": alert.rule_instance_ref,
    }


def _publish_alert_opened(actor: Actor, alert: Alert, case: Case) -> None:
    events.publish(
        "alert.opened",
        {
            "alertId": alert.alert_id,
            "status": alert.status,
            "transactionIds": list(alert.transaction_ids),
            **_rule_fields(alert),
            "caseId": case.case_id,
            "userId": _user_id(case),
            "triggeredBy": triggered_by(actor),
        },
        aggregate=alert,
    )


def _publish_alert_closed(actor: Actor, alert: Alert, case: Case, change: StatusChange) -> None:
    events.publish(
        "alert.closed",
        {
            "alertId": alert.alert_id,
            "status": alert.status,
            "reasons": [change.reason] if change.reason else [],
            "reasonDescriptionForOther": change.other_reason,
            "comment": change.comment,
            "userId": _user_id(case),
            "transactionIds": list(alert.transaction_ids),
            **_rule_fields(alert),
            "triggeredBy": triggered_by(actor),
        },
        aggregate=alert,
    )


def _record_assignments(actor: Actor, assignments, *, case: Case | None = None, alert: Alert | None = None):
    """Assignment rows for `[(assignee, assigned_by, at)]`; answers the last assignee (or None)."""
    last = None
    rows = []
    for assignee, assigned_by, at in assignments or ():
        rows.append(
            Assignment(
                case=case,
                alert=alert,
                assignee=assignee,
                assigned_by=assigned_by if assigned_by is not None else _acting_user(actor),
                created_at=at or timezone.now(),
            )
        )
        last = assignee
    Assignment.objects.bulk_create(rows)
    return last


def _refresh_case_priority(actor: Actor, case: Case, now: datetime) -> bool:
    """Case priority = the highest of its open alerts (kept when none is open). Case locked."""
    priorities = set(
        Alert.objects.filter(case=case).exclude(status=CaseStatus.CLOSED).values_list("priority", flat=True)
    )
    if not priorities:
        return False
    highest = min(priorities, key=lambda p: PRIORITY_ORDER.get(p, 99))
    if highest == case.priority:
        return False
    before = _state(case)
    case.priority = highest
    _touch(case, now)
    case.save(update_fields=["priority", "version", "updated_at"])
    audit_log(actor=actor, action=AuditTrail.Action.UPDATE, instance=case, before=before, after=_state(case))
    return True


def _change_status(
    actor: Actor,
    obj: Case | Alert,
    *,
    status: str,
    reason: str,
    other_reason: str,
    comment: str,
    now: datetime,
) -> StatusChange:
    """Move a locked case or alert to `status` (checked by the caller) and record the change."""
    before = _state(obj)
    previous = obj.status
    obj.status = status
    obj.status_changed_at = now
    if status == CaseStatus.CLOSED:
        obj.closed_at = now
    elif status == CaseStatus.REOPENED:
        obj.closed_at = None
    _touch(obj, now)
    obj.save(update_fields=["status", "status_changed_at", "closed_at", "version", "updated_at"])
    change = StatusChange.objects.create(
        case=obj if isinstance(obj, Case) else None,
        alert=obj if isinstance(obj, Alert) else None,
        from_status=previous,
        to_status=status,
        reason=reason,
        other_reason=other_reason if reason == StatusReason.OTHER else "",
        comment=comment,
        actor=_acting_user(actor),
        actor_label=actor.label[:200],
        created_at=now,
    )
    after = _state(obj)
    after.update(reason=reason, otherReason=change.other_reason, comment=comment)
    audit_log(actor=actor, action=AuditTrail.Action.UPDATE, instance=obj, before=before, after=after)
    return change


def _assign_locked(actor: Actor, obj: Case | Alert, assignee: StaffUser | None, now: datetime) -> bool:
    if obj.assignee_id == (assignee.pk if assignee is not None else None):
        return False
    before = _state(obj)
    obj.assignee = assignee
    _touch(obj, now)
    obj.save(update_fields=["assignee", "version", "updated_at"])
    if assignee is not None:
        Assignment.objects.create(
            case=obj if isinstance(obj, Case) else None,
            alert=obj if isinstance(obj, Alert) else None,
            assignee=assignee,
            assigned_by=_acting_user(actor),
            created_at=now,
        )
    audit_log(actor=actor, action=AuditTrail.Action.UPDATE, instance=obj, before=before, after=_state(obj))
    return True


def _closed_case_conflict(case: Case) -> ConflictError:
    return ConflictError(
        f"Case {case.case_id} is CLOSED; reopen it before adding or reopening alerts.",
        errors={"caseId": [f"Case {case.case_id} is CLOSED."]},
    )
