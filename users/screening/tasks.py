"""Celery entry points of ongoing screening: thin wrappers over `users.screening.ongoing`.

`users.screen_import_run` works through a run for up to `TIME_BUDGET` seconds, then sends
itself the step it stopped at, so no message outlives the task time limits however big the
import. Each step is idempotent (see `ongoing`): a redelivered message redoes at most one step,
records no hit twice, and never forks the chain.
"""

from __future__ import annotations

import logging
import time

from celery import Task, shared_task

from compliance.tasks import RETRY

logger = logging.getLogger(__name__)

# Seconds of screening per message (well under CELERY_TASK_SOFT_TIME_LIMIT).
TIME_BUDGET = 60.0


class ScreeningTask(Task):
    """Marks the run's screening FAILED once Celery gives up on it (not on each retry)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from users.screening import ongoing

        import_run_id = kwargs.get("import_run_id", args[0] if args else None)
        if import_run_id is not None:
            ongoing.screening_fail(
                import_run_id=import_run_id, actor=ongoing.actor(), error=f"{type(exc).__name__}: {exc}"
            )
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(name="users.screen_import_run", base=ScreeningTask, acks_late=True, **RETRY)
def screen_import_run(
    import_run_id: int, strategy: str | None = None, cursor: int = 0, done: int = 0, hits: int = 0
) -> dict | None:
    """Screen an import run's new and changed entries against all customers (from the start,
    or from the step given). Answers the progress when it stopped."""
    from users.screening import ongoing

    actor = ongoing.actor()
    if strategy is None:
        step = ongoing.screening_start(import_run_id=import_run_id, actor=actor)
    else:
        step = ongoing.Step(import_run_id, strategy, cursor, done, hits)
    deadline = time.monotonic() + TIME_BUDGET
    while step is not None and time.monotonic() < deadline:
        step = ongoing.screening_step(step, actor=actor)
    if step is None:
        return None
    screen_import_run.delay(**step.as_kwargs())
    logger.info("Import run %s: %d screened, continuing in a new message", import_run_id, step.done)
    return step.as_kwargs()
