"""Case writes: open, move along the workflow (closing closes the open alerts), assign,
comment, and the queue's bulk assign and bulk close."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import (
    Alert,
    Case,
    CaseEntityType,
    CasePriority,
    CaseStatus,
    Comment,
    File,
    StatusChange,
    StatusReason,
)
from cases.services.workflow import (
    _acting_user,
    _assign_locked,
    _attach,
    _change_status,
    _check_status_request,
    _check_version,
    _claim_files,
    _lock_case,
    _publish_alert_closed,
    _publish_case_closed,
    _publish_case_opened,
    _record_assignments,
    can_close_sar,
    new_case_id,
    transition_allowed,
)
from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError, ConflictError, ForbiddenError
from compliance.models import AuditTrail, StaffUser
from users.models import Customer


def _open_case_conflict(case: Case) -> ConflictError | None:
    """The 409 for a second open case of the same entity, naming the open one."""
    if case.customer_id:
        existing = Case.objects.filter(customer_id=case.customer_id).exclude(status=CaseStatus.CLOSED).first()
        if existing is not None:
            return ConflictError(
                f"User {case.user_ref} has an open case already: {existing.case_id}.",
                errors={"entityDetails.userId": [f"Has an open case already: {existing.case_id}."]},
            )
    if case.payment_identifier:
        existing = (
            Case.objects.filter(payment_identifier=case.payment_identifier)
            .exclude(status=CaseStatus.CLOSED)
            .first()
        )
        if existing is not None:
            return ConflictError(
                f"Payment instrument {case.payment_identifier} has an open case already: {existing.case_id}.",
                errors={"entityDetails.paymentDetails": [f"Has an open case already: {existing.case_id}."]},
            )
    return None


def _case_from_fields(fields: dict) -> Case:
    fields = dict(fields)
    fields.pop("assignments", None)
    for name in ("status", "closed_at", "version", "assignee"):
        fields.pop(name, None)
    case = Case(**fields)
    if not case.case_id:
        case.case_id = new_case_id()
    now = timezone.now()
    case.created_at = case.created_at or now
    case.status_changed_at = now
    case.updated_at = now
    if case.entity_type == CaseEntityType.USER:
        if case.customer is None:
            customer = Customer.objects.filter(external_ref=case.user_ref).first() if case.user_ref else None
            if customer is None:
                problem = f"Unknown user {case.user_ref}." if case.user_ref else "Required for a USER case."
                raise ApplicationError(errors={"entityDetails.userId": [problem]})
            case.customer = customer
        case.user_ref = case.customer.external_ref
        case.payment_identifier = ""
    elif case.entity_type == CaseEntityType.PAYMENT:
        if not case.payment_method:
            raise ApplicationError(
                errors={"entityDetails.paymentDetails.method": ["Required for a PAYMENT case."]}
            )
        case.customer = None
        case.user_ref = ""
    else:
        raise ApplicationError(errors={"entityDetails.type": [f"One of {', '.join(CaseEntityType)}."]})
    if case.priority not in CasePriority.values:
        raise ApplicationError(errors={"priority": [f"One of {', '.join(CasePriority)}."]})
    return case


def _case_insert(actor: Actor, fields: dict, *, publish: bool = True) -> Case:
    """Create a case in the caller's transaction (the caller handles IntegrityError)."""
    case = _case_from_fields(fields)
    if Case.objects.filter(case_id=case.case_id).exists():
        raise ConflictError(
            f"Case {case.case_id} exists already.", errors={"caseId": ["Already used by another case."]}
        )
    conflict = _open_case_conflict(case)
    if conflict is not None:
        raise conflict
    case.full_clean(validate_unique=False, validate_constraints=False)
    case.save()
    case.assignee = _record_assignments(actor, fields.get("assignments"), case=case)
    if case.assignee is not None:
        Case.objects.filter(pk=case.pk).update(assignee=case.assignee)
    reason = case.creation_reason or {}
    StatusChange.objects.create(
        case=case,
        from_status="",
        to_status=case.status,
        comment=str(reason.get("comment") or ""),
        actor=_acting_user(actor),
        actor_label=actor.label[:200],
    )
    audit_log(actor=actor, action=AuditTrail.Action.CREATE, instance=case, after=snapshot(case))
    if publish:
        _publish_case_opened(
            actor, case, reasons=list(reason.get("reasons") or []), comment=str(reason.get("comment") or "")
        )
    return case


def case_create(*, actor: Actor, fields: dict) -> Case:
    """Open a case (manual, API or review). `fields` are model field names, plus
    `assignments`: `[(assignee, assigned_by, at)]`. A USER case names its customer
    (`customer`, or `user_ref`, 400 naming `entityDetails.userId` when unknown); a PAYMENT case
    its `payment_method`. A used `case_id` or a second open case of the entity is a 409."""
    try:
        with transaction.atomic():
            return _case_insert(actor, fields)
    except IntegrityError:
        # A concurrent request took the caseId or opened the entity's case first.
        case = _case_from_fields(fields)
        if Case.objects.filter(case_id=case.case_id).exists():
            raise ConflictError(
                f"Case {case.case_id} exists already.", errors={"caseId": ["Already used by another case."]}
            ) from None
        conflict = _open_case_conflict(case)
        if conflict is not None:
            raise conflict from None
        raise


