"""The case and alert workflow (cases.services), through the status routes where the API has one:
transitions, reasons, SAR, stale versions, closing alerts with their case, priorities, events,
assignments, comments, bulk actions (issue 5)."""

import pytest

from cases import services
from cases.models import Alert, Assignment, Case, CaseStatus, Comment, StatusChange
from compliance.errors import ApplicationError, ConflictError, ForbiddenError
from compliance.models import AuditTrail
from tests.cases.conftest import SYSTEM, actor_of, make_alert, make_case, published
from tests.transactions.conftest import properties

pytestmark = pytest.mark.django_db

SAR = "Suspicious activity reported (SAR)"


def put_status(client, case, **data):
    return client.put(f"/api/management/cases/{case.case_id}/statuses", data, format="json")


def put_alert_status(client, alert, **data):
    return client.put(f"/api/management/alerts/{alert.alert_id}/statuses", data, format="json")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "OPEN"),  # same status
        ([], "REOPENED"),  # only a closed case reopens
        (["IN_PROGRESS"], "OPEN"),  # nothing goes back to OPEN
        (["CLOSED"], "IN_PROGRESS"),  # a closed case is reopened first
        (["CLOSED"], "ON_HOLD"),
        (["CLOSED", "REOPENED"], "REOPENED"),
    ],
)
def test_illegal_transitions_are_409s_naming_status(analyst_client, path, target):
    case = make_case()
    for status in path:
        case = services.case_status_change(actor=SYSTEM, case=case, status=status, reason="False positive")
    version = Case.objects.get(pk=case.pk).version
    response = put_status(analyst_client, case, status=target, reason="False positive")
    assert response.status_code == 409, response.json()
    assert properties(response) == {"status"}
    assert Case.objects.get(pk=case.pk).version == version  # nothing changed


def test_the_whole_workflow(analyst_client, analyst):
    case = make_case()
    for status in ("IN_PROGRESS", "ON_HOLD", "IN_PROGRESS"):
        assert put_status(analyst_client, case, status=status).status_code == 200
    closed = put_status(
        analyst_client, case, status="CLOSED", reason="False positive", comment="Nothing there"
    )
    assert closed.status_code == 200
    answer = closed.json()
    assert answer["status"] == "CLOSED"
    assert answer["closedTimestamp"] is not None
    assert answer["version"] == 5
    history = [(c["previousStatus"], c["status"]) for c in answer["statusChanges"]]
    assert history == [
        (None, "OPEN"),
        ("OPEN", "IN_PROGRESS"),
        ("IN_PROGRESS", "ON_HOLD"),
        ("ON_HOLD", "IN_PROGRESS"),
        ("IN_PROGRESS", "CLOSED"),
    ]
    assert answer["statusChanges"][-1]["reason"] == "False positive"
    assert answer["statusChanges"][-1]["userEmail"] == "analyst@example.test"
    reopened = put_status(analyst_client, case, status="REOPENED", reason="Escalated", comment="New facts")
    assert reopened.json()["status"] == "REOPENED"
    assert reopened.json()["closedTimestamp"] is None
    assert Case.objects.get(pk=case.pk).closed_at is None
    assert (
        AuditTrail.objects.filter(object_type="cases.case", object_id=str(case.pk), action="update").count()
        == 5
    )


def test_closing_needs_a_reason_and_other_needs_its_text(analyst_client):
    case = make_case()
    response = put_status(analyst_client, case, status="CLOSED")
    assert response.status_code == 400
    assert properties(response) == {"reason"}
    response = put_status(analyst_client, case, status="CLOSED", reason="Other")
    assert response.status_code == 400
    assert properties(response) == {"otherReason"}
    response = put_status(analyst_client, case, status="CLOSED", reason="Bored")
    assert response.status_code == 400
    assert properties(response) == {"reason"}
    response = put_status(analyst_client, case, status="CLOSED", reason="Other", otherReason="Customer left")
    assert response.status_code == 200
    change = response.json()["statusChanges"][-1]
    assert (change["reason"], change["otherReason"]) == ("Other", "Customer left")
    assert published("case.closed")[-1]["reasonDescriptionForOther"] == "Customer left"


def test_sar_needs_the_approver_role(analyst_client, approver_client, integrator_client):
    case = make_case()
    response = put_status(analyst_client, case, status="CLOSED", reason=SAR)
    assert response.status_code == 403
    assert properties(response) == {"reason"}
    # An API key acts with its account's permissions: the integrator role has no close_sar.
    assert put_status(integrator_client, case, status="CLOSED", reason=SAR).status_code == 403
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    response = put_status(approver_client, case, status="CLOSED", reason=SAR)
    assert response.status_code == 200
    assert response.json()["status"] == "CLOSED"


