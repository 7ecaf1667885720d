"""Issue 4: `make bench-transactions` keeps working (a tiny run; figures are printed, never asserted),
and its yardstick endpoint exists only where BENCH_ENDPOINTS turns it on."""

import os
import re
import subprocess
import sys

import pytest
from rest_framework.test import APIRequestFactory

from compliance import services
from compliance.audit import Actor
from compliance.models import AuditTrail
from tests.conftest import REPO
from transactions.bench import BenchPingView


def test_the_bench_endpoint_is_not_routed_by_default(integrator_client):
    assert integrator_client.post("/api/bench/ping", {}, format="json").status_code == 404


def test_bench_ping_needs_the_transaction_permission_and_inserts_one_audit_row(integrator_key, outsider):
    view = BenchPingView.as_view()
    factory = APIRequestFactory()

    assert view(factory.post("/api/bench/ping", {}, format="json")).status_code == 401
    _, outsider_key = services.api_key_create(
        name="no role", user=outsider, actor=Actor.system_actor("tests")
    )
    assert (
        view(factory.post("/api/bench/ping", {}, format="json", HTTP_X_API_KEY=outsider_key)).status_code
        == 403
    )
    before = AuditTrail.objects.count()
    answer = view(factory.post("/api/bench/ping", {}, format="json", HTTP_X_API_KEY=integrator_key[1]))
    assert answer.status_code == 200
    assert AuditTrail.objects.count() == before + 1
    assert AuditTrail.objects.latest("id").object_type == "bench.ping"


@pytest.mark.integration
@pytest.mark.timeout(200)  # two runs of about 20 s each, slower on a busy machine
def test_bench_transactions_runs_end_to_end_on_its_own_database():
    env = {
        **os.environ,
        "DEBUG": "1",
        "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/compliance_bench_tx_smoke",
        "BENCH_REDIS_URL": "redis://127.0.0.1:6379/14",
    }
    argv = [sys.executable, "manage.py", "bench_transactions", "--users", "50", "--transactions", "2000"]
    argv += ["--seconds", "1", "--rate", "20", "--workers", "2", "--reload"]
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=80, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "loaded 50 users" in out
    assert "2,000 transactions over 90 days" in out
    assert "10 rule instances active (3 velocity rules)" in out
    assert re.search(
        r"fixed rate 20/s offered for 1 s: achieved [\d.,]+/s, p50 [\d.]+ ms, p95 [\d.]+ ms, p99", out
    )
    assert re.search(
        r"full speed \(4 connections\): [\d.,]+ transactions/s, p50 [\d.]+ ms, p99 [\d.]+ ms", out
    )
    assert re.search(r"trivial endpoint POST /api/bench/ping \(4 connections\): [\d.,]+ requests/s", out)
    assert re.search(r"ratio full speed / trivial: \d+\.\d\d", out)
    assert "0 with rule errors" in out
    # Every answer was a 200: a 4xx/5xx would be a bug in the bench or the app (a request left
    # unanswered by a slow machine is a connection error, tolerated here).
    assert "first error: 4" not in out
    assert "first error: 5" not in out
    assert "CPU per request: app" in out
    assert out.count("targets:") == 1
    assert "p99 <= 50 ms" in out

    # A second run keeps the data and deletes what the first one posted.
    argv.remove("--reload")
    again = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=80, check=False)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "data already loaded (50 users, 2,000 transactions" in again.stdout
    assert "ratio full speed / trivial" in again.stdout
