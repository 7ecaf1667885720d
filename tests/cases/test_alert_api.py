"""Seed 004 "Management/Alerts": create, get, update, change status; and file uploads (issue 5)."""

import copy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Alert, Case, File
from tests.cases.conftest import make_alert, make_case, make_transaction, published
from tests.transactions.conftest import ORIGIN_ID, properties

pytestmark = pytest.mark.django_db


def seed_alert(case_id: str, transaction_id: str, instance_id: str = "99") -> dict:
    """Seed 004 "Alert - Create", comments stripped, values filled in (`tags` and `assignments`
    single objects, as the seed has them)."""
    return {
        "alertId": "A-SEED-1",
        "createdTimestamp": 1733649554849,
        "caseId": case_id,
        "priority": "P1",
        "entityDetails": {"type": "TRANSACTION", "transactionIds": [transaction_id]},
        "ruleDetails": {
            "id": "R-1",
            "name": "Transaction amount too high",
            "action": "FLAG",
            "description": "Amount above 30,000 PHP",
            "instanceId": instance_id,
            "nature": "AML",
        },
        "tags": {"key": "Source", "value": "API Docs Tester"},
        "creationReason": {
            "reasons": ["Rule hit"],
            "comment": "Posted by the seed",
            "timestamp": 1733649554849,
        },
        "assignments": {"assigneeEmail": "analyst@example.test", "timestamp": 1733649554849},
    }


@pytest.fixture
def case(seed_users):
    return make_case(customer=seed_users[0], priority="P4")


@pytest.fixture
def tx(seed_users):
    return make_transaction()


def test_the_seed_request_creates_an_alert(integrator_client, case, tx, instance, analyst):
    rule = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    response = integrator_client.post(
        "/api/management/alerts", seed_alert(case.case_id, tx.transaction_id, str(rule.pk)), format="json"
    )
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["alertId"] == "A-SEED-1"
    assert answer["caseId"] == case.case_id
    assert answer["createdTimestamp"] == 1733649554849
    assert answer["status"] == "OPEN"
    assert answer["priority"] == "P1"
    assert answer["entityDetails"] == {"type": "TRANSACTION", "transactionIds": [tx.transaction_id]}
    assert answer["ruleDetails"] == {
        "id": "R-1",
        "name": "Transaction amount too high",
        "action": "FLAG",
        "description": "Amount above 30,000 PHP",
        "instanceId": str(rule.pk),
        "nature": "AML",
        "versionId": None,
    }
    assert answer["tags"] == [{"key": "Source", "value": "API Docs Tester"}]
    assert answer["assignments"][0]["assigneeEmail"] == "analyst@example.test"
    assert answer["assignments"][0]["assignedByEmail"] == "core-banking@example.test"
    assert answer["assigneeEmail"] == "analyst@example.test"

    alert = Alert.objects.get(alert_id="A-SEED-1")
    assert alert.rule_instance == rule  # linked: the instance exists
    assert list(alert.transactions.all()) == [tx]
    case.refresh_from_db()
    assert case.priority == "P1"  # the highest of its open alerts
    assert published("alert.opened") == [
        {
            "alertId": "A-SEED-1",
            "status": "OPEN",
            "transactionIds": [tx.transaction_id],
            "ruleName": "Transaction amount too high",
            "ruleDescription": "Amount above 30,000 PHP",
            "ruleId": "R-1",
            "ruleInstanceId": str(rule.pk),
            "caseId": case.case_id,
            "userId": ORIGIN_ID,
            "triggeredBy": "MANUAL",
        }
    ]
    assert integrator_client.get("/api/management/alerts/A-SEED-1").json() == answer
    case_answer = integrator_client.get(f"/api/management/cases/{case.case_id}").json()
    assert [a["alertId"] for a in case_answer["alerts"]] == ["A-SEED-1"]
    assert case_answer["priority"] == "P1"


def test_an_unknown_instance_id_is_kept_unlinked(integrator_client, case, tx, analyst):
    response = integrator_client.post(
        "/api/management/alerts", seed_alert(case.case_id, tx.transaction_id, "ext-42"), format="json"
    )
    assert response.status_code == 201
    alert = Alert.objects.get(alert_id="A-SEED-1")
    assert alert.rule_instance is None
    assert alert.rule_instance_ref == "ext-42"


