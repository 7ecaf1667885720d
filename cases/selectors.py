"""Reads of the cases app: the case list (filters and sorts of seed 004's "Case - List") and the
detail querysets that load what `cases.documents` shows in a fixed number of queries."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cases.models import Alert, Assignment, Case, CaseStatus, Comment, File, StatusChange

# `sortBy` value -> model field; every order ends with the id so pages never overlap.
SORT_FIELDS = {
    "createdTimestamp": "created_at",
    "updatedAt": "updated_at",
    "caseId": "case_id",
    "priority": "priority",
    "status": "status",
}


@dataclasses.dataclass(frozen=True)
class CaseListQuery:
    # None: not filtered on; a sequence (possibly empty, matching nothing): one of these.
    statuses: Sequence[str] | None = None
    priorities: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    sort_by: str = "createdTimestamp"
    descending: bool = True


def _alert_count(alerts: QuerySet[Alert]):
    counted = alerts.filter(case=OuterRef("pk")).order_by().values("case").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted), 0)


def case_list(query: CaseListQuery) -> QuerySet[Case]:
    """Cases matching the query, sorted (ties by id), with their assignee and alert counts.

    `created_after` is inclusive, `created_before` exclusive. Sorting by priority ascending puts
    P1 first."""
    cases = Case.objects.select_related("assignee")
    if query.statuses is not None:
        cases = cases.filter(status__in=query.statuses)
    if query.priorities is not None:
        cases = cases.filter(priority__in=query.priorities)
    if query.sources is not None:
        cases = cases.filter(source__in=query.sources)
    if query.created_after is not None:
        cases = cases.filter(created_at__gte=query.created_after)
    if query.created_before is not None:
        cases = cases.filter(created_at__lt=query.created_before)
    # Counted by subqueries, not a join: the page's count() then drops them (no GROUP BY over
    # every case and alert).
    cases = cases.annotate(
        alert_count=_alert_count(Alert.objects.all()),
        open_alert_count=_alert_count(Alert.objects.exclude(status=CaseStatus.CLOSED)),
    )
    field = SORT_FIELDS[query.sort_by]
    sign = "-" if query.descending else ""
    return cases.order_by(f"{sign}{field}", f"{sign}id")


def _history_prefetches() -> list:
    return [
        Prefetch(
            "status_changes",
            queryset=StatusChange.objects.select_related("actor").order_by("created_at", "id"),
        ),
        Prefetch(
            "assignments",
            queryset=Assignment.objects.select_related("assignee", "assigned_by").order_by(
                "created_at", "id"
            ),
        ),
        Prefetch(
            "comments",
            queryset=Comment.objects.select_related("author", "alert").order_by("created_at", "id"),
        ),
        Prefetch("files", queryset=File.objects.select_related("uploaded_by").order_by("uploaded_at", "id")),
    ]


def case_detail_queryset() -> QuerySet[Case]:
    """Cases with everything the case document shows: 1 query for the case (and its assignee),
    one each for alerts (with their assignees), status changes, assignments, comments, files."""
    return Case.objects.select_related("assignee").prefetch_related(
        Prefetch("alerts", queryset=Alert.objects.select_related("assignee").order_by("created_at", "id")),
        *_history_prefetches(),
    )


def alert_detail_queryset() -> QuerySet[Alert]:
    """Alerts with their case, assignee and history: 1 query plus one per history list."""
    return Alert.objects.select_related("case", "assignee").prefetch_related(*_history_prefetches())


def case_by_ref(case_id: str) -> Case | None:
    return case_detail_queryset().filter(case_id=case_id).first()


def alert_by_ref(alert_id: str) -> Alert | None:
    return alert_detail_queryset().filter(alert_id=alert_id).first()
