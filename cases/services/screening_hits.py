"""SANCTIONS alerts from screening hits (`screening.hit_found` / `screening.hit_reviewed`, via
`cases.handlers`; issue 6).

Grouping (decided): **one open SANCTIONS alert per (customer's open case, watchlist source)**.
An analyst reviews a customer's matches against one list together, and the list decides the
priority, so every hit of a source lands in the same alert while it is open: the alert's
`screening_details` holds one `hits` item and one seed-shaped `sanctionsDetails` item per
screening risk. The alert is keyed by `rule_instance_ref = "screening:<source code>"`; the
case lock taken by `_case_for_entity` serialises concurrent writers (a lost race opening the
case is retried, as for rule hits).

Priority (decided): sanctions lists P1, PEP lists P2, every other kind (watchlist, adverse
media, internal) P3 (`priority_for_source_kind`). The case's priority follows its alerts.

Idempotency: a hit is identified by its screening risk id (`screeningRiskId`) and what it was
raised for: the md5 of the list entry's content the risk row holds (the users app raises a
hit again only when its entry changed, `users.screening.hits.record_hits`), or, for a row
without an md5, the import run that raised it (`importRunId`, null for customer screening).
A redelivered event (or the same hit published twice) carries the same pair and changes
nothing. A hit already in an open alert and raised again for new content refreshes that item
(score, explanation, back to PENDING), never duplicates it; a hit raised again whose alerts
are all closed opens a new alert.

`screening_details` (shown as `entityDetails.screeningDetails` by the alert API, and as a
table on the case page):

    {"sanctionsDetails": [{name, searchId, entityType, sanctionHitIds, hitContext{entity: USER,
                           entityType, userId, yearOfBirth, searchTerm}, isRuleHit: false}],
     "isOngoingScreeningHit": bool,        # any of its hits was found by ongoing screening
     "source": {"code", "name", "kind"},
     "hits": [{screeningRiskId, entryId, externalId, sourceCode, sourceKind, list, entitySchema,
               searchedName, matchedName, score, explanation, isOngoingScreeningHit,
               status: PENDING|CONFIRMED|DISMISSED, raisedBy: [importRunId...], raises: [key...],
               reviewedBy}]}

Reviews (`screening_hit_reviewed`), decided:
- DISMISSED: the hit is marked dismissed in its alert(s); an open alert whose hits are all
  dismissed is closed with reason "False positive" through `alert_status_change` (the case
  stays open: closing it is the analyst's decision).
- CONFIRMED: the hit is marked confirmed and a comment on the alert names who confirmed it.
- PENDING (a review undone): the hit is marked pending; an alert that was closed by the
  dismissal of its hits (its last status change is our "False positive" close) is reopened
  when its case is still open. When the case was closed meanwhile nothing reopens: reopening
  a case is the analyst's decision (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Alert, AlertEntityType, CasePriority, CaseSource, CaseStatus, StatusReason
from cases.services.alerts import _alert_insert, alert_status_change
from cases.services.cases import case_comment
from cases.services.rule_hits import RACE_ATTEMPTS, _case_for_entity
from cases.services.workflow import (
    _lock_alert,
    _lock_case,
    _ms,
    _publish_alert_opened,
    _publish_case_opened,
    _refresh_case_priority,
    _touch,
)
from compliance.audit import Actor, audit_log
from compliance.errors import ConflictError
from compliance.models import AuditTrail
from users.models import Customer, WatchlistSource

logger = logging.getLogger(__name__)

SCREENING_HIT_REASON = "Screening hit"
DISMISSED_COMMENT = "Every screening hit of this alert was dismissed."
REVIEW_STATUSES = ("CONFIRMED", "DISMISSED", "PENDING")

_PRIORITY_BY_KIND = {"SANCTIONS": CasePriority.P1, "PEP": CasePriority.P2}


def priority_for_source_kind(kind: str) -> str:
    """Sanctions P1, PEP P2, anything else (watchlist, adverse media, internal) P3."""
    return _PRIORITY_BY_KIND.get(str(kind or "").upper(), CasePriority.P3)


def _ref(source_code: str) -> str:
    return f"screening:{source_code}"[:40]


def _risk_key(value) -> str:
    return str(value if value is not None else "")


def _entity_type(customer: Customer) -> str:
    return "BUSINESS_NAME" if customer.is_organisation else "CONSUMER_NAME"


def _raise_key(hit: Mapping) -> str:
    """What this raise of the hit is about: the entry content's md5 its row holds, else the run."""
    from users.models import ScreeningRisk

    md5 = hit.get("md5") or (
        ScreeningRisk.objects.filter(pk=hit.get("screeningRiskId")).values_list("md5", flat=True).first()
        if str(hit.get("screeningRiskId") or "").isdigit()
        else None
    )
    return f"md5:{md5}" if md5 else f"run:{hit.get('importRunId')}"


