"""Backtests: a rule instance's configuration run over the stored transactions of a period.

A backtest answers "what would this rule have done?" before it goes live or after a change:
how many of the period's transactions it would have hit, and examples of the hits with the
rule's evidence. It changes nothing: no executed rules or hits are stored, no transaction is
updated, no event is published, no user is triggered.

A run is asked for by `rules.services.backtest_request` (QUEUED) and executed by the Celery
task `rules.backtest_run`, which claims it with a conditional UPDATE (QUEUED -> RUNNING):
a redelivered task finds the run claimed and does nothing. Transactions are read in chunks
by id with their users, and each is judged as the engine judges it live (filters, the
parameters and action of the user's risk level), in an `EvaluationContext` whose history
windows end at the transaction's own timestamp.

Limits of the replay: the users' *current* ongoing risk levels pick the per-level
parameters, and amounts are converted with the current exchange rates.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from rules.engine import runner
from rules.engine.context import EvaluationContext
from rules.models import BacktestRun
from transactions.models import Transaction
from users.api.user_serializers.fields import millis

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
SAMPLE_LIMIT = 20
# One run's work is bounded by its period; a year of transactions is the most one may scan.
MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)
# Transient failures the task retries (declaratively, see rules.tasks); anything else fails the run.
TRANSIENT = (DatabaseError, ConnectionError)


def stale_claim_age() -> timedelta:
    """A RUNNING claim older than the task's hard time limit belongs to a worker that died
    (the limit would have killed it otherwise): a redelivered task may take the run over."""
    from rules.tasks import BACKTEST_TIME_LIMIT

    return timedelta(seconds=BACKTEST_TIME_LIMIT + 300)


def enqueue(run_id: int) -> None:
    """Hand a run to the workers (after commit). A broker that refuses it fails the run visibly
    rather than leaving it QUEUED for ever."""
    from rules import tasks

    try:
        tasks.backtest_run.delay(run_id)
    except Exception as exc:
        logger.exception("Could not queue backtest %s", run_id)
        BacktestRun.objects.filter(pk=run_id, status=BacktestRun.Status.QUEUED).update(
            status=BacktestRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"Could not be queued: {type(exc).__name__}: {exc}"[:2000],
        )


def _claim(run_id: int):
    """QUEUED (or stale RUNNING) -> RUNNING; the claim's start time, or None when another has it."""
    started = timezone.now()
    claimable = Q(status=BacktestRun.Status.QUEUED) | Q(
        status=BacktestRun.Status.RUNNING, started_at__lt=started - stale_claim_age()
    )
    claimed = BacktestRun.objects.filter(claimable, pk=run_id).update(
        status=BacktestRun.Status.RUNNING, started_at=started, transactions_scanned=0, hits=0
    )
    return started if claimed == 1 else None


def _ours(run_id: int, started):
    """The run while our claim holds: every write after the claim is conditional on it."""
    return BacktestRun.objects.filter(pk=run_id, status=BacktestRun.Status.RUNNING, started_at=started)


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _sample(tx: Transaction, execution: runner.Execution) -> dict:
    [level_run] = execution.item["executedRules"]
    return {
        "transactionId": tx.transaction_id,
        "timestamp": millis(tx.timestamp),
        "action": execution.action,
        "riskLevel": level_run["riskLevel"],
        "hitDirections": list(execution.hit_directions),
        "data": _jsonable(level_run["detail"]["data"]),
    }


def period_transactions(run: BacktestRun):
    """The period's stored transactions with the users the engine reads, in storage order.
    Without their live verdict: a backtest judges afresh (and reads less)."""
    return (
        Transaction.objects.filter(timestamp__gte=run.period_start, timestamp__lt=run.period_end)
        .select_related("origin_user", "destination_user")
        .defer("executed_rules", "hit_rules", "rule_errors", "risk_score_details")
        .order_by("id")
    )


