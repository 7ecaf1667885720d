"""Backtests: a rule instance's configuration over the stored transactions of a period, changing
nothing; claimed once (a redelivered task does nothing twice)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from compliance.audit import Actor
from compliance.errors import ApplicationError, NotFoundError
from compliance.models import AuditTrail, OutboxEvent
from rules import backtest, services, tasks
from rules.models import BacktestRun
from tests.conftest import wait_for
from tests.transactions.conftest import ORIGIN_ID, body, exchange_rates, make_instance, seed_users
from transactions.models import Transaction, TransactionRuleHit
from users.models import Customer

pytestmark = pytest.mark.django_db

__all__ = ["exchange_rates", "seed_users"]  # fixtures, used by name

ACTOR = Actor.system_actor("tests")
T0 = datetime(2024, 12, 8, 9, 0, tzinfo=UTC)
VELOCITY = {
    "transactionsLimit": 1,
    "timeWindow": {"units": 1, "granularity": "hour"},
    "checkFor": "originUser",
}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def post(client, moment: datetime, amount=35000, **overrides) -> dict:
    sent = body(timestamp=ms(moment), **overrides)
    sent["originAmountDetails"] = {**sent["originAmountDetails"], "transactionAmount": amount}
    response = client.post("/api/transactions", sent, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def queued(monkeypatch):
    """Run ids handed to the workers; nothing runs until the test says so."""
    ids = []
    monkeypatch.setattr(tasks.backtest_run, "delay", lambda run_id: ids.append(run_id))
    return ids


@pytest.fixture
def run_tasks_here(monkeypatch):
    """Queued backtests run in this process as they are queued (eager or not, the same test)."""

    def delay(*args, **kwargs):
        result = tasks.backtest_run.apply(args=args, kwargs=kwargs)
        assert result.successful(), result.traceback
        return result

    monkeypatch.setattr(tasks.backtest_run, "delay", delay)


def request(instance, start=T0 - timedelta(days=1), end=T0 + timedelta(days=2), **kwargs) -> BacktestRun:
    return services.backtest_request(
        actor=ACTOR, instance_id=instance.pk, period_start=start, period_end=end, **kwargs
    )


def snapshot() -> list[tuple]:
    return list(
        Transaction.objects.order_by("id").values_list(
            "id", "status", "executed_rules", "hit_rules", "rule_errors", "risk_score_details", "updated_at"
        )
    )


@pytest.fixture
def history(integrator_client, seed_users):
    """Four transactions of the same origin user: three within an hour, one a day later, and one
    outside the period backtested below."""
    return [
        post(integrator_client, T0, 35000),
        post(integrator_client, T0 + timedelta(minutes=1), 100),
        post(integrator_client, T0 + timedelta(minutes=2), 40000),
        post(integrator_client, T0 + timedelta(days=1), 50000),
        post(integrator_client, T0 - timedelta(days=10), 90000),
    ]


def test_counts_hits_over_the_period_and_changes_nothing(
    history, run_tasks_here, django_capture_on_commit_callbacks
):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, action="BLOCK")
    before, hits_before, events_before = (
        snapshot(),
        TransactionRuleHit.objects.count(),
        OutboxEvent.objects.count(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        run = request(instance)
    assert run.status == BacktestRun.Status.QUEUED
    run.refresh_from_db()
    assert run.status == BacktestRun.Status.DONE, run.error
    assert run.transactions_scanned == 4  # the one ten days earlier is outside the period
    assert run.hits == 3
    assert run.hit_rate == 75.0
    assert run.error == ""
    assert run.started_at <= run.finished_at
    assert [sample["transactionId"] for sample in run.sample_hits] == [
        history[0]["transactionId"],
        history[2]["transactionId"],
        history[3]["transactionId"],
    ]
    first = run.sample_hits[0]
    assert first["timestamp"] == ms(T0)
    assert first["action"] == "BLOCK"
    assert first["riskLevel"] == Customer.objects.get(external_ref=ORIGIN_ID).risk_level  # current level
    assert first["hitDirections"] == ["ORIGIN"]
    assert first["data"]["rule"]["listAmount"] == {"currency": "PHP", "amount": 30000}
    assert run.config["versionId"] == f"{instance.pk}.1"

    assert snapshot() == before
    assert TransactionRuleHit.objects.count() == hits_before
    assert OutboxEvent.objects.count() == events_before
    audit = AuditTrail.objects.get(object_type="rules.backtestrun", object_id=str(run.pk))
    assert audit.action == AuditTrail.Action.CREATE
    assert audit.after["ruleInstanceId"] == str(instance.pk)


def test_history_windows_end_at_each_transactions_own_time(history, queued):
    # More than one transaction of the origin user within the hour before (this one included).
    instance = make_instance("R-2", parameters=VELOCITY, status="INACTIVE")
    run = request(instance)
    assert backtest.backtest_execute(run.pk) is not None
    run.refresh_from_db()
    assert run.status == BacktestRun.Status.DONE
    assert run.transactions_scanned == 4
    # The second (2 within the hour) and the third (3); not the first, not the one a day later.
    assert [sample["transactionId"] for sample in run.sample_hits] == [
        history[1]["transactionId"],
        history[2]["transactionId"],
    ]
    assert [sample["data"]["aggregates"]["transactionsCount"] for sample in run.sample_hits] == [2, 3]


def test_filters_apply_and_chunks_cover_every_transaction(history, queued, monkeypatch):
    monkeypatch.setattr(backtest, "CHUNK_SIZE", 2)
    monkeypatch.setattr(backtest, "SAMPLE_LIMIT", 1)
    instance = make_instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 1}},
        filters={"transactionTypes": ["TRANSFER"]},
    )
    run = backtest.backtest_execute(request(instance).pk)
    assert (run.transactions_scanned, run.hits, len(run.sample_hits)) == (4, 4, 1)

    services.rule_instance_update(
        actor=ACTOR, instance_id=instance.pk, document={"filters": {"currencies": ["EUR"]}}
    )
    run = backtest.backtest_execute(request(instance).pk)
    assert (run.transactions_scanned, run.hits, run.sample_hits) == (4, 0, [])
    assert run.config["versionId"] == f"{instance.pk}.2"


def test_the_claim_makes_a_second_run_a_no_op(history, queued):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance)
    assert queued == []  # enqueued after commit only
    first = tasks.backtest_run.apply(args=[run.pk])
    assert first.successful()
    assert first.result == {"status": "DONE", "transactionsScanned": 4, "hits": 3}
    finished = BacktestRun.objects.get(pk=run.pk)

    second = tasks.backtest_run.apply(args=[run.pk])  # a redelivery
    assert second.successful()
    assert second.result is None
    again = BacktestRun.objects.get(pk=run.pk)
    assert (again.status, again.finished_at, again.hits) == (
        finished.status,
        finished.finished_at,
        finished.hits,
    )
    assert tasks.backtest_run.apply(args=[424242]).result is None  # gone: nothing to do


def test_a_running_claim_is_left_alone_until_it_is_stale(history, queued):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance)
    recent = timezone.now() - timedelta(minutes=5)
    BacktestRun.objects.filter(pk=run.pk).update(status=BacktestRun.Status.RUNNING, started_at=recent)
    assert backtest.backtest_execute(run.pk) is None  # another worker has it

    # A claim older than the hard time limit belongs to a dead worker: a redelivery takes over.
    stale = timezone.now() - backtest.stale_claim_age() - timedelta(seconds=1)
    BacktestRun.objects.filter(pk=run.pk).update(started_at=stale)
    taken = backtest.backtest_execute(run.pk)
    assert taken.status == BacktestRun.Status.DONE
    assert taken.hits == 3


def test_a_failing_rule_fails_the_run_naming_the_transaction(history, queued, monkeypatch):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance)

    def explode(compiled, ctx):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(backtest.runner, "execute", explode)
    failed = backtest.backtest_execute(run.pk)
    assert failed.status == BacktestRun.Status.FAILED
    assert failed.error == f"On transaction {history[0]['transactionId']}: ZeroDivisionError: boom"
    assert failed.finished_at is not None


def test_a_transient_error_releases_the_run_for_a_retry(history, queued, monkeypatch):
    from django.db import OperationalError

    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance)
    calls = []

    def flaky(compiled, ctx):
        calls.append(ctx.transaction.pk)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(backtest.runner, "execute", flaky)
    with pytest.raises(OperationalError):
        backtest.backtest_execute(run.pk, final_attempt=False)
    run.refresh_from_db()
    assert (run.status, run.started_at) == (BacktestRun.Status.QUEUED, None)

    # The last attempt fails the run rather than leaving it queued.
    failed = backtest.backtest_execute(run.pk, final_attempt=True)
    assert failed.status == BacktestRun.Status.FAILED
    assert "OperationalError" in failed.error


def test_a_broker_that_refuses_the_run_fails_it(history, monkeypatch, django_capture_on_commit_callbacks):
    def refuse(run_id):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(tasks.backtest_run, "delay", refuse)
    instance = make_instance("R-1")
    with django_capture_on_commit_callbacks(execute=True):
        run = request(instance)
    run.refresh_from_db()
    assert run.status == BacktestRun.Status.FAILED
    assert run.error == "Could not be queued: ConnectionError: Redis is away"


def test_a_draft_configuration_is_tested_without_being_saved(history, queued):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance, config={"parameters": {"transactionAmountThreshold": {"PHP": 45000}}})
    assert run.config["versionId"] == f"{instance.pk}.1+draft"
    assert run.config["parameters"] == {"transactionAmountThreshold": {"PHP": 45000}}
    done = backtest.backtest_execute(run.pk)
    assert done.hits == 1  # only the 50000 one
    instance.refresh_from_db()
    assert instance.parameters == {"transactionAmountThreshold": {"PHP": 30000}}
    assert instance.version == 1

    with pytest.raises(ApplicationError) as refused:
        request(instance, config={"parameters": {"transactionAmountThreshold": {"PHP": -5}}})
    assert set(refused.value.errors) == {"parameters.transactionAmountThreshold.PHP"}
    with pytest.raises(ApplicationError) as unknown:
        request(instance, config={"threshold": 5})
    assert set(unknown.value.errors) == {"config.threshold"}


def test_requests_are_validated(db, queued):
    instance = make_instance("R-1")
    for start, end in ((T0, T0), (T0, T0 - timedelta(seconds=1)), (T0, T0 + timedelta(days=367))):
        with pytest.raises(ApplicationError) as refused:
            request(instance, start, end)
        assert set(refused.value.errors) == {"toTimestamp"}
    services.rule_instance_delete(actor=ACTOR, instance_id=instance.pk)
    with pytest.raises(NotFoundError):
        request(instance)
    assert not BacktestRun.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_the_backtest_once(celery_worker_process, integrator_client, seed_users):
    from rules.engine import runner

    runner.bump_generation()
    for minutes, amount in ((0, 35000), (1, 100), (2, 40000)):
        post(integrator_client, T0 + timedelta(minutes=minutes), amount)
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance)  # committed: the worker gets it through Redis
    done = wait_for(
        lambda: BacktestRun.objects.filter(pk=run.pk, status__in=["DONE", "FAILED"]).first(), timeout=60
    )
    assert done is not None, "the worker did not finish the backtest"
    assert (done.status, done.transactions_scanned, done.hits) == ("DONE", 3, 2), done.error
    # A duplicate delivery finds the run claimed and changes nothing.
    assert tasks.backtest_run.apply(args=[run.pk]).result is None
    assert BacktestRun.objects.get(pk=run.pk).finished_at == done.finished_at


def test_a_run_reads_transactions_by_chunk_not_one_by_one(history, queued, django_assert_num_queries):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    run = request(instance)
    # The claim; the run; a chunk of transactions with their users; the progress; the next
    # (empty) chunk; the finish; the run as finished. R-1 reads no history: nothing per transaction.
    with django_assert_num_queries(7):
        assert backtest.backtest_execute(run.pk).hits == 3
