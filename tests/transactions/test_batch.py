"""Seed 002 batch ingestion (issue 7): the six POST/GET batch endpoints through the real routes,
applied by the real Celery task (eager) after commit, with the single-item services."""

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Alert
from compliance.api.throttling import BatchRateThrottle
from compliance.models import OutboxEvent
from tests.transactions.conftest import SEED_EVENT, body
from tests.users.test_user_api import (
    ENTITY_EVENT_REQUEST,
    ENTITY_USER_REQUEST,
    INDIVIDUAL_EVENT_REQUEST,
    INDIVIDUAL_USER_REQUEST,
)
from transactions import batches
from transactions.models import Batch, BatchItem, Transaction, TransactionEvent, TransactionRuleHit
from transactions.tasks import process_batch_chunk, resume_batches
from users.models import Customer, UserEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_batch(integrator_client, eager_tasks, django_capture_on_commit_callbacks):
    """POST a batch and run its chunks (eager Celery) when the request commits."""

    def post(path, data, batch_id=None, client=None, **extra):
        envelope = {"data": data, **({"batchId": batch_id} if batch_id else {}), **extra}
        with django_capture_on_commit_callbacks(execute=True):
            return (client or integrator_client).post(f"/api/batch/{path}", envelope, format="json")

    return post


def read(client, path, batch_id, **params):
    return client.get(f"/api/batch/{path}/{batch_id}", params)


def test_a_transaction_batch_is_judged_as_the_single_endpoint_judges(
    integrator_client, post_batch, seed_users, instance, django_capture_on_commit_callbacks
):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, action="SUSPEND")
    single_body = body()
    with django_capture_on_commit_callbacks(execute=True):
        single = integrator_client.post("/api/transactions", single_body, format="json").json()
    batched_body = body()
    small = body(originAmountDetails={"transactionAmount": 10, "transactionCurrency": "PHP", "country": "PH"})

    response = post_batch("transactions", [batched_body, small], batch_id="b-1")
    assert response.status_code == 202, response.json()
    answer = response.json()
    assert answer["status"] == "OK"
    assert answer["batchId"] == "b-1"
    assert answer["totalCount"] == 2
    assert answer["statusUrl"].endswith("/api/batch/transactions/b-1")
    assert response["Location"] == answer["statusUrl"]

    page = read(integrator_client, "transactions", "b-1").json()
    assert page["status"] == "DONE"
    assert (page["totalCount"], page["succeeded"], page["failed"]) == (2, 2, 0)
    assert page["errors"] == []
    assert page["pendingPositions"] == []
    first, second = page["transactions"]
    assert first["transactionId"] == batched_body["transactionId"]
    assert first["status"] == single["status"] == "SUSPEND"
    assert second["status"] == "ALLOW"

    def verdict(doc):
        return [(r["ruleInstanceId"], r["ruleAction"], r["ruleHit"]) for r in doc["executedRules"]]

    assert verdict(first) == verdict(single)
    assert [r["ruleInstanceId"] for r in first["hitRules"]] == [
        r["ruleInstanceId"] for r in single["hitRules"]
    ]
    assert first["riskScoreDetails"] == single["riskScoreDetails"]
    # Each item as the single GET answers it.
    assert first == integrator_client.get(f"/api/transactions/{batched_body['transactionId']}").json()
    assert TransactionRuleHit.objects.count() == 2
    # The same consequences: each batched transaction's event, dispatched after its commit, opened
    # an alert as the single one's did.
    monitored = OutboxEvent.objects.filter(name="transaction.monitored")
    assert monitored.count() == 3
    assert not monitored.filter(dispatched_at__isnull=True).exists()
    for data in (single_body, batched_body):
        assert Alert.objects.filter(transactions__transaction_id=data["transactionId"]).exists()
    assert not Alert.objects.filter(transactions__transaction_id=small["transactionId"]).exists()


def test_a_transaction_posted_alone_then_batched_is_a_replay(integrator_client, post_batch, seed_users):
    data = body()
    single = integrator_client.post("/api/transactions", data, format="json").json()
    post_batch("transactions", [data], batch_id="again")
    page = read(integrator_client, "transactions", "again").json()
    assert page["status"] == "DONE"
    assert page["transactions"] == [single]
    assert Transaction.objects.filter(transaction_id=data["transactionId"]).count() == 1


