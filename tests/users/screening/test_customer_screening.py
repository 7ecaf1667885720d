"""Customer screening (issue 6 point 6): creating or renaming a customer screens it in a worker,
hits become screening risks in the seed 003 shape, without duplicates."""

import copy
import json

import pytest
from django.urls import reverse

from compliance.audit import Actor
from compliance.models import OutboxEvent
from tests.users.conftest import create_customer
from tests.users.screening.lists import entity, load
from tests.users.test_customer_api import PERSON
from tests.users.test_user_api import INDIVIDUAL_USER_REQUEST
from users.models import Customer, CustomerName, CustomerNameKey, ScreeningRisk, WatchlistEntry
from users.screening import index
from users.screening.customers import reindex_customer, screen_customer, screening_names
from users.screening.hits import record_hits
from users.screening.normalise import prepare
from users.screening.search import search

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

SYSTEM = Actor.system_actor("tests")
GHALIBAF = entity(
    "NK-ghalibaf",
    "Mohammed Bagher Ghalibaf",
    birth_date="1961-08-23",
    nationality="ir",
    programme="IRAN",
)


@pytest.fixture
def listed():
    load([GHALIBAF, entity("other", "Ivan Petrov")])
    return WatchlistEntry.objects.get(external_id="NK-ghalibaf")


def person_body(ref="MBG1", first="Mohammad Baqer", last="Qalibaf", **details):
    body = copy.deepcopy(PERSON)
    body["main"]["idInternalCustomer"] = ref
    body["main"]["relationshipEndDate"] = None
    body["details"].update(firstName=first, lastName=last, maidenName=None, dateBirth="1961-08-23", **details)
    return body


def hit_events(name="screening.hit_found"):
    return list(OutboxEvent.objects.filter(name=name).order_by("created_at"))


def test_screening_names_of_a_person_and_an_organisation():
    person = create_customer(ref="P1", first_name="Anna", middle_name="Maria", last_name="Schmidt")
    person.maiden_name = "Weber"
    assert screening_names(person) == [
        ("Anna Maria Schmidt", "primary", "Person"),
        ("Anna Maria Weber", "strong-alias", "Person"),
    ]
    org = create_customer(ref="O1", person=False, registered_name="Ghali Trading LLC", trade_name="Ghali")
    assert screening_names(org) == [
        ("Ghali Trading LLC", "primary", "Organization"),
        ("Ghali", "strong-alias", "Organization"),
    ]


def test_reindex_writes_names_and_keys_only_when_names_change():
    customer = create_customer(ref="P1", first_name="Ivan", last_name="Petrov")
    assert reindex_customer(customer) is True
    assert list(CustomerName.objects.filter(customer=customer).values_list("name", flat=True)) == [
        "Ivan Petrov"
    ]
    keys = CustomerNameKey.objects.count()
    assert keys > 0
    assert reindex_customer(customer) is False
    found = index.retrieve(index.CUSTOMERS, prepare("Ivan Petrov", schema="Person"))
    assert found == list(CustomerName.objects.filter(customer=customer).values_list("pk", flat=True))
    customer.last_name = "Sokolov"
    assert reindex_customer(customer) is True
    assert index.retrieve(index.CUSTOMERS, prepare("Petrov", schema="Person")) == []
    assert index.retrieve(index.CUSTOMERS, prepare("Ivan Sokolov", schema="Person"))


