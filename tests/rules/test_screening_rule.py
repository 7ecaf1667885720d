"""R-16 "Screen transaction parties" (issue 6 point 8) through the real API: a watchlist loaded
through the real importer, a rule instance through the real service, transactions posted to
`POST /api/transactions`; the hit's `ruleHitMeta.sanctionsDetails` in the seed 002 shape."""

import re
import uuid
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft202012Validator

from cases.models import Alert
from compliance import events
from compliance.models import OutboxEvent
from rules.library import REGISTRY
from rules.library.screening import ENTITY_TYPES
from rules.models import RuleInstance
from tests.transactions.conftest import DESTINATION_ID, ORIGIN_ID, RATES, body, make_instance
from tests.users.conftest import create_customer
from tests.users.screening.lists import entity, load
from transactions import money
from transactions.models import ExchangeRate
from users.models import WatchlistEntry, WatchlistKeyStat, WatchlistName, WatchlistNameKey

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
SEED_DETAIL_KEYS = {
    "name",
    "searchId",
    "requestHash",
    "iban",
    "entityType",
    "sanctionHitIds",
    "hitContext",
    "hitDirection",
    "isRuleHit",
}
SEED_CONTEXT_KEYS = {
    "entity",
    "entityType",
    "userId",
    "transactionId",
    "ruleInstanceId",
    "ruleId",
    "iban",
    "yearOfBirth",
    "searchTerm",
    "paymentMethodId",
}


@pytest.fixture(autouse=True)
def exchange_rates(db):
    for currency, rate in RATES.items():
        ExchangeRate.objects.update_or_create(currency=currency, defaults={"rate_to_base": rate})
    money.forget_rates()
    yield
    money.forget_rates()


@pytest.fixture
def watchlist(db):
    load(
        [
            entity("os-bout", "Viktor Bout", aliases=("Victor Butt",), birth_date="1967-01-13"),
            entity("os-petrov", "Ivan Sergeyevich Petrov"),
            entity("os-ghali", "Ghali Trading LLC", schema="Company", country="ae"),
            entity("os-bank", "Bank Melli Iran", schema="Company", country="ir"),
        ]
    )


@pytest.fixture
def users(db):
    return (
        create_customer(ref=ORIGIN_ID, first_name="Danny", last_name="Anderson"),
        create_customer(ref=DESTINATION_ID, first_name="Alexandra", last_name="Trujillo"),
    )


def screening_instance(**parameters):
    return make_instance("R-16", parameters={**REGISTRY["R-16"].default_parameters, **parameters})