def backtest_execute(run_id: int, *, final_attempt: bool = True) -> BacktestRun | None:
    """Claim and execute one run; None when it is gone or claimed already (a redelivery).

    A transient failure (database, connection) releases the claim and is raised again for the
    task to retry, unless this is the `final_attempt`; any other error fails the run with it.
    """
    started = _claim(run_id)
    if started is None:
        logger.info("Backtest %s is gone or claimed already; nothing to do", run_id)
        return None
    run = BacktestRun.objects.get(pk=run_id)
    scanned = hits = 0
    samples: list[dict] = []
    current = None
    try:
        instance = runner.compile_document(run.config)
        transactions = period_transactions(run)
        last_id = 0
        while True:
            chunk = list(transactions.filter(id__gt=last_id)[:CHUNK_SIZE])
            if not chunk:
                break
            for current in chunk:
                execution = runner.execute(instance, EvaluationContext(current))
                scanned += 1
                if execution is not None and execution.hit:
                    hits += 1
                    if len(samples) < SAMPLE_LIMIT:
                        samples.append(_sample(current, execution))
            current = None
            last_id = chunk[-1].pk
            # Progress, for whoever watches the run in the admin.
            _ours(run_id, started).update(transactions_scanned=scanned, hits=hits)
    except TRANSIENT:
        if not final_attempt:
            logger.warning("Backtest %s met a transient error; releasing it for a retry", run_id)
            _release(run_id, started)
            raise
        logger.exception("Backtest %s failed on its last attempt", run_id)
        return _finish(run_id, started, scanned, hits, samples, error=_error_text(current))
    except SoftTimeLimitExceeded:
        logger.warning("Backtest %s ran out of time after %d transactions", run_id, scanned)
        return _finish(
            run_id,
            started,
            scanned,
            hits,
            samples,
            error=f"Stopped after {scanned} transactions: the run took too long. Ask for a shorter period.",
        )
    except Exception:
        logger.exception("Backtest %s failed", run_id)
        return _finish(run_id, started, scanned, hits, samples, error=_error_text(current))
    return _finish(run_id, started, scanned, hits, samples)


def _error_text(tx: Transaction | None) -> str:
    """The error being handled, and the transaction it happened on."""
    exc = sys.exc_info()[1]
    where = f"On transaction {tx.transaction_id}: " if tx is not None else ""
    return f"{where}{type(exc).__name__}: {exc}"[:2000]


def _release(run_id: int, started) -> None:
    try:
        _ours(run_id, started).update(status=BacktestRun.Status.QUEUED, started_at=None)
    except TRANSIENT:
        # The database is still away: the claim goes stale and a retry takes the run over then.
        logger.warning("Could not release backtest %s", run_id, exc_info=True)


def _finish(run_id, started, scanned, hits, samples, *, error: str = "") -> BacktestRun | None:
    _ours(run_id, started).update(
        status=BacktestRun.Status.FAILED if error else BacktestRun.Status.DONE,
        finished_at=timezone.now(),
        transactions_scanned=scanned,
        hits=hits,
        sample_hits=samples,
        error=error,
    )
    return BacktestRun.objects.filter(pk=run_id).first()


# --- answers --------------------------------------------------------------------------------


def duration(run: BacktestRun) -> timedelta | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return run.finished_at - run.started_at


def backtest_document(run: BacktestRun) -> dict:
    """A run as the API answers it."""
    return {
        "backtestId": str(run.pk),
        "ruleInstanceId": str(run.rule_instance_id),
        "versionId": run.config.get("versionId") or "",
        "status": run.status,
        "fromTimestamp": millis(run.period_start),
        "toTimestamp": millis(run.period_end),
        "requestedBy": run.requested_by,
        "createdAt": millis(run.created_at),
        "startedAt": millis(run.started_at),
        "finishedAt": millis(run.finished_at),
        "transactionsScanned": run.transactions_scanned,
        "hits": run.hits,
        "hitRate": run.hit_rate,
        "sampleHits": run.sample_hits,
        "error": run.error,
        "config": run.config,
    }