def test_refusals(integrator_client, case, tx, instance, analyst):
    rule = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    body = seed_alert(case.case_id, tx.transaction_id, str(rule.pk))

    unknown_case = seed_alert("C-NOPE", tx.transaction_id)
    response = integrator_client.post("/api/management/alerts", unknown_case, format="json")
    assert response.status_code == 400
    assert properties(response) == {"caseId"}

    missing = copy.deepcopy(body)
    missing["entityDetails"]["transactionIds"] = [tx.transaction_id, "tx-missing-1", "tx-missing-2"]
    response = integrator_client.post("/api/management/alerts", missing, format="json")
    assert response.status_code == 400
    assert properties(response) == {"entityDetails.transactionIds"}
    assert "tx-missing-1, tx-missing-2" in response.json()["errors"][0]["issue"]

    no_ids = copy.deepcopy(body)
    no_ids["entityDetails"] = {"type": "TRANSACTION"}
    assert properties(integrator_client.post("/api/management/alerts", no_ids, format="json")) == {
        "entityDetails.transactionIds"
    }

    assert integrator_client.post("/api/management/alerts", body, format="json").status_code == 201
    again = integrator_client.post("/api/management/alerts", body, format="json")
    assert again.status_code == 409
    assert properties(again) == {"alertId"}
    # One open alert per rule instance in a case.
    second = {**body, "alertId": "A-SEED-2"}
    response = integrator_client.post("/api/management/alerts", second, format="json")
    assert response.status_code == 409
    assert properties(response) == {"ruleDetails.instanceId"}

    # A closed case takes no new alerts.
    integrator_client.put(
        f"/api/management/cases/{case.case_id}/statuses",
        {"status": "CLOSED", "reason": "Fraud"},
        format="json",
    )
    response = integrator_client.post(
        "/api/management/alerts", {**body, "alertId": "A-SEED-3"}, format="json"
    )
    assert response.status_code == 409
    assert properties(response) == {"caseId"}


def test_blank_template_is_a_400(integrator_client):
    blank = {
        "alertId": "",
        "createdTimestamp": "",
        "caseId": "",
        "priority": "",
        "entityDetails": {"type": "", "transactionIds": ""},
        "ruleDetails": {
            "id": "",
            "name": "",
            "action": "",
            "description": "",
            "instanceId": "",
            "nature": "",
        },
        "tags": {"key": "", "value": ""},
        "creationReason": {"reasons": "", "comment": "", "timestamp": ""},
        "assignments": {"assigneeEmail": "", "assignedByEmail": "", "timestamp": ""},
    }
    response = integrator_client.post("/api/management/alerts", blank, format="json")
    assert response.status_code == 400
    assert {"alertId", "caseId", "priority", "entityDetails.type", "ruleDetails.id"} <= properties(response)
    assert integrator_client.put("/api/management/alerts/nope", blank, format="json").status_code == 404
    assert integrator_client.get("/api/management/alerts/nope").status_code == 404


