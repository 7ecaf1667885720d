"""Issue 3: `make bench-risk` keeps working (a small run; figures are printed, never asserted)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def test_bench_risk_runs_end_to_end_on_its_own_database():
    env = {
        **os.environ,
        "DEBUG": "1",
        "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/compliance_bench_smoke",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_risk", "--customers", "300", "--chunk-size", "100"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "loaded 300 customers" in result.stdout
    assert "first run 0" not in result.stdout
    assert "customers/s" in result.stdout
    assert "peak RSS" in result.stdout
    assert "second run (nothing changed):\n  300 customers scored" in result.stdout
    assert "0 risk trails appended (0 by contamination)" in result.stdout  # the second run changes nothing