def _close_open_alerts(actor: Actor, case: Case, *, reason: str, other_reason: str, comment: str, now) -> int:
    closed = 0
    for alert in (
        Alert.objects.select_for_update().filter(case=case).exclude(status=CaseStatus.CLOSED).order_by("id")
    ):
        change = _change_status(
            actor,
            alert,
            status=CaseStatus.CLOSED,
            reason=reason,
            other_reason=other_reason,
            comment=comment,
            now=now,
        )
        _publish_alert_closed(actor, alert, case, change)
        closed += 1
    return closed


def _case_status_change_locked(
    actor: Actor,
    case: Case,
    *,
    status: str,
    reason: str,
    other_reason: str,
    comment: str,
    files: list[File],
    now: datetime,
) -> StatusChange:
    if status == CaseStatus.CLOSED and reason == StatusReason.SAR and not can_close_sar(actor):
        raise ForbiddenError(
            "Closing a case as Suspicious activity reported (SAR) needs the approver role.",
            errors={"reason": ["Only an approver may close a case as SAR."]},
        )
    change = _change_status(
        actor, case, status=status, reason=reason, other_reason=other_reason, comment=comment, now=now
    )
    _attach(files, case=case, status_change=change)
    if status == CaseStatus.CLOSED:
        _close_open_alerts(actor, case, reason=reason, other_reason=other_reason, comment=comment, now=now)
        _publish_case_closed(actor, case, change)
    elif status == CaseStatus.REOPENED:
        _publish_case_opened(actor, case, reasons=[reason] if reason else [], comment=comment)
    return change


def case_status_change(
    *,
    actor: Actor,
    case: Case,
    status: str,
    reason: str = "",
    other_reason: str = "",
    comment: str = "",
    file_keys: Sequence[str] = (),
    expected_version: int | None = None,
) -> Case:
    """Move a case along the workflow (see the module docstring); closing closes its open alerts."""
    with transaction.atomic():
        locked = _lock_case(case.pk)
        _check_version(locked, expected_version)
        _check_status_request(current=locked.status, status=status, reason=reason, other_reason=other_reason)
        files = _claim_files(file_keys)
        _case_status_change_locked(
            actor,
            locked,
            status=status,
            reason=reason,
            other_reason=other_reason,
            comment=comment,
            files=files,
            now=timezone.now(),
        )
    return locked


def case_assign(
    *, actor: Actor, case: Case, assignee: StaffUser | None, expected_version: int | None = None
) -> Case:
    """Assign a case to a staff user (None: unassign). Assigning to the current assignee changes nothing."""
    with transaction.atomic():
        locked = _lock_case(case.pk)
        _check_version(locked, expected_version)
        _assign_locked(actor, locked, assignee, timezone.now())
    return locked


def case_comment(
    *, actor: Actor, case: Case, body: str, alert: Alert | None = None, file_keys: Sequence[str] = ()
) -> Comment:
    """Comment on a case (or one of its alerts), with files attached."""
    if not body or not body.strip():
        raise ApplicationError(errors={"body": ["A comment needs some text."]})
    if alert is not None and alert.case_id != case.pk:
        raise ApplicationError(errors={"alert": [f"Alert {alert} is not in case {case}."]})
    with transaction.atomic():
        locked = _lock_case(case.pk)
        files = _claim_files(file_keys)
        comment = Comment.objects.create(
            case=locked,
            alert=alert,
            author=_acting_user(actor),
            author_label=actor.label[:200],
            body=body,
            created_at=timezone.now(),
        )
        _attach(files, case=locked, alert=alert, comment=comment)
        audit_log(
            actor=actor,
            action=AuditTrail.Action.CREATE,
            instance=comment,
            object_repr=f"comment on {locked}",
            after={
                "case": locked.case_id,
                "alert": alert.alert_id if alert else None,
                "body": body,
                "files": [f.key for f in files],
            },
        )
    return comment


def cases_assign_bulk(*, actor: Actor, case_ids: Iterable[int], assignee: StaffUser) -> int:
    """Assign many cases (primary keys) to one person. Answers how many changed."""
    changed = 0
    with transaction.atomic():
        now = timezone.now()
        for case in Case.objects.select_for_update().filter(pk__in=list(case_ids)).order_by("id"):
            changed += _assign_locked(actor, case, assignee, now)
    return changed


def cases_close_bulk(
    *, actor: Actor, case_ids: Iterable[int], reason: str, other_reason: str = "", comment: str = ""
) -> int:
    """Close many cases (primary keys) with one reason, as one change (all or none): the closed
    ones are skipped. Answers how many were closed."""
    _check_status_request(
        current=CaseStatus.OPEN, status=CaseStatus.CLOSED, reason=reason, other_reason=other_reason
    )
    closed = 0
    with transaction.atomic():
        now = timezone.now()
        for case in Case.objects.select_for_update().filter(pk__in=list(case_ids)).order_by("id"):
            if not transition_allowed(case.status, CaseStatus.CLOSED):
                continue
            _case_status_change_locked(
                actor,
                case,
                status=CaseStatus.CLOSED,
                reason=reason,
                other_reason=other_reason,
                comment=comment,
                files=[],
                now=now,
            )
            closed += 1
    return closed