def _hit_item(customer: Customer, hit: Mapping, source: WatchlistSource | None) -> dict:
    return {
        "screeningRiskId": _risk_key(hit.get("screeningRiskId")),
        "entryId": hit.get("entryId"),
        "externalId": str(hit.get("externalId") or ""),
        "sourceCode": str(hit.get("sourceCode") or ""),
        "sourceKind": str(hit.get("sourceKind") or ""),
        "list": source.name if source is not None else str(hit.get("sourceCode") or ""),
        "entitySchema": str(hit.get("entitySchema") or ""),
        "searchedName": str(hit.get("searchedName") or ""),
        "matchedName": str(hit.get("matchedName") or ""),
        "score": hit.get("score"),
        "explanation": hit.get("explanation") or "",
        "isOngoingScreeningHit": bool(hit.get("isOngoingScreeningHit")),
        "status": "PENDING",
        "raisedBy": [hit.get("importRunId")],
        "raises": [_raise_key(hit)],
        "reviewedBy": "",
    }


def _sanctions_item(customer: Customer, item: Mapping) -> dict:
    """The seed 002 `ruleHitMeta.sanctionsDetails` item for one hit."""
    entity_type = _entity_type(customer)
    return {
        "name": item["searchedName"],
        "searchId": item["screeningRiskId"],
        "entityType": entity_type,
        "sanctionHitIds": [item["externalId"]] if item["externalId"] else [],
        "hitContext": {
            "entity": "USER",
            "entityType": entity_type,
            "userId": customer.external_ref,
            "yearOfBirth": customer.date_birth.year if customer.date_birth else None,
            "searchTerm": item["searchedName"],
        },
        "isRuleHit": False,
    }


def _details(customer: Customer, hits: list[dict], source: dict) -> dict:
    return {
        "sanctionsDetails": [_sanctions_item(customer, item) for item in hits],
        "isOngoingScreeningHit": any(item.get("isOngoingScreeningHit") for item in hits),
        "source": source,
        "hits": hits,
    }


def _customer_alerts(customer: Customer, **filters):
    return Alert.objects.filter(
        case__customer=customer, entity_type=AlertEntityType.SANCTIONS, **filters
    ).order_by("id")


def _holding(alerts, risk_id: str) -> list[Alert]:
    return [
        alert
        for alert in alerts
        if any(h.get("screeningRiskId") == risk_id for h in (alert.screening_details or {}).get("hits") or [])
    ]


