"""Issue 5, point 7: the cases dashboard (open cases by priority and age, alerts per day over the last
30 days as a server-drawn SVG chart, the oldest open cases), linked from the admin index."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from compliance.audit import Actor
from tests.cases import screens_fixtures
from tests.cases.conftest import make_alert, make_case
from tests.cases.screens_fixtures import DASHBOARD

pytestmark = pytest.mark.django_db

login = screens_fixtures.login


def _at(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def book():
    """Open cases of each priority and age, one closed case, alerts over 31 days."""
    cases = {
        "p1-new": make_case(case_id="C-P1-NEW", priority="P1", created_at=_at(0.1)),
        "p1-week": make_case(case_id="C-P1-WEEK", priority="P1", created_at=_at(3)),
        "p2-month": make_case(case_id="C-P2-MONTH", priority="P2", created_at=_at(12)),
        "p4-old": make_case(case_id="C-P4-OLD", priority="P4", created_at=_at(45)),
        "p4-older": make_case(case_id="C-P4-OLDER", priority="P4", created_at=_at(60)),
        "closed": make_case(case_id="C-CLOSED", priority="P1", created_at=_at(90)),
    }
    services.case_status_change(
        actor=Actor.system_actor("tests"), case=cases["closed"], status="CLOSED", reason="False positive"
    )
    # Early in each day (UTC, the project's time zone): the right day whatever the time of the run.
    early = timezone.make_aware(datetime.combine(timezone.localdate(), time.min)) + timedelta(seconds=1)
    # Alerts keep their case's priority low enough not to change the table above.
    for days_ago, count in ((0, 1), (1, 2), (29, 3), (30, 4)):
        for _ in range(count):
            make_alert(cases["p4-old"], priority="P4", created_at=early - timedelta(days=days_ago))
    return cases


def test_open_cases_by_priority_and_age(login, analyst, book):
    page = login(analyst).get(DASHBOARD)
    assert page.status_code == 200
    table = {row["priority"]: [cell["count"] for cell in row["cells"]] for row in page.context["table"]}
    totals = {row["priority"]: row["total"] for row in page.context["table"]}
    #                 < 1 d, 1-7 d, 7-30 d, > 30 d
    assert table == {"P1": [1, 1, 0, 0], "P2": [0, 0, 1, 0], "P3": [0, 0, 0, 0], "P4": [0, 0, 0, 2]}
    assert totals == {"P1": 2, "P2": 1, "P3": 0, "P4": 2}
    assert page.context["totals"]["total"] == 5  # the closed case is not open work
    html = page.content.decode()
    assert "?priority=P4&amp;age=gt30d" in html  # each count opens the queue filtered to it


def test_alerts_per_day_chart_over_the_last_30_days(login, analyst, book):
    page = login(analyst).get(DASHBOARD)
    chart = page.context["chart"]
    assert len(chart["bars"]) == 30
    assert chart["bars"][-1]["day"] == timezone.localdate()
    counts = [bar["count"] for bar in chart["bars"]]
    assert counts[-1] == 1
    assert counts[-2] == 2
    assert counts[0] == 3
    assert chart["total"] == 6
    assert chart["peak"] == 3
    assert max(bar["height"] for bar in chart["bars"]) == chart["bars"][0]["height"] > 0
    html = page.content.decode()
    assert "<svg" in html
    assert html.count('class="cbo-bar"') == 30
    assert "<script" not in html.split('id="alerts-per-day"')[1].split("</svg>")[0]


def test_oldest_open_cases(login, analyst, book):
    page = login(analyst).get(DASHBOARD)
    oldest = [row["case"].case_id for row in page.context["oldest"]]
    assert oldest == ["C-P4-OLDER", "C-P4-OLD", "C-P2-MONTH", "C-P1-WEEK", "C-P1-NEW"]
    assert "60 d" in page.content.decode()


def test_the_dashboard_costs_a_few_queries_whatever_the_data(login, analyst, book):
    client = login(analyst)
    with CaptureQueriesContext(connection) as first:
        client.get(DASHBOARD)
    for n in range(12):
        make_alert(make_case(priority="P3", created_at=_at(n)), priority="P3", created_at=_at(n))
    with CaptureQueriesContext(connection) as second:
        page = client.get(DASHBOARD)
    assert len(page.context["oldest"]) == 10
    assert len(second) == len(first) <= 9


def test_the_admin_index_links_the_screens_for_those_who_may_see_them(client, login, analyst, outsider):
    index = login(analyst).get("/admin/").content.decode()
    assert 'id="analyst-screens"' in index
    assert DASHBOARD in index
    assert "/admin/cases/case/?tab=mine" in index
    index = login(outsider).get("/admin/").content.decode()
    assert 'id="analyst-screens"' not in index
    assert client.get(DASHBOARD).status_code == 403


def test_an_empty_dashboard_renders(login, approver):
    page = login(approver).get(DASHBOARD)
    assert page.status_code == 200
    assert page.context["totals"]["total"] == 0
    assert page.context["chart"]["peak"] == 0
    assert "No open case." in page.content.decode()