def test_creating_a_customer_through_the_api_screens_it(
    integrator_client, listed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = integrator_client.post("/api/customer", person_body(), format="json")
    assert response.status_code == 200, response.content
    customer = Customer.objects.get(external_ref="MBG1")
    row = ScreeningRisk.objects.get(customer=customer)
    assert row.watchlist_entry == listed
    assert row.identifier == "NK-ghalibaf"
    assert row.type == "SDN-TEST"
    assert row.full_name == "Mohammed Bagher Ghalibaf"
    assert json.loads(row.json) == listed.raw
    assert row.md5 == listed.md5
    assert row.screening_risk_type_id == 1
    assert 85 <= row.score <= 100
    assert (row.inspected, row.confirmed, row.manual_addition, row.ongoing) == (False, False, False, False)
    assert row.match["searchedName"] == "Mohammad Baqer Qalibaf"
    assert row.match["matchedName"] == "Mohammed Bagher Ghalibaf"
    assert "date of birth agrees" in row.match["explanation"]
    assert set(row.match) >= {"matchedName", "kind", "matchedTokens", "adjustments", "explanation"}
    # the seed 003 list shows it
    listed_rows = integrator_client.get("/api/customer/MBG1/screening-risks").json()
    assert listed_rows == [
        {
            "idScreeningRisk": row.pk,
            "idCustomer": customer.pk,
            "idScreeningRiskType": 1,
            "identifier": "NK-ghalibaf",
            "score": row.score,
            "inspected": False,
            "confirmed": False,
            "type": "SDN-TEST",
            "full_name": "Mohammed Bagher Ghalibaf",
            "json": row.json,
            "md5": listed.md5,
            "manual_addition": False,
            "id": row.pk,
        }
    ]
    # announced, in the documented shape
    (event,) = hit_events()
    assert event.payload == {
        "userId": "MBG1",
        "customerId": customer.pk,
        "screeningRiskId": row.pk,
        "entryId": listed.pk,
        "externalId": "NK-ghalibaf",
        "sourceCode": "sdn-test",
        "sourceKind": "SANCTIONS",
        "entitySchema": "PERSON",
        "searchedName": "Mohammad Baqer Qalibaf",
        "matchedName": "Mohammed Bagher Ghalibaf",
        "score": row.score,
        "explanation": row.match["explanation"],
        "isOngoingScreeningHit": False,
        "importRunId": None,
    }
    assert event.aggregate_id == str(customer.pk)


def test_rescreening_does_not_duplicate_and_a_changed_entry_reraises(listed):
    customer = create_customer(ref="MBG1", first_name="Mohammad Baqer", last_name="Qalibaf")
    first = screen_customer(customer_id=customer.pk, actor=SYSTEM)
    assert len(first) == 1
    assert screen_customer(customer_id=customer.pk, actor=SYSTEM) == []
    assert ScreeningRisk.objects.filter(customer=customer).count() == 1
    assert len(hit_events()) == 1
    # analyst dismisses it; the list then changes the entry: it comes back for review
    ScreeningRisk.objects.filter(pk=first[0].pk).update(inspected=True)
    load([{**GHALIBAF, "properties": {**GHALIBAF["properties"], "program": ["IRAN", "IRGC"]}}])
    again = screen_customer(customer_id=customer.pk, actor=SYSTEM)
    assert [r.pk for r in again] == [first[0].pk]
    row = ScreeningRisk.objects.get(customer=customer)
    assert row.inspected is False
    assert row.md5 == WatchlistEntry.objects.get(pk=listed.pk).md5
    assert "IRGC" in row.json
    assert len(hit_events()) == 2


def test_record_hits_keeps_the_best_candidate_per_entry_and_passes_ongoing_flags(listed):
    customer = create_customer(ref="MBG1", first_name="Mohammad Baqer", last_name="Qalibaf")
    weak = search("Ghalibaf", schema="Person", min_score=0)
    strong = search("Mohammed Bagher Ghalibaf", schema="Person")
    rows = record_hits(
        customer=customer,
        candidates=[("Ghalibaf", weak[0]), ("Mohammed Bagher Ghalibaf", strong[0])],
        actor=SYSTEM,
        ongoing=True,
        import_run_id=42,
    )
    assert len(rows) == 1
    assert rows[0].score == round(strong[0].score)
    assert rows[0].ongoing is True
    (event,) = hit_events()
    assert event.payload["isOngoingScreeningHit"] is True
    assert event.payload["importRunId"] == 42
    assert event.payload["searchedName"] == "Mohammed Bagher Ghalibaf"
    assert record_hits(customer=customer, candidates=strong, actor=SYSTEM) == []


def test_only_changes_of_names_dates_of_birth_or_countries_screen(
    integrator_client, listed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        integrator_client.post("/api/customer", person_body(first="Ivan", last="Ivanov"), format="json")
    assert not ScreeningRisk.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = integrator_client.put(
            "/api/customer/MBG1", {"details": {"profession": "Programmer"}}, format="json"
        )
    assert response.status_code == 200
    assert not any("ScreenAfterCommit" in type(c).__name__ for c in callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = integrator_client.put(
            "/api/customer/MBG1",
            {"details": {"firstName": "Mohammad Baqer", "lastName": "Qalibaf"}},
            format="json",
        )
    assert response.status_code == 200
    assert ScreeningRisk.objects.filter(customer__external_ref="MBG1").count() == 1
    assert CustomerName.objects.get(customer__external_ref="MBG1").name == "Mohammad Baqer Qalibaf"


def test_a_user_posted_through_the_user_api_is_screened(
    integrator_client, listed, django_capture_on_commit_callbacks
):
    body = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
    body["userDetails"]["name"] = {"firstName": "Mohammad Baqer", "lastName": "Qalibaf"}
    body["userDetails"]["dateOfBirth"] = "1961-08-23"
    with django_capture_on_commit_callbacks(execute=True):
        response = integrator_client.post(reverse("individual-user-list"), body, format="json")
    assert response.status_code == 200, response.content
    # the user API writes the customer and its lists in several steps: one screening request
    requests = OutboxEvent.objects.filter(name="customer.screening_requested")
    assert [e.payload for e in requests] == [{"customerId": ScreeningRisk.objects.get().customer_id}]
    (row,) = ScreeningRisk.objects.filter(customer__external_ref=body["userId"])
    (event,) = hit_events()
    assert event.payload["userId"] == body["userId"]
    assert event.payload["screeningRiskId"] == row.pk
    # posting it again unchanged screens nothing new
    with django_capture_on_commit_callbacks(execute=True):
        integrator_client.post(reverse("individual-user-list"), body, format="json")
    assert ScreeningRisk.objects.count() == 1


def test_without_lists_screening_only_indexes_the_customer(django_assert_max_num_queries):
    customer = create_customer(ref="P1", first_name="Ivan", last_name="Petrov")
    reindex_customer(customer)
    with django_assert_max_num_queries(3):
        assert screen_customer(customer_id=customer.pk, actor=SYSTEM) == []


def test_an_organisation_is_screened_under_its_trade_name_too():
    load(
        [entity("co-1", "Ghali Trading LLC", schema="Company", country="ae"), entity("p-1", "Ghali Trading")]
    )
    customer = create_customer(
        ref="O1", person=False, registered_name="Blue Sky Holdings Ltd", trade_name="Ghali Trading"
    )
    rows = screen_customer(customer_id=customer.pk, actor=SYSTEM)
    assert [r.identifier for r in rows] == ["co-1"]  # a person of that name is no organisation
    assert rows[0].match["searchedName"] == "Ghali Trading"
    assert rows[0].match["matchedName"] == "Ghali Trading LLC"


def test_a_screening_request_survives_a_lost_dispatch(
    integrator_client, listed, django_capture_on_commit_callbacks
):
    """The request is in the outbox with the write: if nothing ran after commit (broker down),
    the outbox sweep's dispatch screens the customer later."""
    from compliance import events

    body = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
    body["userDetails"]["name"] = {"firstName": "Mohammad Baqer", "lastName": "Qalibaf"}
    body["userDetails"]["dateOfBirth"] = "1961-08-23"
    with django_capture_on_commit_callbacks(execute=False):  # the after-commit dispatch is lost
        response = integrator_client.post(reverse("individual-user-list"), body, format="json")
    assert response.status_code == 200, response.content
    assert not ScreeningRisk.objects.exists()
    (request,) = OutboxEvent.objects.filter(name="customer.screening_requested", dispatched_at__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        events.dispatch(request.pk)  # what the sweep does for undelivered rows
    assert ScreeningRisk.objects.filter(customer__external_ref=body["userId"]).count() == 1
