"""The cases dashboard (a view of `CaseAdmin`, cases.admin): open cases by priority and age bucket,
alerts per day over the last 30 days as a bar chart drawn on the server (inline SVG: no script, no
CDN), and the oldest open cases. Each part is one aggregate query, whatever the number of cases.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from cases.admin import (
    AGE_BUCKETS,
    OPEN_STATUSES,
    QUEUE_COLUMNS,
    age_text,
    entity_column,
    priority_badge,
    status_badge,
)
from cases.models import Alert, Case, CasePriority

CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM = 760, 220, 36, 28


def open_cases_by_priority_and_age(now) -> tuple[list[dict], dict]:
    """One query: open cases counted per priority and age bucket."""
    buckets = {}
    for key, _, at_least, younger_than in AGE_BUCKETS:
        condition = Q(created_at__lte=now - timedelta(days=at_least))
        if younger_than is not None:
            condition &= Q(created_at__gt=now - timedelta(days=younger_than))
        buckets[key.replace("-", "_")] = Count("pk", filter=condition)
    rows = {
        row["priority"]: row
        for row in Case.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values("priority")
        .annotate(total=Count("pk"), **buckets)
    }
    table, totals = [], {"total": 0, **dict.fromkeys(buckets, 0)}
    for priority in CasePriority.values:
        row = rows.get(priority, {})
        cells = [
            {"count": row.get(key, 0), "query": f"priority={priority}&age={bucket[0]}"}
            for key, bucket in zip(buckets, AGE_BUCKETS, strict=True)
        ]
        table.append({"priority": priority, "cells": cells, "total": row.get("total", 0)})
        totals["total"] += row.get("total", 0)
        for key in buckets:
            totals[key] += row.get(key, 0)
    totals["cells"] = [totals[key] for key in buckets]
    return table, totals


def alerts_per_day(today) -> list[dict]:
    """One query: alerts created on each of the last CHART_DAYS days (today included)."""
    first = today - timedelta(days=CHART_DAYS - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    counts = dict(
        Alert.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return [
        {"day": first + timedelta(days=i), "count": counts.get(first + timedelta(days=i), 0)}
        for i in range(CHART_DAYS)
    ]


def bar_chart(days: list[dict]) -> dict:
    """Geometry of the inline SVG bar chart (server-side: no script, no CDN)."""
    peak = max((d["count"] for d in days), default=0)
    scale_max = max(peak, 1)
    plot_width = CHART_WIDTH - CHART_LEFT - 8
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 10
    slot = plot_width / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = round(plot_height * day["count"] / scale_max, 1)
        x = round(CHART_LEFT + index * slot + slot * 0.15, 1)
        bars.append(
            {
                "x": x,
                "y": round(10 + plot_height - height, 1),
                "width": round(slot * 0.7, 1),
                "height": height,
                "count": day["count"],
                "day": day["day"],
                "label": index % 5 == 0 or index == len(days) - 1,
                "label_x": round(x + slot * 0.35, 1),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "baseline": 10 + plot_height,
        "top": 10,
        "right": CHART_WIDTH - 8,
        "label_y": CHART_HEIGHT - 10,
        "axis_label_x": CHART_LEFT - 4,
        "peak_label_y": 14,
        "peak": peak,
        "total": sum(d["count"] for d in days),
        "bars": bars,
    }


def dashboard(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    table, totals = open_cases_by_priority_and_age(now)
    days = alerts_per_day(timezone.localdate(now))
    oldest = list(
        Case.objects.filter(status__in=OPEN_STATUSES)
        .select_related("customer", "assignee")
        .only(*QUEUE_COLUMNS)
        .order_by("created_at", "id")[:10]
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Cases dashboard",
        "opts": model_admin.opts,
        "app_label": model_admin.opts.app_label,
        "table": table,
        "totals": totals,
        "age_labels": [label for _, label, _, _ in AGE_BUCKETS],
        "chart": bar_chart(days),
        "oldest": [
            {
                "case": case,
                "url": reverse("admin:cases_case_change", args=[case.pk]),
                "priority": priority_badge(case.priority),
                "status": status_badge(case.status),
                "entity": entity_column(case),
                "age": age_text(case.created_at, now),
            }
            for case in oldest
        ],
        "queue_url": reverse("admin:cases_case_changelist"),
        "media": model_admin.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/cases/case/dashboard.html", context)
