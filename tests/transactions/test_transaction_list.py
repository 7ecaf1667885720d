"""GET /api/transactions: cursor paging, every filter, strict values, a fixed number of queries (issue 4)."""

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from tests.transactions.conftest import DESTINATION_ID, ORIGIN_ID, body, properties
from tests.users.conftest import create_customer

pytestmark = pytest.mark.django_db

THIRD_ID = "third-user"
T0 = 1733648901229  # the seed transaction's time
HOUR = 3600 * 1000


def amount(value, currency):
    return {"transactionAmount": value, "transactionCurrency": currency}


@pytest.fixture
def book(integrator_client, seed_users, instance):
    """Six transactions between three users; R-1 flags PHP 30k and more, EUR 1000 and more."""
    create_customer(ref=THIRD_ID)
    rule = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000, "EUR": 1000}})
    shadow = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 1}}, isShadow=True)
    rows = {
        "a": {"timestamp": T0, "originAmountDetails": amount(35000, "PHP")},  # hit
        "b": {"timestamp": T0 + HOUR, "type": "DEPOSIT", "originAmountDetails": amount(100, "PHP")},
        "c": {
            "timestamp": T0 + 2 * HOUR,
            "transactionState": "SUCCESSFUL",
            "originAmountDetails": amount(1500.5, "EUR"),  # hit
        },
        "d": {
            "timestamp": T0 + 3 * HOUR,
            "originUserId": DESTINATION_ID,
            "destinationUserId": THIRD_ID,
            "originAmountDetails": amount(999.99, "EUR"),
        },
        "e": {
            "timestamp": T0 + 4 * HOUR,
            "type": "WITHDRAWAL",
            "originUserId": THIRD_ID,
            "destinationUserId": None,
            "originAmountDetails": amount(20, "GBP"),
        },
        "f": {"timestamp": T0 + 5 * HOUR, "originAmountDetails": None, "transactionState": None},
    }
    ids = {}
    for name, overrides in rows.items():
        data = body(**overrides)
        response = integrator_client.post("/api/transactions", data, format="json")
        assert response.status_code == 200, response.json()
        ids[data["transactionId"]] = name
    return {"names": ids, "rule": rule, "shadow": shadow}


def names(response, book) -> list[str]:
    assert response.status_code == 200, response.json()
    return [book["names"][item["transactionId"]] for item in response.json()["results"]]


def test_list_is_newest_first_with_the_main_columns(analyst_client, book):
    response = analyst_client.get("/api/transactions")
    assert names(response, book) == ["f", "e", "d", "c", "b", "a"]
    a = response.json()["results"][-1]
    assert a == {
        "transactionId": a["transactionId"],
        "type": "TRANSFER",
        "timestamp": T0,
        "transactionState": "CREATED",
        "originUserId": ORIGIN_ID,
        "destinationUserId": DESTINATION_ID,
        "originAmount": 35000,
        "originCurrency": "PHP",
        "status": "FLAG",
        "hitRuleInstanceIds": [str(book["rule"].pk)],  # the shadow hit is no decision
    }


def test_cursor_paging_visits_every_transaction_once(analyst_client, book):
    seen, url, pages = [], "/api/transactions?pageSize=4&status=ALLOW&status=FLAG", 0
    while url:
        page = analyst_client.get(url)
        seen += names(page, book)
        url, pages = page.json()["next"], pages + 1
        if url:
            # The filters travel with the cursor.
            assert parse_qs(urlparse(url).query)["status"] == ["ALLOW", "FLAG"]
    assert (seen, pages) == (["f", "e", "d", "c", "b", "a"], 2)
    second = analyst_client.get(
        analyst_client.get("/api/transactions?pageSize=4").json()["next"].replace("http://testserver", "")
    )
    assert names(second, book) == ["b", "a"]
    previous = analyst_client.get(second.json()["previous"])
    assert names(previous, book) == ["f", "e", "d", "c"]


FILTER_CASES = [
    (f"userId={DESTINATION_ID}", ["f", "d", "c", "b", "a"]),  # sender or receiver
    (f"userId={THIRD_ID}", ["e", "d"]),
    (f"originUserId={DESTINATION_ID}", ["d"]),
    (f"destinationUserId={THIRD_ID}", ["d"]),
    ("originUserId=nobody", []),
    ("type=DEPOSIT", ["b"]),
    ("type=DEPOSIT&type=WITHDRAWAL", ["e", "b"]),
    ("transactionState=SUCCESSFUL", ["c"]),
    ("transactionState=CREATED", ["f", "e", "d", "b", "a"]),  # f was posted without a state
    ("status=FLAG", ["c", "a"]),
    ("status=ALLOW", ["f", "e", "d", "b"]),
    ("status=BLOCK", []),
    ("ruleId=R-1", ["c", "a"]),
    ("ruleId=R-2", []),
    (f"afterTimestamp={T0 + 2 * HOUR}", ["f", "e", "d", "c"]),  # inclusive
    (f"beforeTimestamp={T0 + 2 * HOUR}", ["b", "a"]),  # exclusive
    (f"afterTimestamp={T0 + HOUR}&beforeTimestamp={T0 + 3 * HOUR}", ["c", "b"]),
    ("currency=EUR", ["d", "c"]),
    ("currency=eur", ["d", "c"]),
    ("currency=USD", []),
    ("minAmount=1000", ["c", "a"]),  # in each transaction's own currency
    ("minAmount=999.99&maxAmount=1500.5", ["d", "c"]),
    ("maxAmount=100", ["e", "b"]),
    ("currency=PHP&minAmount=100&maxAmount=100", ["b"]),
    ("status=FLAG&currency=PHP", ["a"]),
]


