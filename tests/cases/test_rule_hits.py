"""Rule hits open alerts and cases: `transaction.monitored` -> cases.handlers (issue 5).

Transactions are posted through the real route with real rule instances; the outbox dispatch
runs here with the real handlers (`post_and_dispatch`)."""

import pytest

from cases.handlers import open_alerts_from_rule_hits
from cases.models import Alert, Case, CaseStatus
from cases.services import case_status_change
from compliance.models import OutboxEvent
from tests.cases.conftest import SYSTEM, published
from tests.transactions.conftest import DESTINATION_ID, ORIGIN_ID
from tests.transactions.test_consequences import post_and_dispatch, recent

pytestmark = pytest.mark.django_db

THRESHOLD = {"transactionAmountThreshold": {"PHP": 30000}}


@pytest.fixture
def post(integrator_client, seed_users, django_capture_on_commit_callbacks):
    def post(**overrides):
        data = recent(**overrides)
        response = post_and_dispatch(integrator_client, data, django_capture_on_commit_callbacks)
        assert response.status_code == 200, response.json()
        return data["transactionId"]

    return post


def test_a_hit_opens_a_case_and_an_alert(post, instance, seed_users):
    rule = instance(
        "R-1", parameters=THRESHOLD, casePriority="P2", ruleNameAlias="Big transfers", nature="AML"
    )
    tx_id = post()
    case = Case.objects.get()
    assert case.customer == seed_users[0]
    assert case.user_ref == ORIGIN_ID
    assert case.source == "RULE"
    assert case.status == "OPEN"
    assert case.priority == "P2"
    assert case.creation_reason["reasons"] == ["Rule hit"]
    alert = Alert.objects.get()
    assert alert.case == case
    assert alert.priority == "P2"
    assert alert.entity_type == "TRANSACTION"
    assert alert.transaction_ids == [tx_id]
    assert [t.transaction_id for t in alert.transactions.all()] == [tx_id]
    assert alert.rule_instance == rule
    assert alert.rule_instance_ref == str(rule.pk)
    assert (alert.rule_id, alert.rule_name, alert.rule_action, alert.rule_nature) == (
        "R-1",
        "Big transfers",
        "FLAG",
        "AML",
    )
    assert alert.rule_description.startswith("The origin amount is at or above")  # the template's
    assert alert.rule_version_id == rule.version_id

    assert published("case.opened") == [
        {
            "caseId": case.case_id,
            "status": "OPEN",
            "priority": "P2",
            "source": "RULE",
            "userId": ORIGIN_ID,
            "transactionIds": [tx_id],
            "reasons": ["Rule hit"],
            "comment": f"Rule Big transfers (R-1) hit transaction {tx_id}.",
            "triggeredBy": "SYSTEM",
        }
    ]
    assert published("alert.opened") == [
        {
            "alertId": alert.alert_id,
            "status": "OPEN",
            "transactionIds": [tx_id],
            "ruleName": "Big transfers",
            "ruleDescription": alert.rule_description,
            "ruleId": "R-1",
            "ruleInstanceId": str(rule.pk),
            "caseId": case.case_id,
            "userId": ORIGIN_ID,
            "triggeredBy": "SYSTEM",
        }
    ]


def test_a_second_hit_of_the_same_rule_extends_the_alert(post, instance):
    instance("R-1", parameters=THRESHOLD)
    first, second = post(), post()
    alert = Alert.objects.get()
    assert alert.transaction_ids == [first, second]
    assert alert.transactions.count() == 2
    assert alert.version == 2
    assert Case.objects.count() == 1
    assert len(published("alert.opened")) == 1


def test_another_rule_adds_an_alert_and_the_case_takes_the_highest_priority(post, instance):
    instance("R-1", parameters=THRESHOLD, casePriority="P3")
    post()
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 1000}}, casePriority="P1")
    tx_id = post()
    case = Case.objects.get()
    assert case.alerts.count() == 2
    assert case.priority == "P1"
    assert sorted(case.alerts.values_list("priority", flat=True)) == ["P1", "P3"]
    assert case.alerts.get(priority="P3").transaction_ids[-1] == tx_id


def test_a_hit_on_each_side_goes_to_each_users_case(post, instance, seed_users):
    instance("R-7", parameters={"checks": ["ORIGIN_COUNTRY", "DESTINATION_COUNTRY"], "countries": ["PH"]})
    post()
    origin, destination = seed_users
    assert Case.objects.get(customer=destination).alerts.count() == 1
    assert Case.objects.get(customer=origin).alerts.count() == 1
    only_destination = instance("R-7", parameters={"checks": ["DESTINATION_COUNTRY"], "countries": ["PH"]})
    post()
    alert = Alert.objects.get(rule_instance=only_destination)
    assert alert.case.user_ref == DESTINATION_ID


def test_a_side_without_a_user_opens_a_payment_case(post, instance):
    instance("R-1", parameters=THRESHOLD)
    post(originUserId=None, originPaymentDetails={"method": "WALLET", "walletId": "w-77"})
    case = Case.objects.get()
    assert case.entity_type == "PAYMENT"
    assert case.customer is None
    assert case.payment_identifier == "WALLET:W-77"
    assert case.payment_method == "WALLET"
    assert published("case.opened")[0]["userId"] == ""
    post(originUserId=None, originPaymentDetails={"method": "WALLET", "walletId": "w-77"})
    assert Case.objects.count() == 1
    assert len(Alert.objects.get().transaction_ids) == 2
    # Neither a user nor an identifier: nothing to key a case on (logged, skipped).
    post(originUserId=None, originPaymentDetails={"method": "WALLET"})
    assert Case.objects.count() == 1
    assert Alert.objects.count() == 1


def test_shadow_hits_open_nothing(post, instance):
    instance("R-1", parameters=THRESHOLD, isShadow=True)
    post()
    assert not Case.objects.exists()
    assert not Alert.objects.exists()


def test_a_replayed_event_does_not_add_the_transaction_twice(post, instance):
    instance("R-1", parameters=THRESHOLD)
    tx_id = post()
    event = OutboxEvent.objects.get(name="transaction.monitored", payload__transactionId=tx_id)
    open_alerts_from_rule_hits(event)
    open_alerts_from_rule_hits(event)
    alert = Alert.objects.get()
    assert alert.transaction_ids == [tx_id]
    assert alert.transactions.count() == 1
    # Also once the alert is closed: the hit is known, no new alert opens for it.
    case_status_change(actor=SYSTEM, case=alert.case, status="CLOSED", reason="False positive")
    open_alerts_from_rule_hits(event)
    assert Alert.objects.count() == 1
    assert Case.objects.count() == 1


def test_a_hit_after_the_case_closed_opens_a_new_case(post, instance):
    instance("R-1", parameters=THRESHOLD)
    post()
    first = Case.objects.get()
    case_status_change(actor=SYSTEM, case=first, status="CLOSED", reason="False positive")
    post()
    assert Case.objects.count() == 2
    second = Case.objects.exclude(pk=first.pk).get()
    assert second.status == CaseStatus.OPEN
    assert second.alerts.count() == 1
