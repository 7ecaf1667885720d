"""POST/GET /api/events/transaction: the seed 004 sample, the state lifecycle, the history,
attribute updates, re-run rules, idempotency, validation and permissions (issue 4)."""

import pytest

from compliance.models import AuditTrail, OutboxEvent
from tests.transactions.conftest import SEED_EVENT, SEED_TRANSACTION, body, properties
from transactions import services
from transactions.models import Transaction, TransactionEvent, TransactionRuleHit, TransactionState

pytestmark = pytest.mark.django_db

EVENT_KEYS = {
    "updatedTransactionAttributes",
    "timestamp",
    "transactionId",
    "eventId",
    "eventDescription",
    "reason",
    "executedRules",
    "hitRules",
    "status",
    "ruleErrors",
    "riskScoreDetails",
}


def post_event(client, transaction_id, state, event_id=None, **extra):
    data = {
        "timestamp": SEED_EVENT["timestamp"],
        "transactionId": transaction_id,
        "updatedTransactionAttributes": {"transactionState": state, **extra.pop("attributes", {})},
        **extra,
    }
    if event_id:
        data["eventId"] = event_id
    return client.post("/api/events/transaction", data, format="json")


@pytest.fixture
def posted(integrator_client, seed_users):
    """A verified transaction (CREATED): post(**overrides) -> its transactionId."""

    def _post(**overrides):
        data = body(**overrides)
        response = integrator_client.post("/api/transactions", data, format="json")
        assert response.status_code == 200, response.json()
        return data["transactionId"]

    return _post


# --- the seed sample ------------------------------------------------------------------------


def test_seed_event_moves_the_seed_transaction_to_successful(integrator_client, seed_users, instance):
    instance(
        "R-1",
        ruleNameAlias="Suspend PHP 30k",
        parameters={"transactionAmountThreshold": {"PHP": 30000}},
        action="SUSPEND",
    )
    verified = integrator_client.post("/api/transactions", SEED_TRANSACTION, format="json").json()
    assert verified["transactionState"] == "CREATED"

    response = integrator_client.post("/api/events/transaction", SEED_EVENT, format="json")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert set(answer) == EVENT_KEYS
    assert answer["updatedTransactionAttributes"] == {
        "transactionState": "SUCCESSFUL",
        "relatedTransactionIds": [],
        "tags": [],
    }
    assert answer["timestamp"] == SEED_EVENT["timestamp"]
    assert answer["transactionId"] == SEED_EVENT["transactionId"]
    assert answer["eventId"] == SEED_EVENT["eventId"]
    assert answer["eventDescription"] == answer["reason"] == "Transaction Successful"
    # The R-1 instance does not ask to re-run: its verdict of the verification stands.
    assert answer["executedRules"] == verified["executedRules"]
    assert answer["hitRules"] == verified["hitRules"]
    assert answer["status"] == "SUSPEND"
    assert answer["ruleErrors"] == []
    assert answer["riskScoreDetails"]["trsScore"] == "70"

    again = integrator_client.get(f"/api/events/transaction/{SEED_EVENT['eventId']}")
    assert again.status_code == 200
    assert again.json() == answer

    transaction = integrator_client.get(f"/api/transactions/{SEED_TRANSACTION['transactionId']}").json()
    assert transaction["transactionState"] == "SUCCESSFUL"
    assert transaction["status"] == "SUSPEND"
    assert transaction["executedRules"] == verified["executedRules"]


def test_unknown_event_is_404(integrator_client):
    response = integrator_client.get("/api/events/transaction/nope")
    assert response.status_code == 404


# --- history and audit -----------------------------------------------------------------------


