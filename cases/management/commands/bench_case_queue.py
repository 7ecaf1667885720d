"""Benchmark of the analysts' case queue (`make bench-cases`).

    manage.py bench_case_queue [--cases 100000] [--alerts 300000] [--renders 30] [--reload] [--seed 42]

Loads cases and alerts (and the customers they are about) into a dedicated PostgreSQL database
with COPY, then renders the queue page (the Case changelist of the admin, through Django's test
client as a logged-in analyst: every middleware, the session, the permission checks, the
template) for each tab (all, mine, unassigned) and a filtered view, `--renders` times each after
a warm-up. Prints p50/p95/max milliseconds and the queries per render, and whether the target
(p95 under 300 ms, the same number of queries whatever the view) is met. It prints figures; it
asserts none.

The developer's database is never touched: the command creates (if missing) the database of
`BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/compliance_bench_cases) and runs
itself again in a child process whose DATABASE_URL points there (DEBUG off, no Redis), as
`bench_risk` does (its helpers are reused). The book stays between runs unless --reload.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.management import benchdb

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/compliance_bench_cases"
TARGET_P95_MS = 300.0
QUEUE = "/admin/cases/case/"
# (label, query string) of the rendered views: the three tabs and a filtered one.
VIEWS = (
    ("all (open work)", ""),
    ("mine", "?tab=mine"),
    ("unassigned", "?tab=unassigned"),
    ("filtered: P2, rule hits, 7-30 days", "?priority=P2&source=RULE&age=7-30d"),
)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _rows(html: str) -> tuple[int, str]:
    """(rows on the page, the paginator's count) of a rendered changelist."""
    rows = html.count('<td class="action-checkbox">')
    found = re.search(r'<p class="paginator">.*?([\d,]+)\s+cases?\b', html, re.S)
    return rows, found.group(1) if found else "?"


class Command(BaseCommand):
    help = "Load cases and alerts into a benchmark database and time the rendering of the case queue."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000, help="cases to load (default 100000)")
        parser.add_argument("--alerts", type=int, default=300_000, help="alerts to load (default 300000)")
        parser.add_argument("--renders", type=int, default=30, help="timed renders of each view (default 30)")
        parser.add_argument("--reload", action="store_true", help="load the data again even if it is there")
        parser.add_argument("--seed", type=int, default=42, help="random seed of the generated data (42)")
        parser.add_argument(
            "--database-url",
            default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL,
            help=f"benchmark database (default BENCH_DATABASE_URL or {DEFAULT_URL})",
        )
        parser.add_argument("--in-bench-database", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        url = options["database_url"]
        config = benchdb.bench_config(url)
        if min(options["cases"], options["renders"]) < 1:
            raise CommandError("--cases and --renders must be positive.")
        if options["alerts"] < options["cases"]:
            raise CommandError("Every case has at least one alert: --alerts must be at least --cases.")
        if options["in_bench_database"]:
            self._bench(config, options)
            return
        benchdb.prepare_database(config, self.stdout)
        env = benchdb.child_environment(url, ALLOWED_HOSTS="testserver")
        # DEBUG off serves hashed static files from a manifest, as production does after collectstatic.
        env["STATIC_ROOT"] = str(Path(settings.BASE_DIR) / "var" / "bench-cases-static")
        arguments = []
        for name in ("cases", "alerts", "renders", "seed"):
            arguments += [f"--{name}", str(options[name])]
        arguments += ["--database-url", url, *(["--reload"] if options["reload"] else [])]
        benchdb.run_child("bench_case_queue", arguments, env, self.stdout)

    # --- in the child process, connected to the benchmark database ---------------------------

    def _bench(self, config: dict, options: dict) -> None:
        from cases.management import bench_data

        benchdb.require_bench_connection(config)
        out = self.stdout.write
        cases, alerts = options["cases"], options["alerts"]
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        out(
            f"bench-cases: database {config['NAME']} on {config['HOST']}:{config['PORT']} "
            f"(PostgreSQL {version}), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        start = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        out(f"migrated in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        if not options["reload"] and bench_data.loaded(cases, alerts):
            bench_data.analysts()
            out(
                f"data already loaded ({cases:,} cases, {alerts:,} alerts): "
                "loading skipped (--reload to load again)"
            )
        else:

            def progress(done: int) -> None:
                if done % 20_000 == 0 or done == cases:
                    self.stdout.write(f"  {done:,} cases copied ({time.perf_counter() - start:.0f} s)")
                    self.stdout.flush()

            counts = bench_data.load(cases, alerts, options["seed"], progress=progress)
            seconds = time.perf_counter() - start
            out(
                f"loaded {counts['cases']:,} cases ({counts['open']:,} open), {counts['alerts']:,} alerts "
                f"({counts['open_alerts']:,} open) and {counts['customers']:,} customers in {seconds:.1f} s, "
                f"analysed"
            )
        start = time.perf_counter()
        call_command("collectstatic", interactive=False, verbosity=0)
        out(f"static files collected in {time.perf_counter() - start:.1f} s ({settings.STATIC_ROOT})")
        self._render(options["renders"])

    def _render(self, renders: int) -> None:
        from django.test import Client

        from cases.management import bench_data
        from compliance.models import StaffUser

        out = self.stdout.write
        analyst = StaffUser.objects.get(username=bench_data.BENCH_ANALYST)
        client = Client()
        client.force_login(analyst)
        out(f"rendering {QUEUE} as {analyst.username} (analyst), {renders} times a view after 3 warm-ups:")
        all_times, query_counts = [], {}
        for label, query in VIEWS:
            url = QUEUE + query
            for _ in range(3):
                self._get(client, url)
            with CaptureQueriesContext(connection) as queries:
                response = self._get(client, url)
            query_counts[label] = len(queries)
            rows, matching = _rows(response.content.decode())
            times = []
            for _ in range(renders):
                started = time.perf_counter()
                self._get(client, url)
                times.append((time.perf_counter() - started) * 1000)
            all_times += times
            out(
                f"  {label:<36} p50 {statistics.median(times):6.1f} ms, "
                f"p95 {_percentile(times, 0.95):6.1f} ms, max {max(times):6.1f} ms; "
                f"{query_counts[label]} queries; {rows} rows shown of {matching}"
            )
        p95 = _percentile(all_times, 0.95)
        fixed = len(set(query_counts.values())) == 1
        out(
            f"all views: p50 {statistics.median(all_times):.1f} ms, p95 {p95:.1f} ms, "
            f"max {max(all_times):.1f} ms over {len(all_times)} renders; "
            f"queries per render {sorted(set(query_counts.values()))}"
        )
        out("targets:")
        out(
            f"  p95 < {TARGET_P95_MS:g} ms: "
            + (self.style.SUCCESS("met") if p95 < TARGET_P95_MS else self.style.ERROR("NOT met"))
            + f" (p95 {p95:.1f} ms)"
        )
        out(
            "  the same number of queries for every view and page: "
            + (self.style.SUCCESS("met") if fixed else self.style.ERROR("NOT met"))
            + f" ({', '.join(f'{label}: {n}' for label, n in query_counts.items())})"
        )

    @staticmethod
    def _get(client, url: str):
        # DEBUG is off as in production: the secure redirect and cookies expect HTTPS.
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}")
        return response
