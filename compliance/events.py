"""Domain events through a transactional outbox.

A lower app announces something without importing the apps that care:

    # users/services.py, inside the write's transaction.atomic()
    events.publish("customer.risk_changed", {"customerId": c.pk}, aggregate=c)

and a higher app reacts, registered when its AppConfig is ready:

    # cases/handlers.py
    @events.subscribe("customer.risk_changed")
    def open_case_for_high_risk(event): ...

`publish` writes an `OutboxEvent` row in the caller's transaction, so the event exists if
and only if the change committed, and asks Celery to dispatch it after commit. Dispatch
runs each handler in its own savepoint inside a transaction that holds the row locked;
a handler's database writes and the record that it ran commit together, so a retried
dispatch never runs a successful handler twice. Handlers that talk to the outside world
(webhooks) must only enqueue that work with `transaction.on_commit`.

Nothing is lost when the broker is down: the enqueue fails quietly, and the periodic sweep
(`compliance.redispatch_events`, every 30 s by beat) dispatches what is still pending,
with exponential backoff for handlers that keep failing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from compliance import context
from compliance.models import OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]


@dataclasses.dataclass(frozen=True)
class Subscription:
    event_name: str
    name: str
    func: Handler


_subscriptions: dict[str, dict[str, Subscription]] = {}


def subscribe(event_name: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for an event name. The name identifies the handler across deploys."""

    def decorator(func: Handler) -> Handler:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        _subscriptions.setdefault(event_name, {})[handler_name] = Subscription(event_name, handler_name, func)
        return func

    return decorator


def unsubscribe(event_name: str, name: str) -> None:
    _subscriptions.get(event_name, {}).pop(name, None)


def subscriptions_for(event_name: str) -> list[Subscription]:
    return list(_subscriptions.get(event_name, {}).values())


def publish(
    name: str,
    payload: dict,
    *,
    aggregate: models.Model | None = None,
    aggregate_type: str = "",
    aggregate_id: str | int = "",
) -> OutboxEvent:
    """Record an event in the current transaction and dispatch it after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events.publish() must run inside the write's transaction.atomic()")
    if aggregate is not None:
        aggregate_type = aggregate_type or aggregate._meta.label_lower
        aggregate_id = aggregate_id or aggregate.pk
    now = timezone.now()
    event = OutboxEvent.objects.create(
        name=name,
        payload=payload,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        request_id=context.get_request_id(),
        created_at=now,
        # The sweep leaves the row to the after-commit dispatch for this long.
        next_attempt_at=now + settings.OUTBOX_REDISPATCH_AFTER,
    )
    transaction.on_commit(lambda: enqueue_dispatch(event.pk), robust=True)
    return event


def enqueue_dispatch(event_id) -> None:
    from compliance.tasks import dispatch_event

    try:
        dispatch_event.delay(str(event_id))
    except Exception:  # broker down: the sweep will find the row
        logger.warning(
            "Could not enqueue dispatch of event %s; the sweep will retry", event_id, exc_info=True
        )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def dispatch(event_id) -> dict[str, str] | None:
    """Run the pending handlers of one event. Answers {handler: error} for failures,
    or None when the event is gone, already delivered, or being dispatched elsewhere."""
    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, dispatched_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if event is None:
            return None
        token = context.set_request_id(event.request_id)
        failures: dict[str, str] = {}
        try:
            for sub in subscriptions_for(event.name):
                if sub.name in event.handled_by:
                    continue
                try:
                    with transaction.atomic():
                        sub.func(event)
                except Exception as exc:
                    logger.exception("Handler %s failed on event %s (%s)", sub.name, event.pk, event.name)
                    failures[sub.name] = f"{type(exc).__name__}: {exc}"
                else:
                    event.handled_by = [*event.handled_by, sub.name]
        finally:
            context.reset_request_id(token)
        now = timezone.now()
        event.attempts += 1
        if failures:
            event.last_error = "\n".join(f"{name}: {error}" for name, error in failures.items())[:5000]
            if event.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                event.failed_at = now
            else:
                event.next_attempt_at = now + _backoff(event.attempts)
        else:
            event.dispatched_at = now
            event.last_error = ""
        event.save(
            update_fields=[
                "handled_by",
                "attempts",
                "last_error",
                "failed_at",
                "next_attempt_at",
                "dispatched_at",
            ]
        )
        return failures


def due_event_ids(*, limit: int = 500) -> list:
    """Pending events whose next attempt is due, oldest first."""
    return list(
        OutboxEvent.objects.filter(
            dispatched_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def redispatch_due(*, limit: int = 500) -> int:
    """The sweep: enqueue a dispatch for every due event. Answers how many."""
    ids = due_event_ids(limit=limit)
    for event_id in ids:
        enqueue_dispatch(event_id)
    return len(ids)


def retry_failed(*, event_ids, actor) -> int:
    """Give undelivered events another round now (admin action): resets their attempts,
    records who asked, and dispatches them after commit. Answers how many."""
    from compliance.audit import audit_log

    with transaction.atomic():
        ids = list(
            OutboxEvent.objects.select_for_update()
            .filter(pk__in=event_ids, dispatched_at__isnull=True)
            .values_list("pk", flat=True)
        )
        OutboxEvent.objects.filter(pk__in=ids).update(
            failed_at=None, attempts=0, next_attempt_at=timezone.now()
        )
        for event_id in ids:
            audit_log(
                actor=actor,
                action="other",
                object_type="compliance.outboxevent",
                object_id=event_id,
                after={"redispatch": True},
            )
        transaction.on_commit(lambda: [enqueue_dispatch(i) for i in ids], robust=True)
    return len(ids)