def test_every_event_is_kept_with_the_state_it_left(integrator_client, posted):
    transaction_id = posted()
    assert post_event(integrator_client, transaction_id, "PROCESSING", "e-1").status_code == 200
    assert post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-2").status_code == 200
    events = TransactionEvent.objects.filter(transaction__transaction_id=transaction_id).order_by("id")
    assert [(e.event_id, e.previous_state, e.transaction_state) for e in events] == [
        ("e-1", "CREATED", "PROCESSING"),
        ("e-2", "PROCESSING", "SUCCESSFUL"),
    ]
    assert Transaction.objects.get(transaction_id=transaction_id).transaction_state == "SUCCESSFUL"
    tx = Transaction.objects.get(transaction_id=transaction_id)
    audits = AuditTrail.objects.filter(object_type="transactions.transaction", object_id=str(tx.pk))
    changes = [
        (a.before["transactionState"], a.after["transactionState"])
        for a in audits.filter(action=AuditTrail.Action.UPDATE)
    ]
    assert sorted(changes) == [("CREATED", "PROCESSING"), ("PROCESSING", "SUCCESSFUL")]


def test_event_without_an_id_gets_a_generated_one(integrator_client, posted):
    transaction_id = posted()
    response = post_event(integrator_client, transaction_id, "SUCCESSFUL")
    assert response.status_code == 200, response.json()
    event_id = response.json()["eventId"]
    assert event_id
    assert integrator_client.get(f"/api/events/transaction/{event_id}").json() == response.json()
    # Without an id there is nothing to replay against: the same body again is a second event.
    second = post_event(integrator_client, transaction_id, "SUCCESSFUL")
    assert second.status_code == 200
    assert second.json()["eventId"] != event_id
    assert TransactionEvent.objects.count() == 2


# --- attribute updates ------------------------------------------------------------------------


def test_updated_attributes_replace_the_stored_ones_and_the_rest_stays(integrator_client, posted):
    transaction_id = posted(relatedTransactionIds=["tx-0"])
    attributes = {
        "tags": [{"key": "channel", "value": "branch"}],
        "reference": "Refund of order 77",
        "originDeviceData": {"ipAddress": "192.0.2.7", "vpnUsed": True},
        "originAmountDetails": {"transactionAmount": 100.5, "transactionCurrency": "eur", "country": "DE"},
        "destinationPaymentDetails": {
            "method": "IBAN",
            "IBAN": "DE89370400440532013000",
            "BIC": "COBADEFFXXX",
        },
        "promotionCodeUsed": True,
    }
    response = post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-attr", attributes=attributes)
    assert response.status_code == 200, response.json()
    # The answer shows the attributes as sent, with the list defaults.
    assert response.json()["updatedTransactionAttributes"] == {
        "transactionState": "SUCCESSFUL",
        "relatedTransactionIds": [],
        **attributes,
    }

    document = integrator_client.get(f"/api/transactions/{transaction_id}").json()
    assert document["tags"] == [{"key": "channel", "value": "branch"}]
    assert document["reference"] == "Refund of order 77"
    assert document["originDeviceData"] == {"ipAddress": "192.0.2.7", "vpnUsed": True}
    assert document["originAmountDetails"] == {
        "transactionAmount": 100.5,
        "transactionCurrency": "EUR",
        "country": "DE",
    }
    assert document["destinationPaymentDetails"] == attributes["destinationPaymentDetails"]
    assert document["promotionCodeUsed"] is True
    # What the event did not send is kept.
    assert document["productType"] == SEED_TRANSACTION["productType"]
    assert document["destinationDeviceData"] == SEED_TRANSACTION["destinationDeviceData"]
    assert document["destinationAmountDetails"] == SEED_TRANSACTION["destinationAmountDetails"]
    assert document["originPaymentDetails"] == {"method": "WALLET"}
    assert document["relatedTransactionIds"] == ["tx-0"]

    stored = Transaction.objects.get(transaction_id=transaction_id)
    audit = AuditTrail.objects.filter(
        object_type="transactions.transaction", object_id=str(stored.pk)
    ).latest("id")
    assert audit.after["updatedAttributes"] == sorted(set(attributes))
    assert str(stored.origin_amount_base) == "110.550000"  # 100.5 EUR at 1.1: what sums add up
    assert stored.destination_payment_identifier == "IBAN:DE89370400440532013000"
    assert stored.destination_payment_method == "IBAN"


