"""Screening end to end (issue 6, "screening hits flow into risk scores, alerts and cases"):
a sanctions list loaded through the real importer, a customer created through the API with a
listed name, screened in a worker (Celery eager in this process), its hit a screening risk that
raises the Screening risk factor and opens a SANCTIONS alert in the customer's open case through
the outbox and the real handlers; a later list import flags an existing customer by ongoing
screening; an analyst dismissing the hit through the API closes its alert."""

from __future__ import annotations

import pytest

from cases.models import Alert, Case, CaseStatus, Comment, StatusChange
from compliance.models import OutboxEvent
from tests.cases.conftest import dispatch_pending
from tests.users.screening.lists import entity, load
from tests.users.test_customer_api import PERSON
from users.models import ScreeningRisk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

GHALIBAF = entity(
    "NK-ghalibaf", "Mohammed Bagher Ghalibaf", birth_date="1961-08-23", nationality="ir", programme="IRAN"
)
PETROV = entity("NK-petrov", "Ivan Sergeyevich Petrov", aliases=("Ivan Petroff",), birth_date="1970")


def person_body(ref: str, first: str, last: str, birth: str | None = None) -> dict:
    import copy

    body = copy.deepcopy(PERSON)
    body["main"]["idInternalCustomer"] = ref
    body["main"]["relationshipEndDate"] = None
    body["details"].update(firstName=first, lastName=last, maidenName=None, dateBirth=birth)
    return body


def settle():
    """Dispatch whatever the outbox still holds (what a worker would do), until nothing is left."""
    for _ in range(5):
        if not OutboxEvent.objects.filter(dispatched_at__isnull=True, failed_at__isnull=True).exists():
            return
        dispatch_pending()
    pending = OutboxEvent.objects.filter(dispatched_at__isnull=True).values_list("name", "last_error")
    raise AssertionError(f"events left undispatched: {list(pending)}")


def screening_factor(client, ref: str) -> int:
    answer = client.get(f"/api/customer/{ref}/risk").json()
    for group in answer["totals"].values():
        for item in group["contents"]:
            if item["name"] == "Screening":
                return item["score"]
    raise AssertionError("no Screening factor in the breakdown")


def open_sanctions_alert(ref: str) -> Alert:
    case = Case.objects.exclude(status=CaseStatus.CLOSED).get(customer__external_ref=ref)
    return Alert.objects.get(case=case, entity_type="SANCTIONS")


def test_a_listed_customer_gets_a_risk_an_alert_and_a_dismissal_closes_it(
    integrator_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        load([GHALIBAF])
    settle()
    # An existing customer not on any list yet (screened on creation: indexed for ongoing screening).
    with capture(execute=True):
        response = integrator_client.post(
            "/api/customer", person_body("IP1", "Ivan", "Petrov"), format="json"
        )
    assert response.status_code == 200, response.content
    settle()
    assert not ScreeningRisk.objects.filter(customer__external_ref="IP1").exists()
    assert screening_factor(integrator_client, "IP1") == 0

    # A new customer with a listed name, spelled otherwise.
    with capture(execute=True):
        response = integrator_client.post(
            "/api/customer", person_body("MBG1", "Mohammad Baqer", "Qalibaf", "1961-08-23"), format="json"
        )
    assert response.status_code == 200, response.content
    settle()

    row = ScreeningRisk.objects.get(customer__external_ref="MBG1")
    assert row.identifier == "NK-ghalibaf"
    assert (row.inspected, row.confirmed, row.ongoing) == (False, False, False)
    assert screening_factor(integrator_client, "MBG1") > 0  # an uninspected strong hit counts

    alert = open_sanctions_alert("MBG1")
    assert alert.case.source == "SCREENING"
    assert alert.priority == "P1"
    answer = integrator_client.get(f"/api/management/alerts/{alert.alert_id}").json()
    details = answer["entityDetails"]["screeningDetails"]
    assert answer["entityDetails"]["type"] == "SANCTIONS"
    assert details["isOngoingScreeningHit"] is False
    [sanctions] = details["sanctionsDetails"]
    assert sanctions["sanctionHitIds"] == ["NK-ghalibaf"]
    assert sanctions["entityType"] == "CONSUMER_NAME"
    assert sanctions["hitContext"] == {
        "entity": "USER",
        "entityType": "CONSUMER_NAME",
        "userId": "MBG1",
        "yearOfBirth": 1961,
        "searchTerm": "Mohammad Baqer Qalibaf",
    }
    assert details["hits"][0]["matchedName"] == "Mohammed Bagher Ghalibaf"
    assert details["hits"][0]["screeningRiskId"] == str(row.pk)

    # Ongoing screening: a new entry matching the existing customer.
    with capture(execute=True):
        run = load([GHALIBAF, PETROV])
    settle()
    ongoing_row = ScreeningRisk.objects.get(customer__external_ref="IP1")
    assert ongoing_row.ongoing is True
    ongoing_alert = open_sanctions_alert("IP1")
    ongoing_details = integrator_client.get(f"/api/management/alerts/{ongoing_alert.alert_id}").json()[
        "entityDetails"
    ]["screeningDetails"]
    assert ongoing_details["isOngoingScreeningHit"] is True
    assert ongoing_details["hits"][0]["raisedBy"] == [run.pk]
    assert ongoing_details["sanctionsDetails"][0]["sanctionHitIds"] == ["NK-petrov"]
    assert Alert.objects.filter(case__customer__external_ref="MBG1").count() == 1  # unchanged entry

    # Confirming that one through the API comments its alert, naming who confirmed.
    with capture(execute=True):
        response = integrator_client.put(
            f"/api/customer/IP1/screening-risks/{ongoing_row.pk}",
            {"inspected": True, "confirmed": True},
            format="json",
        )
    assert response.status_code == 200, response.content
    settle()
    comment = Comment.objects.get(alert=ongoing_alert)
    assert "Screening hit confirmed by api-key:" in comment.body

    # The analyst dismisses the first hit through the API: its alert closes as a false positive.
    with capture(execute=True):
        response = integrator_client.put(
            f"/api/customer/MBG1/screening-risks/{row.pk}",
            {"inspected": True, "confirmed": False},
            format="json",
        )
    assert response.status_code == 200, response.content
    settle()
    alert.refresh_from_db()
    assert alert.status == "CLOSED"
    assert StatusChange.objects.filter(alert=alert).last().reason == "False positive"
    answer = integrator_client.get(f"/api/management/alerts/{alert.alert_id}").json()
    assert answer["status"] == "CLOSED"
    assert answer["entityDetails"]["screeningDetails"]["hits"][0]["status"] == "DISMISSED"
    assert alert.case.status != "CLOSED"  # closing the case stays the analyst's decision
    assert screening_factor(integrator_client, "MBG1") == 0  # a cleared false positive adds nothing
