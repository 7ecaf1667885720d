"""Celery entry points of the rules app: thin wrappers over `rules.backtest`."""

import logging

from celery import shared_task

from compliance.tasks import RETRY

logger = logging.getLogger(__name__)

# A backtest scans up to a year of transactions. Both limits stay well under the broker's
# visibility timeout (an hour), or Redis would hand a still-running task to another worker.
BACKTEST_SOFT_TIME_LIMIT = 25 * 60
BACKTEST_TIME_LIMIT = 30 * 60


@shared_task(
    name="rules.backtest_run",
    bind=True,
    acks_late=True,
    soft_time_limit=BACKTEST_SOFT_TIME_LIMIT,
    time_limit=BACKTEST_TIME_LIMIT,
    **RETRY,
)
def backtest_run(self, run_id: int) -> dict | None:
    """Execute one backtest run. Idempotent: the run is claimed with a conditional UPDATE
    (QUEUED -> RUNNING), so a redelivered or duplicated task finds it claimed and returns."""
    from rules.backtest import backtest_execute

    run = backtest_execute(run_id, final_attempt=self.request.retries >= self.max_retries)
    if run is None:
        return None
    logger.info(
        "Backtest %s %s: %d transactions scanned, %d hits",
        run.pk,
        run.status,
        run.transactions_scanned,
        run.hits,
    )
    return {"status": run.status, "transactionsScanned": run.transactions_scanned, "hits": run.hits}
