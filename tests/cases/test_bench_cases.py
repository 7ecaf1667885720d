"""Issue 5: `make bench-cases` keeps working (a tiny run; figures are printed, never asserted)."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.integration
@pytest.mark.timeout(200)
def test_bench_case_queue_runs_end_to_end_on_its_own_database():
    env = {
        **os.environ,
        "DEBUG": "1",
        "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/compliance_bench_cases_smoke",
    }
    argv = [sys.executable, "manage.py", "bench_case_queue", "--cases", "200", "--alerts", "500"]
    argv += ["--renders", "3", "--reload"]
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=150, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "loaded 200 cases (70 open), 500 alerts" in out
    for view in ("all (open work)", "mine", "unassigned", "filtered: P2, rule hits, 7-30 days"):
        assert re.search(
            rf"{re.escape(view)}\s+p50\s+[\d.]+ ms, p95\s+[\d.]+ ms, max\s+[\d.]+ ms; \d+ queries", out
        )
    assert re.search(r"all views: p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms over 12 renders", out)
    assert "the same number of queries for every view and page: " in out
    assert "p95 < 300 ms" in out

    # A second run keeps the book.
    argv.remove("--reload")
    again = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=150, check=False)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "data already loaded (200 cases, 500 alerts)" in again.stdout


def test_the_benchmark_refuses_any_database_but_a_postgresql_one_of_its_own(settings):
    from django.core.management import CommandError, call_command

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        with pytest.raises(CommandError, match="PostgreSQL database URL"):
            call_command("bench_case_queue", database_url="sqlite:///x.sqlite3")
        return
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    url = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    with pytest.raises(CommandError, match="is DATABASE_URL's"):
        call_command("bench_case_queue", database_url=url)
