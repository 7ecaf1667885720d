"""On the real stack: a transaction posted through the API opens its case and alert in a real
Celery worker, from the outbox event, after commit (issue 5)."""

import pytest

from cases.models import Alert, Case
from tests.conftest import wait_for
from tests.transactions.test_consequences import recent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_posted_transaction_opens_a_case_in_the_worker(
    integrator_client, seed_users, instance, celery_worker_process
):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, casePriority="P2")
    data = recent()
    response = integrator_client.post("/api/transactions", data, format="json")
    assert response.status_code == 200
    assert response.json()["hitRules"]
    assert wait_for(lambda: Alert.objects.exists(), timeout=30), "the worker opened no alert"
    alert = Alert.objects.get()
    assert alert.transaction_ids == [data["transactionId"]]
    assert Case.objects.get().priority == "P2"