def alert_open_from_screening_hit(
    *, actor: Actor, customer: Customer, screening_details: Mapping, priority: str | None = None
) -> Alert | None:
    """Put one screening hit (the `screening.hit_found` payload) into the SANCTIONS alert of
    its watchlist source in the customer's open case; opens the case (source SCREENING,
    reason "Screening hit") and the alert when there is none. `priority` defaults to the
    source kind's (`priority_for_source_kind`). Answers the alert, or None when nothing
    changed (a redelivered event). See the module docstring for grouping and idempotency."""
    hit = dict(screening_details)
    if priority is None:
        priority = priority_for_source_kind(hit.get("sourceKind", ""))
    for attempt in range(RACE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _open_from_screening_hit(actor, customer, hit, priority)
        except (IntegrityError, ConflictError):
            if attempt == RACE_ATTEMPTS - 1:
                raise
            logger.info("Lost a race opening a screening alert for customer %s; retrying", customer.pk)
    return None  # pragma: no cover


def _open_from_screening_hit(actor: Actor, customer: Customer, hit: dict, priority: str) -> Alert | None:
    risk_id = _risk_key(hit.get("screeningRiskId"))
    key = _raise_key(hit)
    source_code = str(hit.get("sourceCode") or "")
    holding = _holding(_customer_alerts(customer), risk_id)
    if any(key in item.get("raises", []) for a in holding for item in _items(a, risk_id)):
        return None  # a redelivered event: this raise of the hit is recorded already
    watchlist = WatchlistSource.objects.filter(code=source_code).first()
    source = {
        "code": source_code,
        "name": watchlist.name if watchlist is not None else source_code,
        "kind": str(hit.get("sourceKind") or (watchlist.kind if watchlist is not None else "")),
    }
    item = _hit_item(customer, hit, watchlist)
    comment = (
        f"{item['searchedName']} matched {item['matchedName']} on {source['name']} (score {item['score']})."
    )
    case, created = _case_for_entity(
        actor,
        {"customer": customer},
        source=CaseSource.SCREENING,
        priority=priority,
        reasons=[SCREENING_HIT_REASON],
        comment=comment,
    )
    now = timezone.now()
    alert = (
        Alert.objects.select_for_update()
        .filter(case=case, entity_type=AlertEntityType.SANCTIONS, rule_instance_ref=_ref(source_code))
        .exclude(status=CaseStatus.CLOSED)
        .order_by("id")
        .first()
    )
    if alert is not None:
        details = dict(alert.screening_details or {})
        hits = [dict(h) for h in details.get("hits") or []]
        existing = next((h for h in hits if h.get("screeningRiskId") == risk_id), None)
        if existing is not None:
            if key in existing.get("raises", []):
                return None  # recorded by a concurrent delivery while we waited for the case lock
            item["raisedBy"] = [*existing.get("raisedBy", []), *item["raisedBy"]]
            item["raises"] = [*existing.get("raises", []), key]
            existing.update(item)  # new content: back to PENDING for the analysts
        else:
            hits.append(item)
        before = {"screeningDetails": alert.screening_details, "version": alert.version}
        alert.screening_details = _details(customer, hits, details.get("source") or source)
        _touch(alert, now)
        alert.save(update_fields=["screening_details", "version", "updated_at"])
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=alert,
            before=before,
            after={"screeningDetails": alert.screening_details, "version": alert.version},
        )
        return alert
    fields = {
        "priority": priority,
        "entity_type": AlertEntityType.SANCTIONS,
        "screening_details": _details(customer, [item], source),
        "rule_instance_ref": _ref(source_code),
        "rule_id": "SCREENING",
        "rule_name": f"Screening: {source['name']}"[:300],
        "rule_description": f"The customer's names matched entries of {source['name']} ({source['kind']}).",
        "rule_nature": "SCREENING",
        "creation_reason": {"reasons": [SCREENING_HIT_REASON], "comment": comment, "timestamp": _ms(now)},
    }
    with transaction.atomic():
        alert = _alert_insert(actor, case, fields, [])
    if created:
        _publish_case_opened(actor, case, reasons=[SCREENING_HIT_REASON], comment=comment)
    else:
        _refresh_case_priority(actor, case, now)
    _publish_alert_opened(actor, alert, case)
    return alert


def _items(alert: Alert, risk_id: str) -> list[dict]:
    return [
        h for h in (alert.screening_details or {}).get("hits") or [] if h.get("screeningRiskId") == risk_id
    ]


def _reviewer(payload: Mapping) -> str:
    """Who reviewed the hit: the payload's `reviewedBy` when the publisher names it, else the
    review the users app recorded on the row (`match.review.by`), else the actor of the latest
    audited change of the customer's screening risks (the review writes one), else "an analyst"."""
    if payload.get("reviewedBy"):
        return str(payload["reviewedBy"])
    from users.models import ScreeningRisk

    risk_id = str(payload.get("screeningRiskId") or "")
    row = ScreeningRisk.objects.filter(pk=risk_id).only("match").first() if risk_id.isdigit() else None
    review = (row.match or {}).get("review") if row is not None else None
    if isinstance(review, dict) and review.get("by") and review.get("status") == payload.get("status"):
        return str(review["by"])
    entry = (
        AuditTrail.objects.filter(
            object_type=Customer._meta.label_lower,
            object_id=str(payload.get("customerId")),
            action=AuditTrail.Action.UPDATE,
            after__has_key="screeningRisks",  # the review's own audit row
        )
        .order_by("-id")
        .first()
    )
    if entry is not None and entry.actor_label:
        return entry.actor_label
    return "an analyst"