def test_bad_items_are_recorded_and_the_others_applied(integrator_client, post_batch, seed_users):
    good, used = body(), body()
    integrator_client.post("/api/transactions", used, format="json")
    items = [
        good,
        body(type=None),
        body(originUserId="nobody"),
        "not an object",
        {**used, "reference": "another body"},
        None,
    ]
    post_batch("transactions", items, batch_id="mixed")
    page = read(integrator_client, "transactions", "mixed").json()
    assert page["status"] == "DONE_WITH_ERRORS"
    assert (page["succeeded"], page["failed"]) == (1, 5)
    assert [doc["transactionId"] for doc in page["transactions"]] == [good["transactionId"]]
    errors = {entry["position"]: {e["property"] for e in entry["errors"]} for entry in page["errors"]}
    assert errors == {1: {"type"}, 2: {"originUserId"}, 3: {""}, 4: {"transactionId"}, 5: {""}}
    assert Transaction.objects.count() == 2
    batch = Batch.objects.get(batch_id="mixed")
    assert batch.started_at is not None
    assert batch.finished_at is not None


def test_the_five_other_kinds(integrator_client, post_batch, seed_users):
    assert post_batch("consumer/users", [INDIVIDUAL_USER_REQUEST], batch_id="c").status_code == 202
    consumers = read(integrator_client, "consumer/users", "c").json()
    assert consumers["status"] == "DONE", consumers
    single = integrator_client.get(f"/api/individual/users/{INDIVIDUAL_USER_REQUEST['userId']}").json()
    assert consumers["consumerUsers"] == [single]

    assert post_batch("business/users", [ENTITY_USER_REQUEST], batch_id="b").status_code == 202
    business = read(integrator_client, "business/users", "b").json()
    assert business["status"] == "DONE", business
    assert business["businessUsers"][0]["userId"] == ENTITY_USER_REQUEST["userId"]

    # An event without eventId gets one derived from the batch and its position; seed 002 names
    # the attributes `updatedConsumerUserAttributes`.
    no_id = {k: v for k, v in INDIVIDUAL_EVENT_REQUEST.items() if k not in ("eventId", "updatedAttributes")}
    no_id["updatedConsumerUserAttributes"] = {"kycStatusDetails": {"status": "FAILED", "reason": "x"}}
    assert (
        post_batch("events/consumer/user", [INDIVIDUAL_EVENT_REQUEST, no_id], batch_id="ce").status_code
        == 202
    )
    events = read(integrator_client, "events/consumer/user", "ce").json()
    assert events["status"] == "DONE", events
    assert [e["eventId"] for e in events["consumerUserEvents"]] == [
        INDIVIDUAL_EVENT_REQUEST["eventId"],
        batches.derived_event_id(Batch.objects.get(batch_id="ce"), 1),
    ]
    single = integrator_client.get(f"/api/events/individual/user/{INDIVIDUAL_EVENT_REQUEST['eventId']}")
    assert events["consumerUserEvents"][0] == single.json()
    user = integrator_client.get(f"/api/individual/users/{INDIVIDUAL_USER_REQUEST['userId']}").json()
    assert user["kycStatusDetails"]["status"] == "FAILED"

    post_batch("events/business/user", [ENTITY_EVENT_REQUEST], batch_id="be")
    business_events = read(integrator_client, "events/business/user", "be").json()
    assert business_events["status"] == "DONE", business_events
    assert business_events["businessUserEvents"][0]["eventId"] == ENTITY_EVENT_REQUEST["eventId"]
    assert UserEvent.objects.count() == 3

    tx = body()
    tx["transactionId"] = SEED_EVENT["transactionId"]
    post_batch("transactions", [tx], batch_id="t")
    post_batch("events/transaction", [SEED_EVENT], batch_id="te")
    tx_events = read(integrator_client, "events/transaction", "te").json()
    assert tx_events["status"] == "DONE", tx_events
    assert tx_events["transactionEvents"] == [
        integrator_client.get(f"/api/events/transaction/{SEED_EVENT['eventId']}").json()
    ]
    assert Transaction.objects.get(transaction_id=tx["transactionId"]).transaction_state == "SUCCESSFUL"


def test_a_user_event_of_the_wrong_kind_is_an_item_error(integrator_client, post_batch):
    post_batch("consumer/users", [INDIVIDUAL_USER_REQUEST], batch_id="c")
    wrong = {**ENTITY_EVENT_REQUEST, "userId": INDIVIDUAL_USER_REQUEST["userId"]}
    post_batch("events/business/user", [wrong], batch_id="w")
    page = read(integrator_client, "events/business/user", "w").json()
    assert page["status"] == "DONE_WITH_ERRORS"
    assert page["errors"][0]["errors"][0]["property"] == "userId"


@pytest.mark.parametrize(
    ("envelope", "prop"),
    [
        ([], ""),
        ({"batchId": "x"}, "data"),
        ({"data": {}}, "data"),
        ({"data": []}, "data"),
        ({"data": [{}], "batchId": "has/slash"}, "batchId"),
        ({"data": [{}], "batchId": 12}, "batchId"),
        ({"data": [{}], "batchId": ""}, "batchId"),
        ({"data": [{}], "batchId": None}, "batchId"),
    ],
)
def test_a_bad_envelope_is_a_400_naming_it(integrator_client, envelope, prop):
    response = integrator_client.post("/api/batch/transactions", envelope, format="json")
    assert response.status_code == 400
    assert {e["property"] for e in response.json()["errors"]} == {prop}
    assert not Batch.objects.exists()


