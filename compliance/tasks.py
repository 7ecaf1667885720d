"""Celery entry points of the platform: thin wrappers over services."""

import logging
import socket

from celery import shared_task
from django.db import DatabaseError

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (DatabaseError, ConnectionError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="compliance.dispatch_event", acks_late=True, **RETRY)
def dispatch_event(event_id: str) -> None:
    """Run the handlers of one outbox event. Idempotent: a delivered event is skipped,
    a handler that already ran is not run again, a locked row is left to its holder."""
    from compliance import events

    failures = events.dispatch(event_id)
    if failures:
        logger.warning(
            "Event %s: %d handler(s) failed; the sweep retries with backoff", event_id, len(failures)
        )


@shared_task(name="compliance.redispatch_events", acks_late=True, expires=25, **RETRY)
def redispatch_events() -> int:
    """Beat, every 30 s: dispatch events left undelivered (broker down, worker lost, handler failing)."""
    from compliance import events

    count = events.redispatch_due()
    if count:
        logger.info("Re-dispatched %d pending domain events", count)
    return count


@shared_task(name="compliance.deliver_webhook", acks_late=True, **RETRY)
def deliver_webhook(delivery_id: str, revision: int) -> None:
    """Send one attempt of a webhook delivery. Idempotent: the attempt is claimed on the
    delivery's revision, so a copy of this task (or the sweep's) sends nothing twice."""
    from compliance.webhooks import delivery_attempt

    delivery_attempt(delivery_id, revision)


@shared_task(name="compliance.webhooks_redeliver", acks_late=True, expires=25, **RETRY)
def webhooks_redeliver() -> int:
    """Beat, every 30 s: send the webhook deliveries that are due (retries with backoff, and
    deliveries whose first task never reached a worker)."""
    from compliance.webhooks import redeliver_due

    count = redeliver_due()
    if count:
        logger.info("Enqueued %d due webhook deliveries", count)
    return count


@shared_task(name="compliance.purge_expired_tokens", acks_late=True, **RETRY)
def purge_expired_tokens() -> int:
    """Beat, daily: delete login tokens that expired more than a day ago."""
    from compliance.services import access_tokens_purge_expired

    return access_tokens_purge_expired()


@shared_task(name="compliance.ping", ignore_result=False)
def ping(value: str) -> dict:
    """Round trip through the broker; the integration tests use it."""
    return {"echo": value, "worker": socket.gethostname()}
