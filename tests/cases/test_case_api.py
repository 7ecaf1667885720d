"""Seed 004 "Management/Case": create and get a case through the real routes (issue 5)."""

import copy

import pytest

from cases.models import Assignment, Case, CaseStatus, StatusChange
from compliance.models import AuditTrail
from tests.cases.conftest import make_case, make_customer, published
from tests.transactions.conftest import ORIGIN_ID, properties

pytestmark = pytest.mark.django_db

# Seed 004 "Case - Create (Need update)", the `//` comments stripped and the values filled in;
# `tags`, `creationReason`, `relatedCases` and `assignments` nested in `entityDetails`, and
# `tags` and `assignments` single objects, as the seed has them.
SEED_CASE = {
    "caseId": "C-SEED-1",
    "createdTimestamp": 1733648901229,
    "priority": "P2",
    "entityDetails": {
        "type": "USER",
        "userId": ORIGIN_ID,
        "tags": {"key": "Source", "value": "API Docs Tester"},
        "creationReason": {
            "reasons": ["Adverse media"],
            "comment": "Opened from the seed",
            "timestamp": 1733648901229,
        },
        "relatedCases": ["C-OLD-1"],
        "assignments": {
            "assigneeEmail": "analyst@example.test",
            "assignedByEmail": "approver@example.test",
            "timestamp": 1733648901229,
        },
    },
}

# The seed's body as newman sends it: every value a blank template.
BLANK_CASE = {
    "caseId": "",
    "createdTimestamp": "",
    "priority": "",
    "entityDetails": {
        "type": "",
        "userId": "",
        "paymentDetails": {"method": ""},
        "tags": {"key": "", "value": ""},
        "creationReason": {"reasons": "", "comment": "", "timestamp": ""},
        "relatedCases": "",
        "assignments": {"assigneeEmail": "", "assignedByEmail": "", "timestamp": ""},
    },
}


def seed_case(**overrides):
    data = copy.deepcopy(SEED_CASE)
    data.update(overrides)
    return data


def test_the_seed_request_creates_a_case(integrator_client, seed_users, analyst, approver):
    response = integrator_client.post("/api/management/cases", SEED_CASE, format="json")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["caseId"] == "C-SEED-1"
    assert answer["createdTimestamp"] == 1733648901229
    assert answer["priority"] == "P2"
    assert answer["status"] == "OPEN"
    assert answer["caseSource"] == "MANUAL"
    assert answer["entityDetails"] == {"type": "USER", "userId": ORIGIN_ID}
    assert answer["tags"] == [{"key": "Source", "value": "API Docs Tester"}]
    assert answer["creationReason"] == {
        "reasons": ["Adverse media"],
        "comment": "Opened from the seed",
        "timestamp": 1733648901229,
    }
    assert answer["relatedCases"] == ["C-OLD-1"]
    assert answer["assignments"] == [
        {
            "assigneeEmail": "analyst@example.test",
            "assignedByEmail": "approver@example.test",
            "timestamp": 1733648901229,
        }
    ]
    assert answer["assigneeEmail"] == "analyst@example.test"
    assert answer["statusChanges"][0]["status"] == "OPEN"
    assert answer["alerts"] == []
    assert answer["comments"] == []
    assert answer["files"] == []
    assert answer["version"] == 1

    case = Case.objects.get(case_id="C-SEED-1")
    assert case.customer == seed_users[0]
    assert case.assignee == analyst
    assert AuditTrail.objects.filter(
        object_type="cases.case", object_id=str(case.pk), action="create"
    ).exists()
    assert published("case.opened") == [
        {
            "caseId": "C-SEED-1",
            "status": "OPEN",
            "priority": "P2",
            "source": "MANUAL",
            "userId": ORIGIN_ID,
            "transactionIds": [],
            "reasons": ["Adverse media"],
            "comment": "Opened from the seed",
            "triggeredBy": "MANUAL",
        }
    ]

    got = integrator_client.get("/api/management/cases/C-SEED-1")
    assert got.status_code == 200
    assert got.json() == answer


