"""`ruleHitMeta.falsePositiveDetails`: a hit tells how analysts closed the rule's earlier alerts
on the same user (issue 4 point 6, from the cases of issue 5)."""

import pytest

from cases.models import Alert, CaseStatus, StatusReason
from cases.services import alert_status_change
from rules.services import rule_instance_update
from tests.cases.conftest import SYSTEM
from tests.transactions.test_consequences import post_and_dispatch, recent

pytestmark = pytest.mark.django_db

THRESHOLD = {"transactionAmountThreshold": {"PHP": 30000}}


@pytest.fixture
def post(integrator_client, seed_users, django_capture_on_commit_callbacks):
    def post(**overrides):
        response = post_and_dispatch(
            integrator_client, recent(**overrides), django_capture_on_commit_callbacks
        )
        assert response.status_code == 200, response.json()
        return response.json()

    return post


def _close_open_alert(reason, other_reason=""):
    alert = Alert.objects.exclude(status=CaseStatus.CLOSED).get()
    alert_status_change(actor=SYSTEM, alert=alert, status="CLOSED", reason=reason, other_reason=other_reason)


def _details(answer, rule):
    (item,) = [item for item in answer["hitRules"] if item["ruleInstanceId"] == str(rule.pk)]
    return item["ruleHitMeta"].get("falsePositiveDetails")


def test_a_rule_analysts_keep_closing_as_false_positive_marks_its_next_hit(post, instance):
    rule = instance("R-1", parameters=THRESHOLD)
    assert _details(post(), rule) is None  # no closed history yet
    _close_open_alert(StatusReason.FALSE_POSITIVE)
    first = _details(post(), rule)
    # One closure is not enough to call it (CASE_FALSE_POSITIVE_MIN_CLOSED = 3).
    assert first == {"isFalsePositive": False, "confidenceScore": 100.0}
    _close_open_alert(StatusReason.FALSE_POSITIVE)
    post()
    _close_open_alert(StatusReason.FALSE_POSITIVE)
    answer = post()
    assert _details(answer, rule) == {"isFalsePositive": True, "confidenceScore": 100.0}
    # It informs; it does not change the decision.
    assert answer["status"] == "FLAG"
    stored = Alert.objects.exclude(status=CaseStatus.CLOSED).get()
    assert stored.transactions.count() == 1


def test_real_findings_keep_the_hit_credible(post, instance, settings):
    rule = instance("R-1", parameters=THRESHOLD)
    post()
    _close_open_alert(StatusReason.FALSE_POSITIVE)
    post()
    _close_open_alert(StatusReason.FRAUD)
    post()
    _close_open_alert(StatusReason.OTHER, "Customer explained it")
    details = _details(post(), rule)
    assert details == {"isFalsePositive": False, "confidenceScore": 33.3}
    settings.CASE_FALSE_POSITIVE_SHARE = 0.3
    _close_open_alert(StatusReason.FALSE_POSITIVE)
    assert _details(post(), rule) == {"isFalsePositive": True, "confidenceScore": 50.0}


def test_another_rules_history_does_not_count(post, instance):
    first = instance("R-1", parameters=THRESHOLD)
    post()
    _close_open_alert(StatusReason.FALSE_POSITIVE)
    rule_instance_update(actor=SYSTEM, instance_id=first.pk, document={"status": "INACTIVE"})
    second = instance("R-1", parameters=THRESHOLD)
    assert _details(post(), second) is None