# --- rules re-run on events ------------------------------------------------------------------


def test_only_instances_asking_for_it_rerun_and_their_result_replaces_the_old(
    integrator_client, posted, instance
):
    """A rule on the state: `transactionState == CREATED` hits at verification; after the event
    the instance that re-runs no longer hits, the one that does not re-run keeps its old hit."""
    condition = {"condition": {"attribute": "transactionState", "operator": "$eq", "value": "CREATED"}}
    rerun = instance(
        "R-15", ruleNameAlias="re-runs", parameters=condition, action="BLOCK", runOnTransactionEvents=True
    )
    kept = instance("R-15", ruleNameAlias="kept", parameters=condition, action="FLAG")
    transaction_id = posted()
    verified = integrator_client.get(f"/api/transactions/{transaction_id}").json()
    assert verified["status"] == "BLOCK"
    assert {item["ruleInstanceId"] for item in verified["hitRules"]} == {str(rerun.pk), str(kept.pk)}

    answer = post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-rerun").json()
    by_id = {item["ruleInstanceId"]: item for item in answer["executedRules"]}
    assert list(by_id) == [str(rerun.pk), str(kept.pk)]  # in place, not appended
    assert by_id[str(rerun.pk)]["ruleHit"] is False
    assert by_id[str(rerun.pk)]["executedAt"] >= verified["executedRules"][0]["executedAt"]
    assert by_id[str(kept.pk)] == next(
        i for i in verified["executedRules"] if i["ruleInstanceId"] == str(kept.pk)
    )
    assert [item["ruleInstanceId"] for item in answer["hitRules"]] == [str(kept.pk)]
    assert answer["status"] == "FLAG"
    assert answer["riskScoreDetails"]["trsScore"] == "50"

    stored = Transaction.objects.get(transaction_id=transaction_id)
    assert stored.status == "FLAG"
    # The hit rows follow: the list's rule filter no longer finds the re-run instance's old hit.
    assert set(
        TransactionRuleHit.objects.filter(transaction=stored).values_list("rule_instance_id", flat=True)
    ) == {str(kept.pk)}
    assert integrator_client.get(f"/api/transactions?ruleInstanceId={rerun.pk}").json()["results"] == []
    event = TransactionEvent.objects.get(event_id="e-rerun")
    assert event.status == "FLAG"
    assert event.executed_rules == stored.executed_rules


def test_a_rerun_instance_filtered_in_by_the_new_state_hits(integrator_client, posted, instance):
    """`transactionStates: [SUCCESSFUL]` leaves the CREATED transaction out; the event brings it in."""
    on_success = instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 100}},
        action="SUSPEND",
        filters={"transactionStates": ["SUCCESSFUL"]},
        runOnTransactionEvents=True,
    )
    not_rerun = instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 100}},
        action="BLOCK",
        filters={"transactionStates": ["SUCCESSFUL"]},
    )
    transaction_id = posted()
    verified = integrator_client.get(f"/api/transactions/{transaction_id}").json()
    assert verified["executedRules"] == []
    assert verified["status"] == "ALLOW"

    answer = post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-1").json()
    assert [item["ruleInstanceId"] for item in answer["executedRules"]] == [str(on_success.pk)]
    assert [item["ruleInstanceId"] for item in answer["hitRules"]] == [str(on_success.pk)]
    assert answer["status"] == "SUSPEND"
    assert str(not_rerun.pk) not in {item["ruleInstanceId"] for item in answer["executedRules"]}
    hit = TransactionRuleHit.objects.get(transaction__transaction_id=transaction_id)
    assert (hit.rule_instance_id, hit.action) == (str(on_success.pk), "SUSPEND")


