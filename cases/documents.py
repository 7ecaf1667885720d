"""Cases and alerts in the seed 004 shape (camelCase, epoch milliseconds): what the API answers.

`case_document` / `alert_document` read what `case_detail_queryset` / `alert_detail_queryset`
(cases.selectors) prefetch, so a detail costs a fixed number of queries whatever its history.
"""

from __future__ import annotations

from cases.models import Alert, Assignment, Case, CaseEntityType, Comment, File, StatusChange
from users.api.user_serializers.fields import millis


def _email(user) -> str | None:
    if user is None:
        return None
    return user.email or user.username


def file_document(f: File) -> dict:
    return {
        "s3Key": f.key,
        "filename": f.filename,
        "size": f.size,
        "contentType": f.content_type or None,
        "sha256": f.sha256,
        "uploadedTimestamp": millis(f.uploaded_at),
        "uploadedBy": _email(f.uploaded_by),
    }


def assignment_document(a: Assignment) -> dict:
    return {
        "assigneeEmail": _email(a.assignee),
        "assignedByEmail": _email(a.assigned_by),
        "timestamp": millis(a.created_at),
    }


def _files_by(files: list[File], attribute: str) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for f in files:
        key = getattr(f, attribute)
        if key is not None:
            grouped.setdefault(key, []).append(file_document(f))
    return grouped


def status_change_document(change: StatusChange, files: list[dict]) -> dict:
    return {
        "status": change.to_status,
        "previousStatus": change.from_status or None,
        "reason": change.reason or None,
        "otherReason": change.other_reason or None,
        "comment": change.comment or None,
        "timestamp": millis(change.created_at),
        "userEmail": _email(change.actor),
        "actor": change.actor_label,
        "files": files,
    }


def comment_document(comment: Comment, files: list[dict]) -> dict:
    return {
        "id": comment.pk,
        "body": comment.body,
        "alertId": comment.alert.alert_id if comment.alert_id else None,
        "userEmail": _email(comment.author),
        "author": comment.author_label,
        "timestamp": millis(comment.created_at),
        "files": files,
    }


def entity_details(case: Case) -> dict:
    if case.entity_type == CaseEntityType.PAYMENT:
        details = {key: value for key, value in (case.payment_details or {}).items() if key != "method"}
        return {
            "type": case.entity_type,
            "paymentDetails": {"method": case.payment_method, **details},
            "paymentIdentifier": case.payment_identifier or None,
        }
    return {"type": case.entity_type, "userId": case.user_ref}


def case_list_document(case: Case) -> dict:
    """A case in the list: what the queue shows (`alertCount` annotated by the selector)."""
    return {
        "caseId": case.case_id,
        "createdTimestamp": millis(case.created_at),
        "updatedAt": millis(case.updated_at),
        "priority": case.priority,
        "caseSource": case.source,
        "status": case.status,
        "statusTimestamp": millis(case.status_changed_at),
        "closedTimestamp": millis(case.closed_at),
        "entityDetails": entity_details(case),
        "assigneeEmail": _email(case.assignee),
        "alertCount": getattr(case, "alert_count", None),
        "openAlertCount": getattr(case, "open_alert_count", None),
        "tags": case.tags,
        "version": case.version,
    }


def alert_summary(alert: Alert) -> dict:
    return {
        "alertId": alert.alert_id,
        "status": alert.status,
        "priority": alert.priority,
        "createdTimestamp": millis(alert.created_at),
        "entityType": alert.entity_type,
        "transactionIds": alert.transaction_ids,
        "ruleId": alert.rule_id or None,
        "ruleInstanceId": alert.rule_instance_ref or None,
        "ruleName": alert.rule_name or None,
        "ruleAction": alert.rule_action or None,
        "assigneeEmail": _email(alert.assignee),
    }


def case_document(case: Case) -> dict:
    """A case with its alerts (summaries), status history, assignments, comments and files."""
    files = list(case.files.all())
    by_change = _files_by(files, "status_change_id")
    by_comment = _files_by(files, "comment_id")
    document = {
        **case_list_document(case),
        "creationReason": case.creation_reason or None,
        "relatedCases": case.related_cases,
        "assignments": [assignment_document(a) for a in case.assignments.all()],
        "alerts": [alert_summary(alert) for alert in case.alerts.all()],
        "statusChanges": [
            status_change_document(change, by_change.get(change.pk, []))
            for change in case.status_changes.all()
        ],
        "comments": [comment_document(c, by_comment.get(c.pk, [])) for c in case.comments.all()],
        "files": [file_document(f) for f in files],
    }
    document["alertCount"] = len(document["alerts"])
    document["openAlertCount"] = sum(1 for a in document["alerts"] if a["status"] != "CLOSED")
    return document


def alert_document(alert: Alert) -> dict:
    """An alert in the seed's shape, with its history, assignments, comments and files."""
    files = list(alert.files.all())
    by_change = _files_by(files, "status_change_id")
    by_comment = _files_by(files, "comment_id")
    entity = {"type": alert.entity_type, "transactionIds": alert.transaction_ids}
    if alert.screening_details:
        entity["screeningDetails"] = alert.screening_details
    return {
        "alertId": alert.alert_id,
        "caseId": alert.case.case_id,
        "createdTimestamp": millis(alert.created_at),
        "updatedAt": millis(alert.updated_at),
        "priority": alert.priority,
        "status": alert.status,
        "statusTimestamp": millis(alert.status_changed_at),
        "closedTimestamp": millis(alert.closed_at),
        "entityDetails": entity,
        "ruleDetails": {
            "id": alert.rule_id,
            "name": alert.rule_name,
            "action": alert.rule_action or None,
            "description": alert.rule_description,
            "instanceId": alert.rule_instance_ref,
            "nature": alert.rule_nature or None,
            "versionId": alert.rule_version_id or None,
        },
        "tags": alert.tags,
        "creationReason": alert.creation_reason or None,
        "assigneeEmail": _email(alert.assignee),
        "assignments": [assignment_document(a) for a in alert.assignments.all()],
        "statusChanges": [
            status_change_document(change, by_change.get(change.pk, []))
            for change in alert.status_changes.all()
        ],
        "comments": [comment_document(c, by_comment.get(c.pk, [])) for c in alert.comments.all()],
        "files": [file_document(f) for f in files],
        "version": alert.version,
    }
