"""Personas and real-infrastructure fixtures shared by every test.

Personas: analyst, approver, compliance admin, integrator (an API key of a service
account), outsider (authenticated, no role) — each as a user and as an API client.
Integration fixtures start a real Celery worker process against the test database when
PostgreSQL and Redis are configured, and skip otherwise.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from compliance import roles, services
from compliance.audit import Actor
from tests.factories import StaffUserFactory

REPO = Path(__file__).resolve().parent.parent
ON_REAL_STACK = bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    if ON_REAL_STACK:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness (~0.25 s a hash) is for production, not for fixtures."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process caches (countries of request validation, country risk scores, exchange rates)
    start empty in every test, as they would after the reference data changed."""
    from rules.library.geography import forget_country_risk_scores
    from transactions import money
    from users.api.user_serializers.fields import forget_countries

    forget_countries()
    forget_country_risk_scores()
    money.forget_rates()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters must not leak between tests. On Redis only our prefix is
    removed, never the whole database (the broker may share it)."""
    yield
    if settings.REDIS_URL:
        client = cache._cache.get_client(write=True)
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


def _user(role):
    return StaffUserFactory(
        username=f"{role.replace(' ', '_') if role else 'outsider'}", roles=[role] if role else []
    )


@pytest.fixture
def analyst(db):
    return _user(roles.ANALYST)


@pytest.fixture
def approver(db):
    return _user(roles.APPROVER)


@pytest.fixture
def compliance_admin(db):
    return _user(roles.COMPLIANCE_ADMIN)


@pytest.fixture
def outsider(db):
    return _user(None)


@pytest.fixture
def integrator_account(db):
    return StaffUserFactory(username="core-banking", roles=[roles.INTEGRATOR])


@pytest.fixture
def integrator_key(integrator_account):
    """(ApiKey, raw secret) of the integrator's service account."""
    return services.api_key_create(
        name="core banking", user=integrator_account, actor=Actor.system_actor("tests")
    )


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_X_ACCESS_TOKEN=services.access_token_issue(user=user))
    client.user = user
    return client


@pytest.fixture
def analyst_client(analyst):
    return _token_client(analyst)


@pytest.fixture
def approver_client(approver):
    return _token_client(approver)


@pytest.fixture
def compliance_admin_client(compliance_admin):
    return _token_client(compliance_admin)


@pytest.fixture
def outsider_client(outsider):
    return _token_client(outsider)


@pytest.fixture
def integrator_client(integrator_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=integrator_key[1])
    client.user = integrator_key[0].user
    return client


# --- real infrastructure ----------------------------------------------------------------


def wait_for(predicate, timeout=20.0, interval=0.1):
    """Poll until predicate() is truthy; answers its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _database_url_of_test_db():
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` process consuming from Redis and writing to the test database."""
    if not ON_REAL_STACK:
        pytest.skip("needs PostgreSQL and Redis")
    from compliance.celery import app

    app.control.purge()  # leftovers of earlier runs must not run against this database
    log_path = REPO / "var" / "test-celery-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    env = {**os.environ, "DATABASE_URL": _database_url_of_test_db(), "DEBUG": "1"}
    log = open(log_path, "w")  # noqa: SIM115  (closed at teardown)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.support.worker_app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"pytest-{os.getpid()}@%h",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    ready = wait_for(lambda: proc.poll() is not None or " ready." in log_path.read_text(), timeout=60)
    if proc.poll() is not None or not ready:
        proc.kill()
        pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-3000:]}")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def event_dispatch(request):
    """Where dispatched events run: eagerly in this process on the embedded default, in the
    real worker process on the real stack. Either way the test handlers are registered."""
    from tests.support import handlers  # noqa: F401

    if ON_REAL_STACK:
        return request.getfixturevalue("celery_worker_process")
    return None


@pytest.fixture
def eager_tasks(monkeypatch):
    """Tasks run in the test process (as without Redis), also when the suite runs against Redis."""
    from compliance.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
