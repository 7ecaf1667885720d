"""Issue 2, point 7: GET /api/health."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthy_is_200_without_credentials(api_client, settings):
    response = api_client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "up"
    assert body["broker"]["status"] == ("up" if settings.REDIS_URL else "eager")


@pytest.mark.django_db
def test_broker_down_is_503(api_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = api_client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["status"] == "down"
    assert body["database"]["status"] == "up"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the in-memory SQLite test database cannot be disconnected"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_down_is_503(api_client, tmp_path):
    """Point the connection at a database that cannot be reached, then restore it."""
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict["PORT"] = "1"
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "missing-dir" / "db.sqlite3")
    try:
        response = api_client.get("/api/health")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    assert response.json()["database"]["status"] == "down"
