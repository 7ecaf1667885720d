"""Issue 2: a real task through Redis to a real Celery worker process."""

import pytest

from compliance.tasks import ping

pytestmark = pytest.mark.integration


def test_task_round_trip_through_redis_to_a_worker_process(celery_worker_process):
    result = ping.delay("hello")
    answer = result.get(timeout=30)
    assert answer["echo"] == "hello"
    assert celery_worker_process.poll() is None  # the worker process is alive and did it
