"""Issue 2, point 8: an append-only record of every write."""

import pytest
from django.db import DatabaseError, connection, transaction

from compliance.audit import Actor, audit_log
from compliance.models import AuditTrail

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(analyst):
    return audit_log(
        actor=Actor(user=analyst),
        action="update",
        object_type="users.customer",
        object_id="JD001",
        before={"a": 1},
        after={"a": 2},
    )


def test_entry_records_actor_action_object_and_request(entry, analyst):
    assert entry.actor_user == analyst
    assert entry.actor_label == analyst.username
    assert (entry.object_type, entry.object_id, entry.before, entry.after) == (
        "users.customer",
        "JD001",
        {"a": 1},
        {"a": 2},
    )


def test_api_key_actor_is_recorded_with_its_account(integrator_key):
    key, _ = integrator_key
    row = audit_log(actor=Actor(api_key=key), action="create", object_type="x", object_id=1)
    assert row.actor_api_key == key
    assert row.actor_user == key.user
    assert row.actor_label.startswith("api-key:")


def test_request_id_of_the_request_is_recorded(api_client, analyst):
    response = api_client.post(
        "/api/login", {"username": analyst.username, "password": "nope"}, HTTP_X_REQUEST_ID="req-42"
    )
    assert response.status_code == 401
    assert AuditTrail.objects.get(action="login_failed").request_id == "req-42"


def test_the_orm_refuses_changes(entry):
    entry.action = "delete"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditTrail.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditTrail.objects.all().delete()


def test_the_database_refuses_updates_from_raw_sql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_audittrail SET action = 'x' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.action == "update"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps DELETE for the test flush")
def test_postgresql_refuses_deletes_from_raw_sql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM compliance_audittrail WHERE id = %s", [entry.pk])
    assert AuditTrail.objects.filter(pk=entry.pk).exists()


def test_no_admin_path_changes_or_deletes_it(admin_client, entry):
    base = f"/admin/compliance/audittrail/{entry.pk}"
    assert admin_client.get(f"{base}/change/").status_code == 200  # readable
    admin_client.post(f"{base}/change/", {"action": "delete"})
    assert admin_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/compliance/audittrail/add/").status_code == 403
    admin_client.post(
        "/admin/compliance/audittrail/", {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    entry.refresh_from_db()
    assert entry.action == "update"


def test_admin_changes_to_reference_data_are_audited(admin_client):
    from compliance.reference.models import Country

    country = Country.objects.get(alpha2="CY")
    response = admin_client.post(
        f"/admin/reference/country/{country.pk}/change/",
        {
            "alpha2": "CY",
            "alpha3": "CYP",
            "numeric": country.numeric,
            "name": country.name,
            "risk_score": 35,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = AuditTrail.objects.get(object_type="reference.country", object_id=str(country.pk))
    assert row.before["risk_score"] == 0
    assert row.after["risk_score"] == 35
