"""Issue 2, point 9: domain events through the outbox, dispatched after commit.

On the embedded default the dispatch task runs eagerly in this process; on PostgreSQL +
Redis it goes through the broker to the real worker process (fixture `event_dispatch`).
"""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from compliance import events
from compliance.models import AuditTrail, OutboxEvent
from compliance.tasks import redispatch_events
from tests.conftest import wait_for
from tests.support import handlers
from tests.support.handlers import HANDLED_TYPE

# Dispatch happens on commit, so these tests need real commits; the serialized rollback
# restores the reference data and roles afterwards.
transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def handled(marker):
    return AuditTrail.objects.filter(object_type=HANDLED_TYPE, object_id=marker).count()


class Boom(Exception):
    pass


@transactional
def test_handler_runs_after_commit(event_dispatch):
    marker = uuid.uuid4().hex
    with transaction.atomic():
        event = events.publish("tests.recorded", {"marker": marker}, aggregate_type="tests", aggregate_id=1)
        assert handled(marker) == 0  # nothing runs inside the writing transaction
    assert wait_for(lambda: handled(marker) == 1)
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert event.handled_by == ["tests.record_handled"]


@transactional
def test_handler_does_not_run_after_rollback(event_dispatch):
    marker = uuid.uuid4().hex

    def write_then_fail():
        with transaction.atomic():
            events.publish("tests.recorded", {"marker": marker})
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert not OutboxEvent.objects.filter(payload__marker=marker).exists()
    assert redispatch_events.apply().get() == 0  # even the sweep finds nothing to deliver
    assert not wait_for(lambda: handled(marker), timeout=1)


@transactional
def test_sweep_delivers_what_was_never_dispatched(event_dispatch, monkeypatch):
    """The broker was down at commit: the outbox row stays pending until the sweep."""
    from kombu.exceptions import OperationalError

    from compliance.tasks import dispatch_event

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    marker = uuid.uuid4().hex
    with monkeypatch.context() as patch:
        patch.setattr(dispatch_event, "delay", broker_down)
        with transaction.atomic():
            event = events.publish("tests.recorded", {"marker": marker})
    # the write committed even though the broker was down
    assert OutboxEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).exists()
    assert handled(marker) == 0
    # The sweep (run here; it enqueues dispatches to the worker) leaves fresh rows to the
    # after-commit dispatch, then takes them once their grace has passed.
    assert redispatch_events.apply().get() == 0
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert redispatch_events.apply().get() == 1
    assert wait_for(lambda: handled(marker) == 1)


@transactional
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        events.publish("tests.recorded", {"marker": "x"})


@pytest.mark.django_db
def test_failing_handler_is_retried_alone_with_backoff(django_capture_on_commit_callbacks):
    marker = uuid.uuid4().hex
    handlers.FAIL_MARKERS.add(marker)
    try:
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            event = events.publish("tests.flaky", {"marker": marker})
            events.publish("tests.recorded", {"marker": marker + "-other"})
        failures = events.dispatch(event.pk)
        assert failures == {"tests.flaky": "RuntimeError: receiver unavailable"}
        event.refresh_from_db()
        assert event.dispatched_at is None
        assert event.attempts == 1
        assert event.next_attempt_at > timezone.now() + timedelta(seconds=20)
        assert "receiver unavailable" in event.last_error
        assert event.pk not in events.due_event_ids()  # backing off

        handlers.FAIL_MARKERS.discard(marker)
        assert events.dispatch(event.pk) == {}
        event.refresh_from_db()
        assert event.dispatched_at is not None
        assert event.attempts == 2
        assert handled(marker) == 1
        assert events.dispatch(event.pk) is None  # delivered events are not run again
        assert handled(marker) == 1
    finally:
        handlers.FAIL_MARKERS.discard(marker)


@pytest.mark.django_db
def test_attempts_run_out_and_the_admin_can_retry(settings, admin_client, django_capture_on_commit_callbacks):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    marker = uuid.uuid4().hex
    handlers.FAIL_MARKERS.add(marker)
    try:
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            event = events.publish("tests.flaky", {"marker": marker})
        events.dispatch(event.pk)
        events.dispatch(event.pk)
        event.refresh_from_db()
        assert event.failed_at is not None
        assert event.pk not in events.due_event_ids()  # the sweep gave up on it
        handlers.FAIL_MARKERS.discard(marker)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            admin_client.post(
                "/admin/compliance/outboxevent/",
                {"action": "redispatch", "_selected_action": [str(event.pk)]},
            )
        assert len(callbacks) == 1  # a dispatch is enqueued once the admin's change commits
        event.refresh_from_db()
        assert event.failed_at is None
        assert event.attempts == 0
        assert event.pk in events.due_event_ids()  # and the sweep takes it up again
        assert events.dispatch(event.pk) == {}
        event.refresh_from_db()
        assert event.dispatched_at is not None
        assert handled(marker) == 1
    finally:
        handlers.FAIL_MARKERS.discard(marker)
