"""After commit, a monitored transaction feeds the users' ongoing risk (CRA) through the outbox (issue 4)."""

import time

import pytest

from compliance import events
from compliance.models import OutboxEvent
from tests.transactions.conftest import body
from users.models import MonitoringActivity, RiskTrail

pytestmark = pytest.mark.django_db


def post_and_dispatch(client, data, capture):
    """Post, then run the outbox dispatch of what it published here, in this process: the
    handlers are the real ones, whatever broker (or none) the suite runs with."""
    with capture(execute=False):
        response = client.post("/api/transactions", data, format="json")
    for event in OutboxEvent.objects.filter(dispatched_at__isnull=True).order_by("created_at"):
        events.dispatch(event.pk)
    return response


def recent(**overrides) -> dict:
    """A transaction of now: the factor counts hits of the last 90 days (the seed's is from 2024)."""
    return body(timestamp=int(time.time() * 1000), **overrides)


def test_a_block_hit_raises_the_origin_users_ongoing_risk(
    integrator_client, seed_users, instance, django_capture_on_commit_callbacks
):
    rule = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, action="BLOCK")
    origin, destination = seed_users
    response = post_and_dispatch(integrator_client, recent(), django_capture_on_commit_callbacks)
    assert response.json()["status"] == "BLOCK"

    event = OutboxEvent.objects.get(name="transaction.monitored")
    assert event.payload["newHits"][0]["ruleInstanceId"] == str(rule.pk)
    assert event.dispatched_at is not None

    sent = MonitoringActivity.objects.get(customer=origin)
    assert (sent.transactions, sent.flagged, sent.suspended, sent.blocked) == (1, 0, 0, 1)
    received = MonitoringActivity.objects.get(customer=destination)
    assert (received.transactions, received.blocked) == (1, 0)  # the hit was aimed at the origin

    before = origin.risk_score
    origin.refresh_from_db()
    destination_before = destination.risk_score
    destination.refresh_from_db()
    assert origin.risk_score == before + 100  # points_per_block
    assert destination.risk_score == destination_before
    breakdown = {
        line["name"]: line["score"] for group in origin.risk_breakdown.values() for line in group["contents"]
    }
    assert breakdown.get("Transaction Monitoring") == 100
    trail = RiskTrail.objects.filter(customer=origin).latest("id")
    assert "monitored" in trail.cause


def test_an_allowed_transaction_counts_without_rescoring(
    integrator_client, seed_users, django_capture_on_commit_callbacks
):
    origin, _ = seed_users
    trails = RiskTrail.objects.filter(customer=origin).count()
    post_and_dispatch(integrator_client, recent(), django_capture_on_commit_callbacks)
    assert MonitoringActivity.objects.get(customer=origin).transactions == 1
    assert RiskTrail.objects.filter(customer=origin).count() == trails


def test_shadow_hits_do_not_count(
    integrator_client, seed_users, instance, django_capture_on_commit_callbacks
):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 1}}, action="BLOCK", isShadow=True)
    origin, _ = seed_users
    answer = post_and_dispatch(integrator_client, recent(), django_capture_on_commit_callbacks).json()
    assert answer["status"] == "ALLOW"
    assert answer["executedRules"][0]["ruleHit"] is True
    assert answer["hitRules"] == []
    assert MonitoringActivity.objects.get(customer=origin).blocked == 0
