"""The batches in the admin (issue 7): list, filters, the refused items' errors, the items' link."""

import pytest

from tests.transactions.conftest import body
from transactions.models import Batch

pytestmark = pytest.mark.django_db

BATCHES = "/admin/transactions/batch/"
ITEMS = "/admin/transactions/batchitem/"


@pytest.fixture
def batch(integrator_client, seed_users, eager_tasks, django_capture_on_commit_callbacks):
    envelope = {"batchId": "admin-1", "data": [body(), body(type=None)]}
    with django_capture_on_commit_callbacks(execute=True):
        assert integrator_client.post("/api/batch/transactions", envelope, format="json").status_code == 202
    return Batch.objects.get(batch_id="admin-1")


@pytest.fixture
def analyst_admin(client, analyst):
    analyst.is_staff = True
    analyst.save()
    client.force_login(analyst)
    return client


def test_batches_are_listed_with_their_progress_and_errors(analyst_admin, batch):
    page = analyst_admin.get(BATCHES)
    assert page.status_code == 200
    text = page.content.decode()
    assert "admin-1" in text
    assert "DONE_WITH_ERRORS" in text
    for params in ({"kind": "transactions"}, {"status": "DONE"}, {"q": "admin-1"}):
        assert analyst_admin.get(BATCHES, params).status_code == 200, params
    assert analyst_admin.get(BATCHES, {"status": "DONE"}).context["cl"].result_count == 0

    detail = analyst_admin.get(f"{BATCHES}{batch.pk}/change/").content.decode()
    assert "type: This field is required." in detail
    assert f"{ITEMS}?batch__id__exact={batch.pk}" in detail

    items = analyst_admin.get(ITEMS, {"batch__id__exact": batch.pk})
    assert items.status_code == 200
    assert items.context["cl"].result_count == 2
    item = batch.items.get(position=1)
    assert analyst_admin.get(f"{ITEMS}{item.pk}/change/").status_code == 200
    # Read-only: nothing is added, changed or deleted here.
    assert analyst_admin.get(f"{BATCHES}add/").status_code == 403
    assert analyst_admin.post(f"{ITEMS}{item.pk}/delete/", {"post": "yes"}).status_code == 403