def test_nested_properties_are_accepted_at_the_top_level_too(analyst_client, seed_users, analyst, approver):
    data = seed_case()
    details = data["entityDetails"]
    for name in ("tags", "creationReason", "relatedCases", "assignments"):
        data[name] = details.pop(name)
    data["tags"] = [data["tags"]]
    response = analyst_client.post("/api/management/cases", data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["relatedCases"] == ["C-OLD-1"]
    assert response.json()["assignments"][0]["assigneeEmail"] == "analyst@example.test"

    twice = seed_case(caseId="C-2", tags=[{"key": "a", "value": "b"}])
    response = analyst_client.post("/api/management/cases", twice, format="json")
    assert response.status_code == 400
    assert properties(response) == {"tags"}


def test_a_payment_case(integrator_client):
    data = seed_case(
        entityDetails={
            "type": "PAYMENT",
            "paymentDetails": {"method": "IBAN", "IBAN": "DE89370400440532013000", "bankName": "Test Bank"},
        }
    )
    response = integrator_client.post("/api/management/cases", data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["entityDetails"] == {
        "type": "PAYMENT",
        "paymentDetails": {"method": "IBAN", "IBAN": "DE89370400440532013000", "bankName": "Test Bank"},
        "paymentIdentifier": "IBAN:DE89370400440532013000",
    }
    again = integrator_client.post("/api/management/cases", {**data, "caseId": "C-SEED-2"}, format="json")
    assert again.status_code == 409
    assert "C-SEED-1" in again.json()["message"]

    no_method = seed_case(caseId="C-3", entityDetails={"type": "PAYMENT", "paymentDetails": {"IBAN": "x"}})
    response = integrator_client.post("/api/management/cases", no_method, format="json")
    assert response.status_code == 400
    assert properties(response) == {"entityDetails.paymentDetails.method"}
    missing = seed_case(caseId="C-4", entityDetails={"type": "PAYMENT"})
    response = integrator_client.post("/api/management/cases", missing, format="json")
    assert properties(response) == {"entityDetails.paymentDetails"}


def test_a_user_case_needs_an_existing_user_and_staff_assignees(
    integrator_client, seed_users, analyst, approver
):
    unknown = seed_case(entityDetails={**SEED_CASE["entityDetails"], "userId": "nobody"})
    response = integrator_client.post("/api/management/cases", unknown, format="json")
    assert response.status_code == 400
    assert properties(response) == {"entityDetails.userId"}

    no_user = seed_case(entityDetails={"type": "USER"})
    assert properties(integrator_client.post("/api/management/cases", no_user, format="json")) == {
        "entityDetails.userId"
    }

    stranger = copy.deepcopy(SEED_CASE)
    stranger["entityDetails"]["assignments"] = [{"assigneeEmail": "someone@elsewhere.test"}]
    response = integrator_client.post("/api/management/cases", stranger, format="json")
    assert response.status_code == 400
    assert properties(response) == {"entityDetails.assignments[0].assigneeEmail"}
    assert not Case.objects.exists()


def test_duplicates_are_conflicts(integrator_client, seed_users, analyst, approver):
    assert integrator_client.post("/api/management/cases", SEED_CASE, format="json").status_code == 201
    again = integrator_client.post("/api/management/cases", SEED_CASE, format="json")
    assert again.status_code == 409
    assert properties(again) == {"caseId"}

    second = integrator_client.post("/api/management/cases", seed_case(caseId="C-SEED-2"), format="json")
    assert second.status_code == 409
    assert properties(second) == {"entityDetails.userId"}
    assert "C-SEED-1" in second.json()["message"]

    # Once the first is closed, the user may have a new open case.
    case = Case.objects.get(case_id="C-SEED-1")
    case.status = CaseStatus.CLOSED
    case.save()
    assert (
        integrator_client.post(
            "/api/management/cases", seed_case(caseId="C-SEED-2"), format="json"
        ).status_code
        == 201
    )


def test_the_blank_template_is_a_400_naming_the_fields(integrator_client):
    response = integrator_client.post("/api/management/cases", BLANK_CASE, format="json")
    assert response.status_code == 400
    named = properties(response)
    assert {"caseId", "createdTimestamp", "priority", "entityDetails.type"} <= named


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"priority": "P9"}, "priority"),
        ({"createdTimestamp": "yesterday"}, "createdTimestamp"),
        ({"unknown": 1}, "unknown"),
        ({"entityDetails": {**SEED_CASE["entityDetails"], "type": "ACCOUNT"}}, "entityDetails.type"),
    ],
)
def test_bad_values_are_400s_naming_them(integrator_client, seed_users, analyst, approver, change, prop):
    response = integrator_client.post("/api/management/cases", seed_case(**change), format="json")
    assert response.status_code == 400
    assert prop in properties(response)


def test_a_double_timestamp_is_epoch_milliseconds(integrator_client, seed_users, analyst, approver):
    response = integrator_client.post(
        "/api/management/cases", seed_case(createdTimestamp=1733648901229.7), format="json"
    )
    assert response.status_code == 201
    assert response.json()["createdTimestamp"] == 1733648901229


def test_get_answers_the_whole_case_in_fixed_queries(analyst_client, django_assert_max_num_queries, analyst):
    from cases import services
    from tests.cases.conftest import SYSTEM, make_alert

    case = make_case()
    for _ in range(3):
        make_alert(case)
    services.case_comment(actor=SYSTEM, case=case, body="First look")
    services.case_assign(actor=SYSTEM, case=case, assignee=analyst)
    # auth (token, user, groups/permissions) + case + alerts + status changes + assignments
    # + comments + files
    with django_assert_max_num_queries(12):
        response = analyst_client.get(f"/api/management/cases/{case.case_id}")
    answer = response.json()
    assert len(answer["alerts"]) == 3
    assert answer["comments"][0]["body"] == "First look"
    assert answer["assigneeEmail"] == "analyst@example.test"
    assert StatusChange.objects.filter(case=case).count() == 1
    assert Assignment.objects.filter(case=case).count() == 1


def test_unknown_case_is_404(analyst_client):
    response = analyst_client.get("/api/management/cases/nope")
    assert response.status_code == 404
    assert (
        analyst_client.put(
            "/api/management/cases/nope/statuses", {"status": "CLOSED"}, format="json"
        ).status_code
        == 404
    )


def test_permissions(api_client, outsider_client, compliance_admin_client, seed_users, analyst, approver):
    assert api_client.get("/api/management/cases").status_code == 401
    assert outsider_client.get("/api/management/cases").status_code == 403
    assert outsider_client.post("/api/management/cases", SEED_CASE, format="json").status_code == 403
    assert compliance_admin_client.get("/api/management/cases").status_code == 200
    assert compliance_admin_client.post("/api/management/cases", SEED_CASE, format="json").status_code == 403
    case = make_case(customer=make_customer())
    assert compliance_admin_client.get(f"/api/management/cases/{case.case_id}").status_code == 200
    response = compliance_admin_client.put(
        f"/api/management/cases/{case.case_id}/statuses", {"status": "IN_PROGRESS"}, format="json"
    )
    assert response.status_code == 403