def screening_hit_reviewed(*, actor: Actor, customer: Customer, payload: Mapping) -> list[Alert]:
    """Apply an analyst's review of a screening hit (the `screening.hit_reviewed` payload) to
    the SANCTIONS alerts holding it (see the module docstring). Answers the alerts changed."""
    status = str(payload.get("status") or "").upper()
    if status not in REVIEW_STATUSES:
        logger.warning("Screening review with unknown status %r ignored", payload.get("status"))
        return []
    risk_id = _risk_key(payload.get("screeningRiskId"))
    reviewer = _reviewer(payload) if status != "PENDING" else ""
    changed: list[Alert] = []
    for candidate in _holding(_customer_alerts(customer), risk_id):
        with transaction.atomic():
            case = _lock_case(candidate.case_id)  # the case first, then its alert (the services' order)
            alert = _lock_alert(candidate.pk)
            alert.case = case
            details = dict(alert.screening_details or {})
            hits = [dict(h) for h in details.get("hits") or []]
            previous = None
            for item in hits:
                if item.get("screeningRiskId") == risk_id:
                    previous = item.get("status", "PENDING")
                    item["status"] = status
                    item["reviewedBy"] = reviewer
            if previous == status:
                continue  # a redelivered review
            before = {"screeningDetails": alert.screening_details, "version": alert.version}
            alert.screening_details = {**details, "hits": hits}
            _touch(alert, timezone.now())
            alert.save(update_fields=["screening_details", "version", "updated_at"])
            audit_log(
                actor=actor,
                action=AuditTrail.Action.UPDATE,
                instance=alert,
                before=before,
                after={"screeningDetails": alert.screening_details, "version": alert.version},
            )
            changed.append(alert)
            _after_review(actor, alert, hits, status, reviewer, payload)
    return changed


def _after_review(actor: Actor, alert: Alert, hits: list[dict], status: str, reviewer: str, payload) -> None:
    matched = next(
        (h for h in hits if h.get("screeningRiskId") == _risk_key(payload.get("screeningRiskId"))), {}
    )
    if status == "DISMISSED":
        if alert.status != CaseStatus.CLOSED and all(h.get("status") == "DISMISSED" for h in hits):
            alert_status_change(
                actor=actor,
                alert=alert,
                status=CaseStatus.CLOSED,
                reason=StatusReason.FALSE_POSITIVE,
                comment=DISMISSED_COMMENT,
            )
    elif status == "CONFIRMED":
        case_comment(
            actor=actor,
            case=alert.case,
            alert=alert,
            body=(
                f"Screening hit confirmed by {reviewer}: {matched.get('matchedName', '')} on "
                f"{matched.get('list', '')} (screening risk {matched.get('screeningRiskId', '')})."
            ),
        )
    elif status == "PENDING" and alert.status == CaseStatus.CLOSED and _closed_by_dismissal(alert):
        if alert.case.status == CaseStatus.CLOSED:
            logger.info(
                "Hit %s is pending again but case %s is closed: alert %s stays closed",
                payload.get("screeningRiskId"),
                alert.case.case_id,
                alert.alert_id,
            )
            return
        alert_status_change(
            actor=actor,
            alert=alert,
            status=CaseStatus.REOPENED,
            comment="A dismissed screening hit of this alert is pending review again.",
        )


def _closed_by_dismissal(alert: Alert) -> bool:
    last = alert.status_changes.order_by("-created_at", "-id").first()
    return (
        last is not None
        and last.to_status == CaseStatus.CLOSED
        and last.reason == StatusReason.FALSE_POSITIVE
        and last.comment == DISMISSED_COMMENT
    )


__all__ = [
    "SCREENING_HIT_REASON",
    "alert_open_from_screening_hit",
    "priority_for_source_kind",
    "screening_hit_reviewed",
]
