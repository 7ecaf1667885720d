"""On the real stack: a posted batch is applied by a real Celery worker process after commit,
its transactions judged and their alerts opened there (issue 7)."""

import pytest

from cases.models import Alert
from compliance.models import OutboxEvent
from tests.conftest import wait_for
from tests.transactions.test_consequences import recent
from transactions.models import Batch, Transaction

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_batch_is_applied_by_the_worker(integrator_client, seed_users, instance, celery_worker_process):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    items = [recent() for _ in range(3)] + [recent(type="NOT_A_TYPE")]
    response = integrator_client.post(
        "/api/batch/transactions", {"batchId": "w", "data": items}, format="json"
    )
    assert response.status_code == 202
    assert wait_for(lambda: Batch.objects.get(batch_id="w").finished_at is not None, timeout=30)
    page = integrator_client.get("/api/batch/transactions/w").json()
    assert page["status"] == "DONE_WITH_ERRORS"
    assert (page["succeeded"], page["failed"]) == (3, 1)
    assert page["errors"][0]["position"] == 3
    assert [doc["status"] for doc in page["transactions"]] == ["FLAG"] * 3
    assert Transaction.objects.count() == 3
    assert wait_for(lambda: Alert.objects.filter(transactions__isnull=False).exists(), timeout=30)
    # Let the worker finish the events' handlers before the database is flushed under it.
    assert wait_for(lambda: not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists(), timeout=30)
