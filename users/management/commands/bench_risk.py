"""Benchmark of the bulk risk recalculation (`make bench-risk`).

    manage.py bench_risk [--customers 100000] [--chunk-size 1000] [--seed 42] [--keep]

Loads customers with realistic KYC lists into a dedicated PostgreSQL database, then runs
`users.services.risk.risk_recalculate_all` (the code the product runs) twice: from scratch,
and again with nothing changed. Prints customers per second, risk trails appended, peak RSS
and the RSS sampled at 25/50/75/100% of the first run. It prints figures; it asserts none.

The developer's database is never touched: the command creates (if missing) the database of
`BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/compliance_bench) and runs
itself again in a child process whose DATABASE_URL points there (DEBUG off, no Redis), which
migrates it and empties its customer tables before loading.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from compliance.management import benchdb

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/compliance_bench"


def _rss_mb() -> float:
    """Current resident set size, in MB."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak is the best we have
        return _peak_rss_mb()


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KB on Linux


class Command(BaseCommand):
    help = "Load customers with KYC lists into a benchmark database and time the bulk risk recalculation."

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, default=100_000, help="customers to load (default 100000)"
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=1000,
            help="customers per chunk of risk_recalculate_all (default 1000)",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="reuse the customers loaded before if there are as many (their risk is reset, not reloaded)",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="random seed of the generated data (default 42)"
        )
        parser.add_argument(
            "--database-url",
            default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL,
            help=f"benchmark database, emptied and reloaded (default BENCH_DATABASE_URL or {DEFAULT_URL})",
        )
        parser.add_argument("--in-bench-database", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        url = options["database_url"]
        config = benchdb.bench_config(url)
        if options["customers"] < 1 or options["chunk_size"] < 1:
            raise CommandError("--customers and --chunk-size must be positive.")
        if options["in_bench_database"]:
            self._bench(config, options)
            return
        benchdb.prepare_database(config, self.stdout)
        arguments = [
            "--customers", str(options["customers"]),
            "--chunk-size", str(options["chunk_size"]),
            "--seed", str(options["seed"]),
            "--database-url", url,
            *(["--keep"] if options["keep"] else []),
        ]  # fmt: skip
        benchdb.run_child("bench_risk", arguments, benchdb.child_environment(url), self.stdout)

    # --- in the child process, connected to the benchmark database ---------------------------

    def _bench(self, config: dict, options: dict) -> None:
        from users.management import bench_data
        from users.models import Customer

        if connection.vendor != "postgresql" or benchdb.where(connection.settings_dict) != benchdb.where(
            config
        ):
            raise CommandError("Refusing to run: the process is not connected to the benchmark database.")
        out = self.stdout.write
        total, chunk_size = options["customers"], options["chunk_size"]
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        out(
            f"bench-risk: database {config['NAME']} on {config['HOST']}:{config['PORT']} "
            f"(PostgreSQL {version}), "
            f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, chunk size {chunk_size}"
        )
        start = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        out(f"migrated in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        if options["keep"] and Customer.all_objects.count() == total:
            bench_data.reset_risk()
            out(f"kept {total:,} loaded customers; their risk reset in {time.perf_counter() - start:.1f} s")
        else:
            bench_data.truncate()
            counts = bench_data.load(total, options["seed"])
            seconds = time.perf_counter() - start
            out(
                f"loaded {counts['customers']:,} customers "
                f"({counts['customers'] - counts['organisations']:,} persons, "
                f"{counts['organisations']:,} organisations), {counts['list_rows']:,} list rows, "
                f"{counts['associations']:,} stakes and roles in {seconds:.1f} s "
                f"({counts['customers'] / seconds:,.0f} customers/s)"
            )
        out(f"RSS after loading: {_rss_mb():.0f} MB (peak so far {_peak_rss_mb():.0f} MB)")

        first = self._run("first run (every customer scored from scratch)", chunk_size)
        second = self._run("second run (nothing changed)", chunk_size)
        if second["trails"]:
            out(self.style.WARNING(f"the second run appended {second['trails']:,} trails; expected none"))
        out(
            f"summary: {first['customers']:,} customers; first run {first['rate']:,.0f} customers/s, "
            f"second run {second['rate']:,.0f} customers/s; peak RSS {_peak_rss_mb():.0f} MB"
        )

    def _run(self, label: str, chunk_size: int) -> dict:
        from compliance.audit import Actor
        from users.models import Customer
        from users.services.risk import risk_recalculate_all

        out = self.stdout.write
        total = Customer.objects.count()
        marks = [25, 50, 75, 100]
        samples = []

        def progress(scored: int) -> None:
            while marks and scored * 100 >= marks[0] * total:
                samples.append((marks.pop(0), scored, time.perf_counter() - start, _rss_mb()))

        gc.collect()
        rss_before = _rss_mb()
        start = time.perf_counter()
        result = risk_recalculate_all(
            actor=Actor.system_actor("bench-risk"),
            cause="benchmark",
            chunk_size=chunk_size,
            progress=progress,
        )
        seconds = time.perf_counter() - start
        rate = result["customers"] / seconds
        out(f"{label}:")
        out(
            f"  {result['customers']:,} customers scored in {seconds:.1f} s = {rate:,.0f} customers/s; "
            f"{result['trails']:,} risk trails appended ({result['contamination_trails']:,} by contamination)"
        )
        if samples and samples[-1][0] == 100:
            out(f"  scoring {samples[-1][2]:.1f} s, settling contamination {seconds - samples[-1][2]:.1f} s")
        series = ", ".join(f"{mark}%: {rss:.0f} MB" for mark, _, _, rss in samples)
        out(
            f"  RSS before {rss_before:.0f} MB; at {series}; after {_rss_mb():.0f} MB; "
            f"peak {_peak_rss_mb():.0f} MB"
        )
        return {**result, "seconds": seconds, "rate": rate}