def test_update_replaces_what_is_sent(integrator_client, case, tx, analyst, approver):
    alert = make_alert(case, transactions=[tx], priority="P3")
    other = make_transaction()
    response = integrator_client.put(
        f"/api/management/alerts/{alert.alert_id}",
        {
            "priority": "P2",
            "entityDetails": {
                "type": "TRANSACTION",
                "transactionIds": [tx.transaction_id, other.transaction_id],
            },
            "tags": [{"key": "team", "value": "fraud"}],
            "assignments": [
                {"assigneeEmail": "approver@example.test", "assignedByEmail": "analyst@example.test"}
            ],
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["priority"] == "P2"
    assert answer["entityDetails"]["transactionIds"] == [tx.transaction_id, other.transaction_id]
    assert answer["tags"] == [{"key": "team", "value": "fraud"}]
    assert answer["ruleDetails"]["id"] == "R-1"  # not sent: kept
    assert answer["assigneeEmail"] == "approver@example.test"
    assert answer["version"] == 2
    assert set(Alert.objects.get(pk=alert.pk).transactions.all()) == {tx, other}
    case.refresh_from_db()
    assert case.priority == "P2"

    stale = integrator_client.put(
        f"/api/management/alerts/{alert.alert_id}", {"priority": "P1", "version": 1}
    )
    assert stale.status_code == 409
    assert properties(stale) == {"version"}
    missing = integrator_client.put(
        f"/api/management/alerts/{alert.alert_id}",
        {"entityDetails": {"type": "TRANSACTION", "transactionIds": ["tx-nope"]}},
        format="json",
    )
    assert properties(missing) == {"entityDetails.transactionIds"}


def test_alert_permissions(outsider_client, compliance_admin_client, case):
    alert = make_alert(case)
    assert outsider_client.get(f"/api/management/alerts/{alert.alert_id}").status_code == 403
    assert compliance_admin_client.get(f"/api/management/alerts/{alert.alert_id}").status_code == 200
    response = compliance_admin_client.put(f"/api/management/alerts/{alert.alert_id}", {"priority": "P1"})
    assert response.status_code == 403


# --- files --------------------------------------------------------------------------------


def upload(client, content=b"%PDF-1.4 evidence", name="evidence.pdf"):
    return client.post(
        "/api/management/files",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
        format="multipart",
    )


def test_files_are_uploaded_then_attached_to_a_status_change(
    integrator_client, analyst_client, case, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    response = upload(integrator_client)
    assert response.status_code == 201, response.json()
    uploaded = response.json()
    assert uploaded["filename"] == "evidence.pdf"
    assert uploaded["size"] == 17
    assert len(uploaded["s3Key"]) == 32
    record = File.objects.get(key=uploaded["s3Key"])
    assert record.file.read() == b"%PDF-1.4 evidence"

    files = [{"s3Key": uploaded["s3Key"], "filename": "evidence.pdf", "size": 17}]
    response = analyst_client.put(
        f"/api/management/cases/{case.case_id}/statuses",
        {"status": "CLOSED", "reason": "Documents collected", "files": files},
        format="json",
    )
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert [f["s3Key"] for f in answer["statusChanges"][-1]["files"]] == [uploaded["s3Key"]]
    assert [f["s3Key"] for f in answer["files"]] == [uploaded["s3Key"]]

    # A key used once, or never uploaded, is refused (and nothing changes).
    fresh = make_case()
    for key in (uploaded["s3Key"], "0" * 32):
        response = analyst_client.put(
            f"/api/management/cases/{fresh.case_id}/statuses",
            {"status": "IN_PROGRESS", "files": [{"s3Key": key, "filename": "x", "size": 1}]},
            format="json",
        )
        assert response.status_code == 400
        assert properties(response) == {"files"}
    assert Case.objects.get(pk=fresh.pk).status == "OPEN"


def test_file_limits(integrator_client, outsider_client, compliance_admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CASE_FILE_MAX_BYTES = 10
    response = upload(integrator_client, content=b"x" * 11)
    assert response.status_code == 413
    assert properties(response) == {"file"}
    assert upload(integrator_client, content=b"x" * 10).status_code == 201
    empty = upload(integrator_client, content=b"")
    assert empty.status_code == 400
    assert properties(empty) == {"file"}
    none = integrator_client.post("/api/management/files", {}, format="multipart")
    assert none.status_code == 400
    assert properties(none) == {"file"}
    assert upload(outsider_client).status_code == 403
    assert upload(compliance_admin_client).status_code == 403
    assert File.objects.count() == 1


def test_get_answers_the_alert_in_fixed_queries(analyst_client, case, tx, django_assert_max_num_queries):
    from cases import services
    from tests.cases.conftest import SYSTEM

    alert = make_alert(case, transactions=[tx])
    services.alert_status_change(actor=SYSTEM, alert=alert, status="IN_PROGRESS", comment="Looking")
    services.case_comment(actor=SYSTEM, case=case, alert=alert, body="Checked the counterparty")
    # auth (4) + alert with case and assignee + status changes + assignments + comments + files
    with django_assert_max_num_queries(9):
        answer = analyst_client.get(f"/api/management/alerts/{alert.alert_id}").json()
    assert [c["status"] for c in answer["statusChanges"]] == ["OPEN", "IN_PROGRESS"]
    assert answer["comments"][0]["alertId"] == alert.alert_id