def test_malformed_json_is_a_400(integrator_client):
    response = integrator_client.post(
        "/api/batch/consumer/users", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "prop"),
    [
        ('{"data": [{"userId": "u1"}, {"reason": "x\\u0000y"}]}', "data[1].reason"),
        ('{"data": [{"reason": "x\\udb17y"}]}', "data[0].reason"),
        ('{"data": [{"\\udb17": 1}]}', "data[0].'\\udb17'"),
    ],
)
def test_text_the_database_cannot_store_is_a_400_naming_it(integrator_client, body, prop):
    """NUL and unpaired surrogates are valid JSON that PostgreSQL cannot store (found by the fuzz)."""
    response = integrator_client.generic(
        "POST", "/api/batch/events/consumer/user", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert [e["property"] for e in response.json()["errors"]] == [prop]
    assert not Batch.objects.exists()


def test_too_many_items_is_a_400(integrator_client, settings):
    settings.BATCH_MAX_ITEMS = 2
    response = integrator_client.post("/api/batch/transactions", {"data": [{}, {}, {}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "data"
    assert (
        integrator_client.post("/api/batch/transactions", {"data": [{}, {}]}, format="json").status_code
        == 202
    )


def test_a_batch_id_is_generated_when_absent(integrator_client, post_batch, seed_users):
    answer = post_batch("transactions", [body()]).json()
    assert len(answer["batchId"]) == 32
    assert read(integrator_client, "transactions", answer["batchId"]).json()["status"] == "DONE"


def test_paging(integrator_client, post_batch, seed_users):
    items = [body() for _ in range(3)]
    post_batch("transactions", items, batch_id="p")
    page = read(integrator_client, "transactions", "p", page=2, pageSize=2).json()
    assert page["totalCount"] == 3
    assert [doc["transactionId"] for doc in page["transactions"]] == [items[2]["transactionId"]]
    assert read(integrator_client, "transactions", "p", page=3, pageSize=2).json()["transactions"] == []
    for params, prop in [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page": ""}, "page"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
    ]:
        response = read(integrator_client, "transactions", "p", **params)
        assert response.status_code == 400, params
        assert [e["property"] for e in response.json()["errors"]] == [prop]
    assert read(integrator_client, "transactions", "p", pageSize=100).status_code == 200


def test_unknown_batch_is_404_also_under_another_kind(integrator_client, post_batch, seed_users):
    post_batch("transactions", [body()], batch_id="k")
    assert read(integrator_client, "transactions", "nope").status_code == 404
    assert read(integrator_client, "consumer/users", "k").status_code == 404


def test_pending_items_are_listed_as_pending(integrator_client, seed_users):
    # No on-commit execution: the batch stays queued.
    integrator_client.post("/api/batch/transactions", {"batchId": "q", "data": [body()]}, format="json")
    page = read(integrator_client, "transactions", "q").json()
    assert (page["status"], page["transactions"], page["pendingPositions"]) == ("QUEUED", [], [0])


def test_reposting_a_batch(integrator_client, post_batch, seed_users):
    items = [body(), body()]
    first = post_batch("transactions", items, batch_id="r")
    again = post_batch("transactions", copy.deepcopy(items), batch_id="r")
    assert again.status_code == 202
    assert again.json()["batchId"] == first.json()["batchId"] == "r"
    assert again.json()["batchStatus"] == "DONE"
    assert Batch.objects.count() == 1
    assert BatchItem.objects.count() == 2
    assert Transaction.objects.count() == 2
    conflict = post_batch("transactions", [items[0]], batch_id="r")
    assert conflict.status_code == 409
    assert [e["property"] for e in conflict.json()["errors"]] == ["batchId"]
    # The same batchId under another kind is another batch.
    assert post_batch("consumer/users", [INDIVIDUAL_USER_REQUEST], batch_id="r").status_code == 202


def test_chunks_run_twice_apply_each_item_once(integrator_client, post_batch, seed_users, settings):
    settings.BATCH_CHUNK_SIZE = 2
    no_id = {k: v for k, v in INDIVIDUAL_EVENT_REQUEST.items() if k != "eventId"}
    post_batch("consumer/users", [INDIVIDUAL_USER_REQUEST], batch_id="u")
    post_batch("events/consumer/user", [no_id] * 3, batch_id="e")
    post_batch("transactions", [body() for _ in range(5)], batch_id="t")
    batch = Batch.objects.get(batch_id="t")
    assert batch.status == "DONE"
    assert batch.succeeded == 5
    assert process_batch_chunk(batch.pk, 0, 4) == 0  # nothing pending: nothing done
    # An item applied whose mark was lost (not possible by design: one transaction) re-applies as a replay.
    BatchItem.objects.filter(status=BatchItem.Status.OK).update(status=BatchItem.Status.PENDING)
    for chunk in Batch.objects.all():
        process_batch_chunk(chunk.pk, 0, chunk.total - 1)
        process_batch_chunk(chunk.pk, 0, chunk.total - 1)
    assert Transaction.objects.count() == 5
    assert UserEvent.objects.count() == 3
    assert Customer.objects.filter(external_ref=INDIVIDUAL_USER_REQUEST["userId"]).count() == 1
    assert set(Batch.objects.values_list("status", flat=True)) == {"DONE"}
    assert not BatchItem.objects.exclude(status=BatchItem.Status.OK).exists()
    assert TransactionEvent.objects.count() == 0


def test_the_batch_rate_is_per_credential(integrator_client, analyst_client, monkeypatch):
    monkeypatch.setattr(
        BatchRateThrottle,
        "THROTTLE_RATES",
        {**BatchRateThrottle.THROTTLE_RATES, "batch": "2/min"},
    )
    codes = [read(integrator_client, "transactions", "none").status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    refused = read(integrator_client, "transactions", "none")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert read(analyst_client, "transactions", "none").status_code == 404
    # The single-item endpoints are not held to the batch rate.
    assert integrator_client.get("/api/transactions/none").status_code == 404


def test_permissions(api_client, outsider_client, analyst_client, integrator_client):
    envelope = {"data": [body()]}
    assert api_client.post("/api/batch/transactions", envelope, format="json").status_code == 401
    assert api_client.get("/api/batch/transactions/x").status_code == 401
    assert outsider_client.post("/api/batch/transactions", envelope, format="json").status_code == 403
    assert outsider_client.get("/api/batch/consumer/users/x").status_code == 403
    # Analysts read (as they read transactions) but do not post.
    assert analyst_client.post("/api/batch/transactions", envelope, format="json").status_code == 403
    assert analyst_client.get("/api/batch/transactions/x").status_code == 404
    assert integrator_client.get("/api/batch/events/business/user/x").status_code == 404


def test_a_large_batch_is_read_beyond_djangos_body_limit(integrator_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.BATCH_MAX_BODY_BYTES = 20_000
    items = [body() for _ in range(5)]  # ~10 kB
    response = integrator_client.post("/api/batch/transactions", {"data": items}, format="json")
    assert response.status_code == 202
    too_large = integrator_client.post("/api/batch/transactions", {"data": items * 4}, format="json")
    assert too_large.status_code == 413
    assert too_large.json()["status"] == 413


def test_a_batch_progresses_chunk_by_chunk(integrator_client, seed_users):
    items = [body(), body(type=None), body()]
    integrator_client.post("/api/batch/transactions", {"batchId": "c", "data": items}, format="json")
    batch = Batch.objects.get(batch_id="c")
    assert process_batch_chunk(batch.pk, 0, 1) == 2
    page = read(integrator_client, "transactions", "c").json()
    assert (page["status"], page["succeeded"], page["failed"], page["pendingPositions"]) == (
        "PROCESSING",
        1,
        1,
        [2],
    )
    batch.refresh_from_db()
    assert batch.started_at is not None
    assert batch.finished_at is None
    assert process_batch_chunk(batch.pk, 2, 2) == 1
    page = read(integrator_client, "transactions", "c").json()
    assert (page["status"], page["succeeded"], page["failed"], page["pendingPositions"]) == (
        "DONE_WITH_ERRORS",
        2,
        1,
        [],
    )


def test_a_stalled_batch_is_resumed_by_the_sweep(integrator_client, seed_users, settings, eager_tasks):
    settings.BATCH_CHUNK_SIZE = 2
    # Posted, but its tasks never reached a worker (no on-commit execution here).
    integrator_client.post(
        "/api/batch/transactions", {"batchId": "s", "data": [body() for _ in range(3)]}, format="json"
    )
    batch = Batch.objects.get(batch_id="s")
    assert resume_batches() == 0  # too recent to be called stalled
    process_batch_chunk(batch.pk, 0, 0)  # one item applied, then the worker died
    later = timezone.now() + timedelta(seconds=settings.BATCH_RESUME_AFTER_SECONDS + 1)
    assert batches.resume_stalled(now=later) == 2  # chunks 0-1 and 2 still have pending items
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded) == ("DONE", 3)
    assert Transaction.objects.count() == 3
    assert batches.resume_stalled(now=later) == 0
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.get(task="transactions.resume_batches").enabled