def post(client, **overrides) -> dict:
    response = client.post("/api/transactions", body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def executed(answer: dict, rule) -> dict | None:
    return next((item for item in answer["executedRules"] if item["ruleInstanceId"] == str(rule.pk)), None)


def screening_data(item: dict) -> dict:
    return item["executedRules"][0]["detail"]["data"]["screening"]


def iban_details(**fields) -> dict:
    return {"method": "IBAN", "IBAN": IBAN, "BIC": "COBADEFFXXX", **fields}


WATCHLIST_TABLES = [
    model._meta.db_table for model in (WatchlistEntry, WatchlistName, WatchlistNameKey, WatchlistKeyStat)
]


def watchlist_queries(queries) -> list[str]:
    """The statements that read the watchlists (retrieval keys, names, entries)."""
    reads = re.compile(r"(FROM|JOIN)\s+[\"`]?(" + "|".join(WATCHLIST_TABLES) + r")\b")
    return [q["sql"] for q in queries if reads.search(q["sql"])]


# --- the template ------------------------------------------------------------------------------


def test_template_is_registered_with_a_strict_schema_and_valid_defaults():
    template = REGISTRY["R-16"]
    assert template.name == "Screen transaction parties"
    assert template.nature == "SCREENING"
    validator = Draft202012Validator(template.parameters_schema)
    assert not list(validator.iter_errors(template.default_parameters))
    assert template.default_parameters == {
        "entityTypes": list(ENTITY_TYPES),
        "sourceKinds": ["SANCTIONS"],
        "directions": ["ORIGIN", "DESTINATION"],
    }


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"entityTypes": ["SHOE_SIZE"]}, "parameters.entityTypes"),
        ({"sourceKinds": []}, "parameters.sourceKinds"),
        ({"directions": ["SIDEWAYS"]}, "parameters.directions"),
        ({"minScore": 101}, "parameters.minScore"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(compliance_admin_client, parameters, named):
    document = {"ruleId": "R-16", "parameters": {**REGISTRY["R-16"].default_parameters, **parameters}}
    response = compliance_admin_client.post("/api/management/rule-instances", document, format="json")
    assert response.status_code == 400, response.json()
    assert any(error["property"].startswith(named) for error in response.json()["errors"]), response.json()


# --- hits and no hits ----------------------------------------------------------------------------


def test_listed_destination_payment_name_hits_with_seed_shaped_sanctions_details(
    integrator_client, users, watchlist
):
    rule = screening_instance()
    answer = post(
        integrator_client,
        destinationPaymentDetails=iban_details(name="VIKTOR BOUT", bankName="Commerzbank"),
    )
    item = executed(answer, rule)
    assert item["ruleHit"] is True
    assert item["ruleId"] == "R-16"
    assert answer["status"] == "FLAG"
    assert [hit["ruleInstanceId"] for hit in answer["hitRules"]] == [str(rule.pk)]
    meta = item["ruleHitMeta"]
    assert meta["hitDirections"] == ["DESTINATION"]
    [detail] = meta["sanctionsDetails"]
    assert set(detail) == SEED_DETAIL_KEYS
    assert detail["name"] == "VIKTOR BOUT"
    assert detail["entityType"] == "PAYMENT_NAME"
    assert detail["iban"] == IBAN
    assert detail["sanctionHitIds"] == ["sdn-test:os-bout"]
    assert detail["hitDirection"] == "DESTINATION"
    assert detail["isRuleHit"] is True
    assert re.fullmatch(r"[0-9a-f]{64}", detail["requestHash"])
    assert uuid.UUID(detail["searchId"])
    context = detail["hitContext"]
    assert set(context) == SEED_CONTEXT_KEYS - {"yearOfBirth"}  # no date of birth for a payment name
    assert context == {
        "entity": "EXTERNAL_USER",
        "entityType": "PAYMENT_NAME",
        "userId": DESTINATION_ID,
        "transactionId": answer["transactionId"],
        "ruleInstanceId": str(rule.pk),
        "ruleId": "R-16",
        "iban": IBAN,
        "searchTerm": "VIKTOR BOUT",
        "paymentMethodId": f"IBAN:{IBAN}",
    }
    assert item["vars"] == [
        {"value": {"screenedNames": ["Danny Anderson"], "hitNames": []}, "direction": "ORIGIN"},
        {
            "value": {
                "screenedNames": ["Alexandra Trujillo", "VIKTOR BOUT", "Commerzbank"],
                "hitNames": ["VIKTOR BOUT"],
            },
            "direction": "DESTINATION",
        },
    ]
    # The evidence explains the hit: the list entry, the name matched, the score and why.
    screening = screening_data(item)
    assert screening["namesScreened"] == 4
    [hit_name] = [name for name in screening["names"] if name["hits"]]
    [evidence] = hit_name["hits"]
    assert evidence["id"] == "sdn-test:os-bout"
    assert evidence["matchedName"] == "Viktor Bout"
    assert evidence["score"] >= evidence["threshold"] == 85
    assert evidence["explanation"]

    # Stored with the transaction: read back as answered.
    stored = integrator_client.get(f"/api/transactions/{answer['transactionId']}")
    assert stored.status_code == 200
    assert executed(stored.json(), rule) == item
    assert stored.json()["status"] == "FLAG"


def test_unlisted_names_do_not_hit(integrator_client, users, watchlist):
    rule = screening_instance()
    answer = post(
        integrator_client,
        destinationPaymentDetails=iban_details(name="Maria Schmidt", bankName="Sparkasse Berlin"),
    )
    item = executed(answer, rule)
    assert item["ruleHit"] is False
    assert "ruleHitMeta" not in item
    assert answer["status"] == "ALLOW"
    screening = screening_data(item)
    assert [name["name"] for name in screening["names"]] == [
        "Danny Anderson",
        "Alexandra Trujillo",
        "Maria Schmidt",
        "Sparkasse Berlin",
    ]
    assert all(name["hits"] == [] for name in screening["names"])


def test_origin_user_on_the_list_hits_on_origin_as_consumer_name(integrator_client, watchlist):
    create_customer(ref=ORIGIN_ID, first_name="Victor", last_name="Bout", date_birth=date(1967, 1, 13))
    create_customer(ref=DESTINATION_ID, first_name="Alexandra", last_name="Trujillo")
    rule = screening_instance()
    answer = post(integrator_client)
    item = executed(answer, rule)
    assert item["ruleHit"] is True
    assert item["ruleHitMeta"]["hitDirections"] == ["ORIGIN"]
    [detail] = item["ruleHitMeta"]["sanctionsDetails"]
    assert detail["entityType"] == "CONSUMER_NAME"
    assert detail["hitDirection"] == "ORIGIN"
    assert "iban" not in detail
    assert detail["hitContext"]["entity"] == "USER"
    assert detail["hitContext"]["entityType"] == "CONSUMER_NAME"
    assert detail["hitContext"]["userId"] == ORIGIN_ID
    assert detail["hitContext"]["yearOfBirth"] == 1967
    assert detail["hitContext"]["searchTerm"] == "Victor Bout"
    assert "paymentMethodId" not in detail["hitContext"]
    evidence = screening_data(item)["names"][0]["hits"][0]
    assert "date of birth agrees" in evidence["explanation"]


def test_business_user_card_holder_and_bank_names(integrator_client, watchlist):
    create_customer(ref=ORIGIN_ID, person=False, registered_name="Ghali Trading Limited Liability Company")
    create_customer(ref=DESTINATION_ID, first_name="Alexandra", last_name="Trujillo")
    rule = screening_instance()
    answer = post(
        integrator_client,
        originPaymentDetails={
            "method": "CARD",
            "cardFingerprint": "fp-1",
            "nameOnCard": {"firstName": "Ivan", "middleName": "Sergeyevich", "lastName": "Petrov"},
        },
        destinationPaymentDetails=iban_details(name="Alexandra Trujillo", bankName="Bank Melli Iran"),
    )
    item = executed(answer, rule)
    assert item["ruleHitMeta"]["hitDirections"] == ["ORIGIN", "DESTINATION"]
    found = {
        (d["hitDirection"], d["entityType"], d["hitContext"]["entity"]): d["sanctionHitIds"]
        for d in item["ruleHitMeta"]["sanctionsDetails"]
    }
    assert found == {
        ("ORIGIN", "BUSINESS_NAME", "USER"): ["sdn-test:os-ghali"],
        ("ORIGIN", "NAME_ON_CARD", "EXTERNAL_USER"): ["sdn-test:os-petrov"],
        ("DESTINATION", "BANK_NAME", "BANK"): ["sdn-test:os-bank"],
    }
    card = next(d for d in item["ruleHitMeta"]["sanctionsDetails"] if d["entityType"] == "NAME_ON_CARD")
    assert card["name"] == "Ivan Sergeyevich Petrov"
    assert card["hitContext"]["paymentMethodId"] == "CARD:FP-1"


def test_parameters_choose_entity_types_sides_lists_and_score(integrator_client, users, watchlist):
    listed = iban_details(name="Viktor Bout")
    no_payment_names = screening_instance(entityTypes=["CONSUMER_NAME", "BUSINESS_NAME"])
    origin_only = screening_instance(directions=["ORIGIN"])
    pep_lists = screening_instance(sourceKinds=["PEP"])
    strict = screening_instance(minScore=100)
    lenient = screening_instance(minScore=50)
    answer = post(integrator_client, destinationPaymentDetails=iban_details(name="Viktor Boutt"))
    assert executed(answer, strict)["ruleHit"] is False  # a typo is not a perfect match
    assert executed(answer, lenient)["ruleHit"] is True
    lenient_hit = executed(answer, lenient)["ruleHitMeta"]["sanctionsDetails"][0]
    assert lenient_hit["sanctionHitIds"][0] == "sdn-test:os-bout"
    assert executed(answer, lenient)["executedRules"][0]["detail"]["data"]["rule"]["minScore"] == 50

    answer = post(integrator_client, destinationPaymentDetails=listed)
    assert executed(answer, no_payment_names)["ruleHit"] is False
    assert executed(answer, origin_only)["ruleHit"] is False
    assert [n["name"] for n in screening_data(executed(answer, origin_only))["names"]] == ["Danny Anderson"]
    assert executed(answer, pep_lists)["ruleHit"] is False
    assert executed(answer, strict)["ruleHit"] is True  # the exact name scores 100


# --- cost ----------------------------------------------------------------------------------------


def test_a_transaction_without_names_costs_no_screening_query(integrator_client, watchlist):
    rule = screening_instance()
    with CaptureQueriesContext(connection) as queries:
        answer = post(integrator_client, originUserId=None, destinationUserId=None)
    item = executed(answer, rule)
    assert item["ruleHit"] is False
    assert screening_data(item) == {"namesScreened": 0, "searches": 0, "names": []}
    assert watchlist_queries(queries.captured_queries) == []


def test_an_inactive_instance_does_not_screen(integrator_client, users, watchlist):
    rule = screening_instance()
    RuleInstance.objects.filter(pk=rule.pk).update(status=RuleInstance.Status.INACTIVE)
    from rules.engine.runner import bump_generation

    bump_generation()
    with CaptureQueriesContext(connection) as queries:
        answer = post(integrator_client, destinationPaymentDetails=iban_details(name="Viktor Bout"))
    assert executed(answer, rule) is None
    assert answer["status"] == "ALLOW"
    assert watchlist_queries(queries.captured_queries) == []


def test_the_same_request_is_searched_once_per_evaluation(integrator_client, watchlist):
    create_customer(ref=ORIGIN_ID, first_name="Viktor", last_name="Bout")
    first = screening_instance()
    second = screening_instance(entityTypes=["CONSUMER_NAME", "NAME_ON_CARD"])
    card = {
        "method": "CARD",
        "cardFingerprint": "fp-2",
        "nameOnCard": {"firstName": "Bout", "lastName": "Viktor"},
    }
    with CaptureQueriesContext(connection) as queries:
        answer = post(integrator_client, destinationUserId=None, originPaymentDetails=card)
    one, two = executed(answer, first), executed(answer, second)
    details = one["ruleHitMeta"]["sanctionsDetails"]
    assert [d["entityType"] for d in details] == ["CONSUMER_NAME", "NAME_ON_CARD"]
    # Same normalised request (word order does not matter): one hash, one search, two search ids.
    assert details[0]["requestHash"] == details[1]["requestHash"]
    assert details[0]["searchId"] != details[1]["searchId"]
    assert screening_data(one)["searches"] == 1
    assert two["ruleHitMeta"]["sanctionsDetails"] == [
        {**d, "hitContext": {**d["hitContext"], "ruleInstanceId": str(second.pk)}} for d in details
    ]
    # Two instances, two names, one request: the entries are read once.
    entry_table = connection.ops.quote_name(WatchlistEntry._meta.db_table)
    reads = [sql for sql in watchlist_queries(queries.captured_queries) if f"FROM {entry_table}" in sql]
    assert len(reads) == 1


# --- consequences: the hit opens an alert (cases, after commit) ----------------------------------


def test_a_screening_hit_opens_an_alert_whose_transaction_keeps_the_sanctions_details(
    integrator_client, analyst_client, users, watchlist, django_capture_on_commit_callbacks
):
    rule = screening_instance()
    with django_capture_on_commit_callbacks(execute=False):
        answer = post(integrator_client, destinationPaymentDetails=iban_details(name="Viktor Bout"))
    for event in OutboxEvent.objects.filter(dispatched_at__isnull=True).order_by("created_at"):
        events.dispatch(event.pk)
    alert = Alert.objects.get(rule_instance_ref=str(rule.pk))
    assert alert.case.customer.external_ref == DESTINATION_ID  # the hit was aimed at the destination
    assert alert.rule_id == "R-16"
    assert alert.rule_nature == "SCREENING"
    assert alert.transaction_ids == [answer["transactionId"]]
    document = analyst_client.get(f"/api/management/alerts/{alert.alert_id}")
    assert document.status_code == 200, document.json()
    assert document.json()["entityDetails"]["transactionIds"] == [answer["transactionId"]]
    # The alert's transaction keeps the executed rule, sanctionsDetails included (the evidence
    # the case screens show).
    stored = alert.transactions.get()
    [item] = [i for i in stored.executed_rules if i["ruleInstanceId"] == str(rule.pk)]
    assert item["ruleHitMeta"] == executed(answer, rule)["ruleHitMeta"]
