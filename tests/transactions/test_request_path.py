"""What every API request pays before its view, made cheap for the issue 4 benchmark and held to
its behaviour here: the permission check is cached per user (compliance.api.permissions) — read
once, and a change to who holds what is seen by the very next request — and the rate limit
counts in two fixed windows on Redis (compliance.api.throttling) instead of keeping every
request's timestamp."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import roles
from compliance.api.throttling import CredentialRateThrottle
from tests.transactions.conftest import body

ADD = "add_transaction"


def post(client):
    return client.post("/api/transactions", body(originUserId=None, destinationUserId=None), format="json")


@pytest.fixture
def integrator_group(db):
    return Group.objects.get(name=roles.INTEGRATOR)


def test_permissions_are_read_once(integrator_client):
    assert post(integrator_client).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert post(integrator_client).status_code == 200
    assert [q["sql"] for q in captured.captured_queries if "auth_permission" in q["sql"]] == []


def test_a_permission_taken_from_the_role_is_refused_at_once(integrator_client, integrator_group):
    assert post(integrator_client).status_code == 200
    integrator_group.permissions.remove(Permission.objects.get(codename=ADD))
    assert post(integrator_client).status_code == 403
    integrator_group.permissions.add(Permission.objects.get(codename=ADD))
    assert post(integrator_client).status_code == 200


def test_a_user_taken_out_of_the_role_is_refused_at_once(integrator_client, integrator_account):
    assert post(integrator_client).status_code == 200
    integrator_account.groups.clear()
    assert post(integrator_client).status_code == 403


def test_a_deleted_role_is_refused_at_once(integrator_client, integrator_group):
    assert post(integrator_client).status_code == 200
    integrator_group.delete()
    assert post(integrator_client).status_code == 403


def test_a_deleted_permission_is_refused_at_once(integrator_client):
    assert post(integrator_client).status_code == 200
    Permission.objects.filter(codename=ADD).delete()
    assert post(integrator_client).status_code == 403


def test_a_permission_granted_to_the_user_is_seen_at_once(outsider_client, outsider):
    assert post(outsider_client).status_code == 403
    outsider.user_permissions.add(Permission.objects.get(codename=ADD))
    assert post(outsider_client).status_code == 200


def test_a_deactivated_user_is_refused_at_once(analyst_client, analyst):
    assert analyst_client.get("/api/transactions").status_code == 200
    analyst.is_active = False
    analyst.save()
    assert analyst_client.get("/api/transactions").status_code in (401, 403)


# --- the rate limit on Redis -------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch, settings):
    if not settings.REDIS_URL:
        pytest.skip("the window counters are the Redis path (locmem runs DRF's throttle)")
    now = {"t": 6_000_000.0}
    monkeypatch.setattr(CredentialRateThrottle, "timer", lambda self: now["t"])
    monkeypatch.setattr(
        CredentialRateThrottle, "THROTTLE_RATES", {"credential": "2/min", "anonymous": "2/min"}
    )
    return now


def lookups(client):
    return client.get("/api/lookups")


def test_the_limit_slides_over_the_previous_window(analyst_client, clock):
    clock["t"] += 10
    assert [lookups(analyst_client).status_code for _ in range(3)] == [200, 200, 429]
    # 55 s later, in the next window: the previous window's 2 still weigh 55/60 of themselves.
    clock["t"] += 55
    refused = lookups(analyst_client)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    # Once the overlap has shrunk (5/60 of the previous window), the next request passes.
    clock["t"] += 50
    assert lookups(analyst_client).status_code == 200


def test_refused_requests_are_not_counted(analyst_client, clock):
    assert [lookups(analyst_client).status_code for _ in range(2)] == [200, 200]
    for _ in range(5):
        assert lookups(analyst_client).status_code == 429
    # Two windows later nothing weighs: exactly the limit again, refused ones forgotten.
    clock["t"] += 120
    assert [lookups(analyst_client).status_code for _ in range(3)] == [200, 200, 429]


def test_a_counter_is_a_number_not_a_history(analyst_client, clock):
    from django.core.cache import cache

    for _ in range(2):
        lookups(analyst_client)
    client = cache._cache.get_client()
    keys = [key.decode() for key in client.scan_iter(f"{settings_prefix()}:*throttle_credential_*")]
    assert keys
    assert {client.get(key) for key in keys} == {b"2"}
    assert all(0 < client.ttl(key) <= 120 for key in keys)


def settings_prefix() -> str:
    from django.conf import settings

    return settings.CACHES["default"].get("KEY_PREFIX", "")