def test_a_shadow_rerun_hit_is_recorded_but_does_not_decide(integrator_client, posted, instance):
    shadow = instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 100}},
        action="BLOCK",
        filters={"transactionStates": ["SUCCESSFUL"]},
        runOnTransactionEvents=True,
        isShadow=True,
    )
    transaction_id = posted()
    answer = post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-1").json()
    assert answer["executedRules"][0]["ruleHit"] is True
    assert answer["hitRules"] == []
    assert answer["status"] == "ALLOW"
    hit = TransactionRuleHit.objects.get(transaction__transaction_id=transaction_id)
    assert (hit.rule_instance_id, hit.is_shadow) == (str(shadow.pk), True)


# --- idempotency ------------------------------------------------------------------------------


def test_replay_answers_the_stored_result_and_changes_nothing(integrator_client, posted, instance):
    instance(
        "R-15",
        parameters={"condition": {"attribute": "transactionState", "operator": "$eq", "value": "PROCESSING"}},
        action="FLAG",
        runOnTransactionEvents=True,
    )
    transaction_id = posted()
    first = post_event(integrator_client, transaction_id, "PROCESSING", "e-1")
    assert first.json()["status"] == "FLAG"
    post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-2")
    audits = AuditTrail.objects.count()
    hits = list(TransactionRuleHit.objects.values_list("id", flat=True))

    replay = post_event(integrator_client, transaction_id, "PROCESSING", "e-1")
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert TransactionEvent.objects.count() == 2
    assert AuditTrail.objects.count() == audits
    assert list(TransactionRuleHit.objects.values_list("id", flat=True)) == hits
    # The replay did not move the state back (PROCESSING after SUCCESSFUL would be refused anyway).
    assert Transaction.objects.get(transaction_id=transaction_id).transaction_state == "SUCCESSFUL"


def test_same_event_id_with_another_body_is_409(integrator_client, posted):
    transaction_id = posted()
    assert post_event(integrator_client, transaction_id, "PROCESSING", "e-1").status_code == 200
    conflict = post_event(integrator_client, transaction_id, "PROCESSING", "e-1", reason="other")
    assert conflict.status_code == 409
    assert properties(conflict) == {"eventId"}
    assert TransactionEvent.objects.count() == 1


# --- validation -------------------------------------------------------------------------------