def test_filters(analyst_client, book):
    # One book for every case: building it is most of the cost.
    for query, expected in FILTER_CASES:
        assert names(analyst_client.get(f"/api/transactions?{query}"), book) == expected, query


def test_rule_instance_filter_counts_only_acting_hits(analyst_client, book):
    rule, shadow = book["rule"], book["shadow"]
    assert names(analyst_client.get(f"/api/transactions?ruleInstanceId={rule.pk}"), book) == ["c", "a"]
    # Every PHP transaction hit the shadow instance: it decided nothing, so the filter finds none.
    assert names(analyst_client.get(f"/api/transactions?ruleInstanceId={shadow.pk}"), book) == []
    assert names(analyst_client.get("/api/transactions?ruleInstanceId=999999"), book) == []


@pytest.mark.parametrize(
    "query",
    [
        "userId=",
        "originUserId=",
        "destinationUserId=",
        "type=",
        "transactionState=",
        "status=",
        "ruleInstanceId=",
        "ruleId=",
        "afterTimestamp=",
        "beforeTimestamp=",
        "currency=",
        "minAmount=",
        "maxAmount=",
    ],
)
def test_empty_values_are_400_naming_the_filter(analyst_client, db, query):
    response = analyst_client.get(f"/api/transactions?{query}")
    assert response.status_code == 400, response.json()
    assert properties(response) == {query.rstrip("=")}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("type=LOAN", "type"),
        ("transactionState=DONE", "transactionState"),
        ("status=REVIEW", "status"),
        ("currency=XXX", "currency"),
        ("currency=EURO", "currency"),
        ("minAmount=-1", "minAmount"),
        ("minAmount=ten", "minAmount"),
        ("maxAmount=1e30", "maxAmount"),
        ("maxAmount=NaN", "maxAmount"),
        ("minAmount=0.0000001", "minAmount"),
        ("afterTimestamp=yesterday", "afterTimestamp"),
        ("afterTimestamp=99999999999999999999", "afterTimestamp"),
        ("beforeTimestamp=1.5", "beforeTimestamp"),
        (f"userId={'x' * 201}", "userId"),
    ],
)
def test_bad_values_are_400_naming_the_filter(analyst_client, db, query, name):
    response = analyst_client.get(f"/api/transactions?{query}")
    assert response.status_code == 400, response.json()
    assert properties(response) == {name}


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("pageSize=ten", "pageSize"),
        ("cursor=", "cursor"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=%C3%A9", "cursor"),
        (f"cursor={_cursor('p=abc')}", "cursor"),  # a forged position used to reach the database
        (f"cursor={_cursor('p=99999999999999999999')}", "cursor"),
        (f"cursor={_cursor('o=x')}", "cursor"),
    ],
)
def test_bad_paging_is_400_naming_the_parameter(analyst_client, db, query, name):
    """Regression: DRF clamped `pageSize` silently and answered a bad cursor with an undocumented 404."""
    response = analyst_client.get(f"/api/transactions?{query}")
    assert response.status_code == 400, response.json()
    assert properties(response) == {name}


def test_the_list_takes_a_fixed_number_of_queries(integrator_client, book, django_assert_num_queries):
    # Authentication: the API key with its user (1; the user's permissions were read when the
    # book was posted, and are cached: compliance.api.permissions). Then the page itself (1): the
    # hit rule ids come from the stored verdict and the rule filter is a subquery, so neither the
    # page size nor a filter adds a query.
    with django_assert_num_queries(1 + 1):
        small = integrator_client.get("/api/transactions?pageSize=1")
    with django_assert_num_queries(1 + 1) as captured:
        large = integrator_client.get(
            f"/api/transactions?pageSize=100&ruleId=R-1&userId={ORIGIN_ID}&afterTimestamp={T0}"
        )
    assert len(small.json()["results"]) == 1
    assert len(large.json()["results"]) == 2
    # The evidence is not read for a list.
    page_query = captured.captured_queries[-1]["sql"]
    assert "executed_rules" not in page_query
    assert "origin_device_data" not in page_query


def test_ordering_is_not_offered(analyst_client, book):
    """Regression: the default OrderingFilter let `?ordering=type` re-order a list that pages by id."""
    assert names(analyst_client.get("/api/transactions?ordering=type"), book) == [
        "f",
        "e",
        "d",
        "c",
        "b",
        "a",
    ]


def test_permissions(api_client, outsider_client, integrator_client, analyst_client, db):
    assert api_client.get("/api/transactions").status_code == 401
    assert outsider_client.get("/api/transactions").status_code == 403
    assert integrator_client.get("/api/transactions").status_code == 200
    assert analyst_client.get("/api/transactions").json()["results"] == []
