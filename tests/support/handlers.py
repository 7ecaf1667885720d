"""Domain-event handlers used by the tests, registered in the test process and in the
Celery worker the integration tests start (tests.support.worker_app)."""

from compliance import events
from compliance.audit import Actor, audit_log

HANDLED_TYPE = "tests.handled"


@events.subscribe("tests.recorded", name="tests.record_handled")
def record_handled(event):
    """Leaves a visible trace: an audit row naming the event's marker."""
    audit_log(
        actor=Actor.system_actor("tests"),
        action="other",
        object_type=HANDLED_TYPE,
        object_id=event.payload["marker"],
        after={"event": str(event.pk)},
    )


FAIL_MARKERS: set[str] = set()


@events.subscribe("tests.flaky", name="tests.flaky")
def flaky(event):
    """Fails while its marker is in FAIL_MARKERS (test process only)."""
    if event.payload["marker"] in FAIL_MARKERS:
        raise RuntimeError("receiver unavailable")
    record_handled(event)