def test_sar_by_an_api_key_of_an_approver_account(api_client, approver):
    from compliance import services as compliance_services

    _, secret = compliance_services.api_key_create(name="approver key", user=approver, actor=SYSTEM)
    api_client.credentials(HTTP_X_API_KEY=secret)
    case = make_case()
    assert put_status(api_client, case, status="CLOSED", reason=SAR).status_code == 200


def test_a_stale_version_is_a_409(analyst_client, approver_client):
    case = make_case()
    assert put_status(analyst_client, case, status="IN_PROGRESS", version=1).status_code == 200
    # The approver opened the case at version 1, before the analyst's change.
    response = put_status(approver_client, case, status="ON_HOLD", version=1)
    assert response.status_code == 409
    assert properties(response) == {"version"}
    assert "changed by someone else" in response.json()["message"]
    assert put_status(approver_client, case, status="ON_HOLD", version=2).status_code == 200


def test_closing_a_case_closes_its_open_alerts(analyst_client, analyst):
    case = make_case(priority="P4")
    first = make_alert(case, priority="P2")
    second = make_alert(case, priority="P3")
    closed_before = make_alert(case, priority="P1")
    services.alert_status_change(actor=SYSTEM, alert=closed_before, status="CLOSED", reason="False positive")
    response = put_status(analyst_client, case, status="CLOSED", reason="Fraud", comment="Confirmed")
    assert response.status_code == 200
    for alert in (first, second):
        alert.refresh_from_db()
        assert alert.status == CaseStatus.CLOSED
        change = alert.status_changes.last()
        assert (change.reason, change.comment, change.actor) == ("Fraud", "Confirmed", analyst)
    # The alert closed before keeps its own reason.
    assert closed_before.status_changes.last().reason == "False positive"

    closed_alerts = published("alert.closed")
    assert [p["alertId"] for p in closed_alerts] == [closed_before.alert_id, first.alert_id, second.alert_id]
    assert closed_alerts[1] == {
        "alertId": first.alert_id,
        "status": "CLOSED",
        "reasons": ["Fraud"],
        "reasonDescriptionForOther": "",
        "comment": "Confirmed",
        "userId": case.user_ref,
        "transactionIds": [],
        "ruleName": "Transaction amount too high",
        "ruleDescription": "Amount above threshold",
        "ruleId": "R-1",
        "ruleInstanceId": first.rule_instance_ref,
        "triggeredBy": "MANUAL",
    }
    assert published("case.closed") == [
        {
            "caseId": case.case_id,
            "status": "CLOSED",
            "reasons": ["Fraud"],
            "reasonDescriptionForOther": "",
            "comment": "Confirmed",
            "userId": case.user_ref,
            "transactionIds": [],
            "triggeredBy": "MANUAL",
        }
    ]

    # Reopening the case does not reopen its alerts; an alert of a closed case cannot be reopened.
    services.case_status_change(actor=SYSTEM, case=case, status="REOPENED")
    assert set(Alert.objects.filter(case=case).values_list("status", flat=True)) == {"CLOSED"}
    reopened = published("case.opened")[-1]
    assert reopened["status"] == "REOPENED"
    assert reopened["triggeredBy"] == "SYSTEM"
    assert put_alert_status(analyst_client, first, status="REOPENED").status_code == 200
    assert published("alert.opened")[-1]["status"] == "REOPENED"


def test_an_alert_of_a_closed_case_stays_closed(analyst_client):
    case = make_case()
    alert = make_alert(case)
    services.case_status_change(actor=SYSTEM, case=case, status="CLOSED", reason="False positive")
    response = put_alert_status(analyst_client, alert, status="REOPENED")
    assert response.status_code == 409
    assert properties(response) == {"caseId"}


def test_closing_the_last_alert_leaves_the_case_open_and_priority_follows_open_alerts(analyst_client):
    case = make_case(priority="P4")
    p3 = make_alert(case, priority="P3")
    case.refresh_from_db()
    assert case.priority == "P3"
    p1 = make_alert(case, priority="P1")
    case.refresh_from_db()
    assert case.priority == "P1"
    assert put_alert_status(analyst_client, p1, status="CLOSED", reason="False positive").status_code == 200
    case.refresh_from_db()
    assert case.priority == "P3"
    # An update of an open alert's priority moves the case's.
    response = analyst_client.put(f"/api/management/alerts/{p3.alert_id}", {"priority": "P2"}, format="json")
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.priority == "P2"
    assert put_alert_status(analyst_client, p3, status="CLOSED", reason="False positive").status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # the case is closed by an analyst, with its own reason
    assert case.priority == "P2"  # kept when no alert is open