def test_unknown_transaction_is_400_naming_transaction_id(integrator_client, db):
    response = post_event(integrator_client, "no-such-transaction", "SUCCESSFUL", "e-1")
    assert response.status_code == 400
    assert properties(response) == {"transactionId"}
    assert not TransactionEvent.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"updatedTransactionAttributes": {"transactionState": "DONE"}},
            "updatedTransactionAttributes.transactionState",
        ),
        ({"updatedTransactionAttributes": {}}, "updatedTransactionAttributes.transactionState"),
        (
            {"updatedTransactionAttributes": {"transactionState": "SENT", "type": "DEPOSIT"}},
            "updatedTransactionAttributes.type",
        ),
        (
            {
                "updatedTransactionAttributes": {
                    "transactionState": "SENT",
                    "originAmountDetails": {"transactionAmount": -1, "transactionCurrency": "EUR"},
                }
            },
            "updatedTransactionAttributes.originAmountDetails.transactionAmount",
        ),
        ({"timestamp": "now"}, "timestamp"),
        ({"transactionId": ""}, "transactionId"),
        ({"eventId": ""}, "eventId"),
        ({"metaData": {"ipAddress": "not an ip"}}, "metaData.ipAddress"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_400_naming_them(integrator_client, posted, change, field):
    data = {**SEED_EVENT, "transactionId": posted(), **change}
    response = integrator_client.post("/api/events/transaction", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in properties(response), response.json()
    assert not TransactionEvent.objects.exists()


# --- the lifecycle ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ["SUCCESSFUL"],
        ["PROCESSING", "SENT", "SUCCESSFUL", "REFUNDED"],
        ["SUSPENDED", "PROCESSING", "SUCCESSFUL", "REVERSED"],
        ["SUSPENDED", "DECLINED"],
        ["PROCESSING", "EXPIRED"],
        ["SENT", "SENT", "SUCCESSFUL", "SUCCESSFUL"],  # same state: an attributes-only update
    ],
)
def test_allowed_paths(integrator_client, posted, path):
    transaction_id = posted()
    for index, state in enumerate(path):
        response = post_event(integrator_client, transaction_id, state, f"e-{index}")
        assert response.status_code == 200, (state, response.json())
    assert Transaction.objects.get(transaction_id=transaction_id).transaction_state == path[-1]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["SUCCESSFUL"], "CREATED"),
        (["SUCCESSFUL"], "PROCESSING"),
        (["PROCESSING"], "CREATED"),
        (["DECLINED"], "SUCCESSFUL"),
        (["EXPIRED"], "PROCESSING"),
        (["SUCCESSFUL", "REFUNDED"], "SUCCESSFUL"),
        (["REVERSED"], "REFUNDED"),
        ([], "REFUNDED"),  # nothing to refund before it succeeded
    ],
)
def test_forbidden_transitions_are_409_and_change_nothing(integrator_client, posted, instance, path, refused):
    instance(
        "R-15",
        parameters={"condition": {"attribute": "transactionState", "operator": "$exists", "value": True}},
        action="FLAG",
        runOnTransactionEvents=True,
    )
    transaction_id = posted()
    for index, state in enumerate(path):
        assert post_event(integrator_client, transaction_id, state, f"e-{index}").status_code == 200
    before = Transaction.objects.get(transaction_id=transaction_id)
    hits = list(TransactionRuleHit.objects.values_list("id", flat=True))
    response = post_event(
        integrator_client, transaction_id, refused, "e-refused", attributes={"reference": "x"}
    )
    assert response.status_code == 409, response.json()
    assert properties(response) == {"updatedTransactionAttributes.transactionState"}
    after = Transaction.objects.get(transaction_id=transaction_id)
    assert (after.transaction_state, after.reference, after.executed_rules) == (
        before.transaction_state,
        before.reference,
        before.executed_rules,
    )
    assert not TransactionEvent.objects.filter(event_id="e-refused").exists()
    assert list(TransactionRuleHit.objects.values_list("id", flat=True)) == hits


def test_a_transaction_posted_without_a_state_starts_created(integrator_client, posted):
    transaction_id = posted(transactionState=None)
    assert post_event(integrator_client, transaction_id, "CREATED", "e-0").status_code == 200
    assert post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-1").status_code == 200
    event = TransactionEvent.objects.get(event_id="e-0")
    # Seed 004: posted without a state, a transaction is CREATED.
    assert (event.previous_state, event.transaction_state) == ("CREATED", "CREATED")


def test_the_transition_table_covers_every_state_and_never_leads_back_to_created():
    states = set(TransactionState.values)
    assert set(services.ALLOWED_TRANSITIONS) == states
    for source, targets in services.ALLOWED_TRANSITIONS.items():
        assert targets <= states
        assert TransactionState.CREATED not in targets
        assert services.transition_allowed(source, source)
    assert services.transition_allowed("", "SUCCESSFUL")
    for final in ("DECLINED", "EXPIRED", "REFUNDED", "REVERSED"):
        assert not services.ALLOWED_TRANSITIONS[final]


# --- permissions ------------------------------------------------------------------------------


