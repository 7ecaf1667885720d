"""Seed 004 "Case - List": every filter, every sort, paging, and bad values (issue 5)."""

from datetime import UTC, datetime

import pytest

from cases import services
from tests.cases.conftest import SYSTEM, make_alert, make_case
from tests.transactions.conftest import properties
from users.api.user_serializers.fields import millis

pytestmark = pytest.mark.django_db

URL = "/api/management/cases"
# The seed's request as sent: every parameter without a value.
SEED_URL = (
    "/api/management/cases?start&pageSize&sortBy&sortOrder&filterCaseStatus&filterPriority"
    "&filterCaseSource&filterAfterCreatedTimestamp&filterBeforeCreatedTimestamp"
)


def at(day: int) -> datetime:
    return datetime(2024, 12, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def cases(db):
    """Four cases on four days: statuses, priorities and sources all different."""
    a = make_case(case_id="C-A", priority="P3", source="MANUAL", created_at=at(1))
    b = make_case(case_id="C-B", priority="P1", source="RULE", created_at=at(2))
    c = make_case(case_id="C-C", priority="P4", source="SCREENING", created_at=at(3))
    d = make_case(case_id="C-D", priority="P2", source="REVIEW", created_at=at(4))
    services.case_status_change(actor=SYSTEM, case=b, status="IN_PROGRESS")
    services.case_status_change(actor=SYSTEM, case=c, status="CLOSED", reason="False positive")
    services.case_status_change(actor=SYSTEM, case=d, status="ON_HOLD")
    return a, b, c, d


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["caseId"] for item in response.json()["data"]]


def test_the_seed_request_lists_every_case_newest_first(analyst_client, cases):
    response = analyst_client.get(SEED_URL)
    assert ids(response) == ["C-D", "C-C", "C-B", "C-A"]
    assert response.json()["total"] == 4
    item = response.json()["data"][0]
    assert item["createdTimestamp"] == millis(at(4))
    assert item["status"] == "ON_HOLD"
    assert item["caseSource"] == "REVIEW"
    assert item["priority"] == "P2"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filterCaseStatus=OPEN", ["C-A"]),
        ("filterCaseStatus=OPEN,ON_HOLD", ["C-D", "C-A"]),
        ("filterCaseStatus=CLOSED", ["C-C"]),
        ("filterCaseStatus=IN_REVIEW", []),  # the seed's list names it; this workflow has none
        ("filterPriority=P1", ["C-B"]),
        ("filterPriority=P1,P2", ["C-D", "C-B"]),
        ("filterCaseSource=MANUAL", ["C-A"]),
        ("filterCaseSource=RULE", ["C-B"]),
        ("filterCaseSource=SYSTEM", ["C-D", "C-C", "C-B"]),
        ("filterCaseSource=EXTERNAL", []),
        (f"filterAfterCreatedTimestamp={millis(at(3))}", ["C-D", "C-C"]),
        (f"filterBeforeCreatedTimestamp={millis(at(3))}", ["C-B", "C-A"]),
        (
            f"filterAfterCreatedTimestamp={millis(at(2))}&filterBeforeCreatedTimestamp={millis(at(4))}",
            ["C-C", "C-B"],
        ),
        (f"filterAfterCreatedTimestamp={millis(at(2))}.5", ["C-D", "C-C", "C-B"]),  # a double
        ("filterCaseStatus=OPEN,IN_PROGRESS,ON_HOLD&filterPriority=P1,P3", ["C-B", "C-A"]),
    ],
)
def test_filters(analyst_client, cases, query, expected):
    response = analyst_client.get(f"{URL}?{query}")
    assert ids(response) == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["C-D", "C-C", "C-B", "C-A"]),
        ("sortBy=createdTimestamp&sortOrder=asc", ["C-A", "C-B", "C-C", "C-D"]),
        ("sortBy=createdTimestamp&sortOrder=desc", ["C-D", "C-C", "C-B", "C-A"]),
        ("sortBy=priority&sortOrder=asc", ["C-B", "C-D", "C-A", "C-C"]),
        ("sortBy=priority&sortOrder=descend", ["C-C", "C-A", "C-D", "C-B"]),
        ("sortBy=caseId&sortOrder=ascend", ["C-A", "C-B", "C-C", "C-D"]),
        ("sortBy=caseId", ["C-D", "C-C", "C-B", "C-A"]),
        ("sortBy=status&sortOrder=asc", ["C-C", "C-B", "C-D", "C-A"]),
        # updatedAt: the changes above touched B, C, D in that order after all were created.
        ("sortBy=updatedAt&sortOrder=desc", ["C-D", "C-C", "C-B", "C-A"]),
    ],
)
def test_sorts(analyst_client, cases, query, expected):
    assert ids(analyst_client.get(f"{URL}?{query}")) == expected


def test_paging_from_start(analyst_client, cases):
    response = analyst_client.get(f"{URL}?sortBy=caseId&sortOrder=asc&start=1&pageSize=2")
    assert ids(response) == ["C-B", "C-C"]
    assert response.json()["total"] == 4
    assert ids(analyst_client.get(f"{URL}?sortBy=caseId&sortOrder=asc&start=3&pageSize=2")) == ["C-D"]
    assert ids(analyst_client.get(f"{URL}?start=10")) == []


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("start=-1", "start"),
        ("start=abc", "start"),
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("sortBy=name", "sortBy"),
        ("sortOrder=up", "sortOrder"),
        ("filterCaseStatus=DONE", "filterCaseStatus"),
        ("filterCaseStatus=OPEN,DONE", "filterCaseStatus"),
        ("filterPriority=P5", "filterPriority"),
        ("filterCaseSource=ROBOT", "filterCaseSource"),
        ("filterAfterCreatedTimestamp=yesterday", "filterAfterCreatedTimestamp"),
        ("filterBeforeCreatedTimestamp=1e400", "filterBeforeCreatedTimestamp"),
        ("filterBeforeCreatedTimestamp=NaN", "filterBeforeCreatedTimestamp"),
    ],
)
def test_bad_values_are_400s_naming_the_parameter(analyst_client, query, param):
    response = analyst_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert properties(response) == {param}


def test_the_list_costs_a_fixed_number_of_queries(analyst_client, django_assert_num_queries):
    for _ in range(5):
        case = make_case()
        make_alert(case)
        make_alert(case)
    # auth: token, its last use, user and group permissions (4); then the count and the page
    with django_assert_num_queries(6):
        response = analyst_client.get(f"{URL}?pageSize=100")
    assert len(response.json()["data"]) == 5
    assert {item["alertCount"] for item in response.json()["data"]} == {2}
    assert {item["openAlertCount"] for item in response.json()["data"]} == {2}