def test_alert_status_changes_follow_the_same_rules(analyst_client):
    alert = make_alert(make_case())
    assert put_alert_status(analyst_client, alert, status="REOPENED").status_code == 409
    assert properties(put_alert_status(analyst_client, alert, status="CLOSED")) == {"reason"}
    response = put_alert_status(analyst_client, alert, status="IN_PROGRESS", version=1)
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert put_alert_status(analyst_client, alert, status="ON_HOLD", version=1).status_code == 409
    # SAR on an alert needs no approver: the case's closing is what reports.
    response = put_alert_status(analyst_client, alert, status="CLOSED", reason=SAR)
    assert response.status_code == 200


def test_service_errors_carry_the_property(analyst):
    case = make_case()
    with pytest.raises(ConflictError) as raised:
        services.case_status_change(actor=actor_of(analyst), case=case, status="REOPENED")
    assert "status" in raised.value.errors
    with pytest.raises(ForbiddenError):
        services.case_status_change(actor=actor_of(analyst), case=case, status="CLOSED", reason=SAR)
    with pytest.raises(ApplicationError) as raised:
        services.case_status_change(actor=actor_of(analyst), case=case, status="DONE")
    assert "status" in raised.value.errors


def test_assign_unassign_and_comment(analyst, approver):
    case = make_case(priority="P3")  # as its alert's: adding it leaves the case's version alone
    actor = actor_of(approver)
    case = services.case_assign(actor=actor, case=case, assignee=analyst, expected_version=1)
    assert case.assignee == analyst
    assert case.version == 2
    assert services.case_assign(actor=actor, case=case, assignee=analyst).version == 2  # no change
    with pytest.raises(ConflictError):
        services.case_assign(actor=actor, case=case, assignee=None, expected_version=1)
    case = services.case_assign(actor=actor, case=case, assignee=None)
    assert case.assignee is None
    assert case.version == 3
    assignment = Assignment.objects.get(case=case)
    assert (assignment.assignee, assignment.assigned_by) == (analyst, approver)

    alert = make_alert(case)
    comment = services.case_comment(actor=actor_of(analyst), case=case, body="Looks fine", alert=alert)
    assert comment.author == analyst
    assert comment.alert == alert
    assert Case.objects.get(pk=case.pk).version == 3  # a comment does not make forms stale
    with pytest.raises(ApplicationError):
        services.case_comment(actor=actor_of(analyst), case=case, body="   ")
    other = make_alert(make_case())
    with pytest.raises(ApplicationError):
        services.case_comment(actor=actor_of(analyst), case=case, body="Wrong alert", alert=other)
    assert Comment.objects.count() == 1

    alert = services.alert_assign(actor=actor_of(analyst), alert=alert, assignee=analyst)
    assert alert.assignee == analyst
    assert Assignment.objects.filter(alert=alert).count() == 1


def test_bulk_assign_and_bulk_close(analyst, approver):
    cases = [make_case() for _ in range(3)]
    make_alert(cases[0])
    services.case_status_change(actor=SYSTEM, case=cases[2], status="CLOSED", reason="False positive")
    ids = [c.pk for c in cases]
    assert services.cases_assign_bulk(actor=actor_of(approver), case_ids=ids, assignee=analyst) == 3
    assert services.cases_assign_bulk(actor=actor_of(approver), case_ids=ids, assignee=analyst) == 0

    with pytest.raises(ApplicationError) as raised:
        services.cases_close_bulk(actor=actor_of(analyst), case_ids=ids, reason="Other")
    assert "otherReason" in raised.value.errors
    with pytest.raises(ForbiddenError):
        services.cases_close_bulk(actor=actor_of(analyst), case_ids=ids, reason=SAR)
    closed = services.cases_close_bulk(
        actor=actor_of(analyst), case_ids=ids, reason="False positive", comment="Bulk review"
    )
    assert closed == 2  # the closed one is skipped
    assert set(Case.objects.values_list("status", flat=True)) == {"CLOSED"}
    assert Alert.objects.get(case=cases[0]).status == "CLOSED"
    assert (
        StatusChange.objects.filter(to_status="CLOSED", comment="Bulk review").count() == 3
    )  # 2 cases, 1 alert