def test_permissions(api_client, analyst_client, outsider_client, integrator_client, posted):
    transaction_id = posted()
    data = {**SEED_EVENT, "transactionId": transaction_id}
    assert api_client.post("/api/events/transaction", data, format="json").status_code == 401
    assert outsider_client.post("/api/events/transaction", data, format="json").status_code == 403
    assert analyst_client.post("/api/events/transaction", data, format="json").status_code == 403
    assert not TransactionEvent.objects.exists()
    assert integrator_client.post("/api/events/transaction", data, format="json").status_code == 200
    url = f"/api/events/transaction/{SEED_EVENT['eventId']}"
    assert api_client.get(url).status_code == 401
    assert outsider_client.get(url).status_code == 403
    assert analyst_client.get(url).status_code == 200
    assert integrator_client.get(url).status_code == 200


def test_a_payment_method_that_is_not_a_string_is_400(integrator_client, posted):
    """Regression (schema fuzz): an unhashable `method` ({}) was looked up in a dict, a 500."""
    transaction_id = posted()
    response = post_event(
        integrator_client, transaction_id, "SENT", "e-1", attributes={"originPaymentDetails": {"method": {}}}
    )
    assert response.status_code == 400
    assert "updatedTransactionAttributes.originPaymentDetails.method" in properties(response)


# --- transaction.status_changed (webhooks' TRANSACTION_STATUS_UPDATED) ------------------------


def status_changes(transaction_id: str) -> list:
    return list(
        OutboxEvent.objects.filter(
            name="transaction.status_changed", aggregate_type="transactions.transaction"
        )
        .filter(payload__transactionId=transaction_id)
        .order_by("created_at")
    )


@pytest.fixture
def state_rules(instance):
    """Two instances hitting a CREATED transaction: a re-run BLOCK, a FLAG that keeps its hit."""
    condition = {"condition": {"attribute": "transactionState", "operator": "$eq", "value": "CREATED"}}
    rerun = instance("R-15", parameters=condition, action="BLOCK", runOnTransactionEvents=True)
    kept = instance("R-15", parameters=condition, action="FLAG")
    return rerun, kept


def test_a_rerun_that_changes_the_decision_publishes_status_changed(integrator_client, posted, state_rules):
    _, kept = state_rules
    transaction_id = posted()
    assert status_changes(transaction_id) == []  # verifying is not a change
    assert post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-status").json()["status"] == "FLAG"

    (event,) = status_changes(transaction_id)
    assert event.payload == {
        "transactionId": transaction_id,
        "status": "FLAG",
        "previousStatus": "BLOCK",
        "reasons": [str(kept.pk)],
        "comment": "",
        "triggeredBy": "SYSTEM",
    }
    assert event.aggregate_id == str(Transaction.objects.get(transaction_id=transaction_id).pk)
    # The replay changes nothing and publishes nothing.
    post_event(integrator_client, transaction_id, "SUCCESSFUL", "e-status")
    assert len(status_changes(transaction_id)) == 1


def test_a_decision_without_hits_left_has_no_reasons(integrator_client, posted, instance):
    condition = {"condition": {"attribute": "transactionState", "operator": "$eq", "value": "CREATED"}}
    instance("R-15", parameters=condition, action="SUSPEND", runOnTransactionEvents=True)
    transaction_id = posted()
    post_event(integrator_client, transaction_id, "SUCCESSFUL")
    (event,) = status_changes(transaction_id)
    assert (event.payload["previousStatus"], event.payload["status"], event.payload["reasons"]) == (
        "SUSPEND",
        "ALLOW",
        [],
    )


def test_an_event_that_keeps_the_decision_publishes_no_status_change(integrator_client, posted, state_rules):
    transaction_id = posted()
    post_event(integrator_client, transaction_id, "CREATED", attributes={"reference": "same decision"})
    assert status_changes(transaction_id) == []
    assert OutboxEvent.objects.filter(name="transaction.monitored", payload__cause="event").exists()


def test_a_refused_event_publishes_nothing(integrator_client, posted, state_rules):
    transaction_id = posted()
    post_event(integrator_client, transaction_id, "SUCCESSFUL")
    assert post_event(integrator_client, transaction_id, "PROCESSING").status_code == 409
    assert len(status_changes(transaction_id)) == 1
