"""Benchmark of transaction monitoring over HTTP (`make bench-transactions`).

    manage.py bench_transactions [--users 10000] [--transactions 1000000] [--seconds 20]
        [--rate 100] [--concurrency N] [--workers N] [--threads N] [--reload] [--seed 42]

Loads users (the bench-risk customers) and historical transactions between them into a
dedicated PostgreSQL database with COPY, activates 10 rule instances (3 velocity rules among
them) through rules.services, creates an integrator API key, serves the app with gunicorn
(gunicorn.conf.py, DEBUG off) and runs the load generator (bench_client.py) in another
process: POST /api/transactions at a fixed rate (open loop, latency from each request's
scheduled time), then at full speed (closed loop), then the trivial authenticated endpoint
POST /api/bench/ping at full speed, in the same run. Prints latency percentiles, throughputs,
errors, the ratio and whether the targets are met. It prints figures; it asserts none.

The developer's database and Redis are never touched: the command creates (if missing) the
database of `BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/compliance_bench_tx)
and runs itself again in a child process whose DATABASE_URL points there and whose REDIS_URL is
`BENCH_REDIS_URL` (default redis://127.0.0.1:6379/15, flushed before and after the run: the
events the transactions publish queue there; no Celery worker consumes them, so the figures are
the request path's). Data already loaded with the same sizes is kept unless --reload; what
earlier runs posted is deleted first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from compliance.management import benchdb

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/compliance_bench_tx"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
CLIENT = Path(__file__).resolve().parent.parent / "bench_client.py"
# The targets, on the 2-core machine.
TARGET_P99_MS = 50.0
TARGET_RATIO = 0.5
RULE_INSTANCES = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(value) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _answered(result: dict) -> int:
    """Requests answered (the server still works on one the client gave up on, mostly later)."""
    return result["ok"] + result["errors"] - result["error_statuses"].get("connection", 0)


class CpuMeter:
    """CPU seconds used by the app server (gunicorn master and workers), the benchmark database's
    PostgreSQL backends, the load generator, and everything else on the machine, between two
    samples. Linux /proc only; elsewhere every figure is None."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server_pid: int, client_pid: int, database: str, config: dict):
        self.server_pid, self.client_pid, self.database = server_pid, client_pid, database
        self.available = Path("/proc/stat").exists()
        self.conn = None
        if self.available:
            self.conn = psycopg.connect(
                host=config.get("HOST") or None,
                port=config.get("PORT") or None,
                user=config.get("USER") or None,
                password=config.get("PASSWORD") or None,
                dbname=config["NAME"],
                autocommit=True,
            )
        self.last = self._read() if self.available else None

    @staticmethod
    def _ticks(pid: int) -> tuple[int, int] | None:
        """(parent pid, utime + stime) of a process."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return int(fields[1]), int(fields[11]) + int(fields[12])

    def _read(self) -> dict:
        server = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                info = self._ticks(int(entry.name))
                if info and (int(entry.name) == self.server_pid or info[0] == self.server_pid):
                    server[int(entry.name)] = info[1]
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
        ).fetchall()
        postgres = {pid: info[1] for (pid,) in rows if (info := self._ticks(pid))}
        client = self._ticks(self.client_pid)
        with open("/proc/stat") as stat:
            cpu = [int(value) for value in stat.readline().split()[1:]]
        busy = sum(cpu) - cpu[3] - (cpu[4] if len(cpu) > 4 else 0)  # all but idle and iowait
        return {"server": server, "postgres": postgres, "client": client[1] if client else 0, "busy": busy}

    def sample(self) -> dict | None:
        """CPU seconds of each part since the previous sample."""
        if not self.available:
            return None
        now = self._read()

        def delta(part: str) -> int:
            return sum(ticks - self.last[part].get(pid, 0) for pid, ticks in now[part].items())

        ticks = {
            "app": delta("server"),
            "postgres": delta("postgres"),
            "client": now["client"] - self.last["client"],
            "machine": now["busy"] - self.last["busy"],
        }
        ticks["other"] = max(ticks["machine"] - ticks["app"] - ticks["postgres"] - ticks["client"], 0)
        self.last = now
        return {part: value / self.TICK for part, value in ticks.items()}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Command(BaseCommand):
    help = "Load users and historical transactions, serve with gunicorn and measure POST /api/transactions."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10_000, help="users to load (default 10000)")
        parser.add_argument(
            "--transactions",
            type=int,
            default=1_000_000,
            help="historical transactions to load (default 1000000)",
        )
        parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured phase (20)")
        parser.add_argument("--rate", type=float, default=100.0, help="transactions/s offered at fixed rate")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=0,
            help="connections at full speed (default 2 per worker thread)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2 * (os.cpu_count() or 1),
            help="gunicorn workers (default two per CPU: with fewer, a worker waiting on PostgreSQL "
            "leaves a core idle while requests queue)",
        )
        parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1: sync)")
        parser.add_argument("--reload", action="store_true", help="load the data again even if it is there")
        parser.add_argument("--seed", type=int, default=42, help="random seed of the generated data (42)")
        parser.add_argument(
            "--database-url",
            default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL,
            help=f"benchmark database (default BENCH_DATABASE_URL or {DEFAULT_URL})",
        )
        parser.add_argument(
            "--redis-url",
            default=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
            help=f"benchmark Redis database, flushed (default BENCH_REDIS_URL or {DEFAULT_REDIS_URL})",
        )
        parser.add_argument("--in-bench-database", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        url = options["database_url"]
        config = benchdb.bench_config(url)
        if min(options["users"], options["transactions"], options["workers"], options["threads"]) < 1:
            raise CommandError("--users, --transactions, --workers and --threads must be positive.")
        if options["seconds"] <= 0 or options["rate"] <= 0:
            raise CommandError("--seconds and --rate must be positive.")
        if options["in_bench_database"]:
            self._bench(config, options)
            return
        redis_url = options["redis_url"]
        if settings.REDIS_URL and settings.REDIS_URL.rstrip("/") == redis_url.rstrip("/"):
            raise CommandError(
                "The benchmark Redis database is REDIS_URL's; it would be flushed. "
                "Point BENCH_REDIS_URL (or --redis-url) at another database number."
            )
        benchdb.prepare_database(config, self.stdout)
        env = benchdb.child_environment(url, redis_url=redis_url)
        argv = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_transactions"]
        for name in ("users", "transactions", "seconds", "rate", "concurrency", "workers", "threads", "seed"):
            argv += [f"--{name}", str(options[name])]
        argv += ["--database-url", url, "--redis-url", redis_url, "--in-bench-database"]
        argv += ["--reload"] if options["reload"] else []
        self.stdout.flush()
        completed = subprocess.run(argv, env=env, check=False)  # noqa: S603 (our own command)
        if completed.returncode:
            raise CommandError(f"The benchmark failed (exit status {completed.returncode}).")

    # --- in the child process, connected to the benchmark database ---------------------------

    def _bench(self, config: dict, options: dict) -> None:
        import redis

        from transactions.management import bench_data

        benchdb.require_bench_connection(config)
        out = self.stdout.write
        users, transactions = options["users"], options["transactions"]
        workers, threads = options["workers"], options["threads"]
        concurrency = options["concurrency"] or 2 * workers * threads
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        out(
            f"bench-transactions: database {config['NAME']} on {config['HOST']}:{config['PORT']} "
            f"(PostgreSQL {version}), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        try:
            store = redis.Redis.from_url(options["redis_url"])
            store.flushdb()
        except redis.RedisError as error:
            raise CommandError(f"Cannot reach the benchmark Redis {options['redis_url']}: {error}") from error

        start = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        out(f"migrated in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        if not options["reload"] and bench_data.loaded(users, transactions):
            bench_data.exchange_rates()
            deleted = bench_data.forget_live(transactions)
            bench_data.vacuum_analyze()
            oldest, newest = bench_data.history_span(transactions)
            out(
                f"data already loaded ({users:,} users, {transactions:,} transactions from "
                f"{oldest:%Y-%m-%d %H:%M} to {newest:%Y-%m-%d %H:%M} UTC): loading skipped (--reload to "
                f"load again); {deleted:,} transactions of earlier runs deleted in "
                f"{time.perf_counter() - start:.1f} s"
            )
            age = (time.time() - newest.timestamp()) / 3600
            if age > 24:
                out(
                    self.style.WARNING(
                        f"  the history ends {age:.0f} hours ago: the 1-hour and 1-day velocity windows "
                        "hold only this run's transactions (--reload for a history ending now)"
                    )
                )
        else:

            def progress(done: int) -> None:
                if done % 200_000 == 0 or done == transactions:
                    elapsed = time.perf_counter() - start
                    self.stdout.write(f"  {done:,} transactions copied ({elapsed:.0f} s)")
                    self.stdout.flush()

            counts = bench_data.load(users, transactions, options["seed"], progress=progress)
            seconds = time.perf_counter() - start
            out(
                f"loaded {counts['customers']:,} users ({counts['list_rows']:,} KYC list rows) and "
                f"{counts['transactions']:,} transactions over {bench_data.HISTORY_DAYS} days, indexes "
                f"built and analysed in {seconds:.1f} s "
                f"({(counts['customers'] + counts['transactions']) / seconds:,.0f} rows/s)"
            )

        created, skipped = bench_data.rule_instances(RULE_INSTANCES)
        velocity = sum(1 for rule_id, _ in created if rule_id in ("R-2", "R-3"))
        out(f"{len(created)} rule instances active ({velocity} velocity rules):")
        for rule_id, name in created:
            out(f"  {rule_id:<5} {name}")
        for rule_id, reason in skipped:
            out(f"  (skipped {rule_id}: {reason[:150]})")
        key = bench_data.integrator_key()
        connection.close()

        port = _free_port()
        log_path = Path(settings.BASE_DIR) / "var" / "bench-transactions-gunicorn.log"
        log_path.parent.mkdir(exist_ok=True)
        server_env = {
            **os.environ,
            "BENCH_ENDPOINTS": "1",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            # Plain HTTP on the loopback: no redirect to HTTPS. Everything else is production's.
            "SECURE_SSL_REDIRECT": "0",
            # The per-key limit (6000/min by default) would answer 429 at full speed; the
            # throttle still runs, as in production.
            "API_RATE_LIMIT": "100000000/min",
            # Connections kept for the whole run (production: 60 s), so the CPU of each database
            # session is counted (a session closed between two samples would be lost).
            "DB_CONN_MAX_AGE": "3600",
        }
        import gunicorn

        # gunicorn 27 opens a control socket at a fixed path by default: another gunicorn on the
        # machine (`make serve`, a second benchmark) would clash with this one.
        extra = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []
        kind = "sync" if threads == 1 else "gthread"
        out(f"gunicorn: {workers} {kind} workers x {threads} threads on 127.0.0.1:{port} (log {log_path})")
        with open(log_path, "wb") as log:
            server = subprocess.Popen(  # noqa: S603 (our own server)
                [sys.executable, "-m", "gunicorn", "compliance.wsgi", "--config", "gunicorn.conf.py", *extra],
                cwd=settings.BASE_DIR,
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                self._wait_ready(server, port, log_path)
                results = self._load(server, port, key, options, concurrency, config)
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        summary = bench_data.live_summary(transactions)
        with contextlib.suppress(redis.RedisError):
            store.flushdb()
        self._report(results, summary, options, concurrency)

    def _wait_ready(self, server, port: int, log_path: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                health = f"http://127.0.0.1:{port}/api/health"
                with urllib.request.urlopen(health, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise CommandError(f"gunicorn did not answer /api/health in 60 s:\n{log_path.read_text()[-3000:]}")

    def _load(self, server, port: int, key: str, options: dict, concurrency: int, config: dict) -> dict:
        seconds = options["seconds"]
        argv = [
            sys.executable, str(CLIENT),
            "--url", f"http://127.0.0.1:{port}",
            "--key", key,
            "--users", str(options["users"]),
            "--seed", str(options["seed"]),
            "--run-id", f"{int(time.time())}",
            "--rate", str(options["rate"]),
            "--seconds", str(seconds),
            "--warmup", str(min(5.0, seconds)),
            "--concurrency", str(concurrency),
        ]  # fmt: skip
        self.stdout.write(
            f"load generator (separate process): warm-up {min(5.0, seconds):g} s, {options['rate']:g} "
            f"transactions/s for {seconds:g} s, then full speed on {concurrency} connections for "
            f"{seconds:g} s, then the ping endpoint the same way"
        )
        self.stdout.flush()
        results = {}
        client_env = {"PATH": os.environ.get("PATH", "")}
        with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=client_env) as client:  # noqa: S603
            meter = CpuMeter(server.pid, client.pid, config["NAME"], config)
            try:
                for line in client.stdout:
                    result = json.loads(line)
                    if "start" in result:
                        meter.sample()
                    elif "settled" in result:
                        self.stdout.write(
                            f"    the server worked {result['seconds']:.0f} s more through requests "
                            "whose client had given up"
                        )
                    else:
                        result["cpu"] = meter.sample()
                        results[result["phase"]] = result
                        self._phase_line(result)
                client.wait()
            finally:
                meter.close()
        if client.returncode:
            raise CommandError(f"The load generator failed (exit status {client.returncode}).")
        return results

    def _phase_line(self, result: dict) -> None:
        phase = result["phase"]
        errors = f"{result['errors']} errors {result['error_statuses']}" if result["errors"] else "0 errors"
        self.stdout.write(
            f"  {phase}: {result['ok']:,} ok in {result['seconds']:.1f} s = {result['throughput']:,.1f}/s; "
            f"p50 {_ms(result['p50_ms'])}, p99 {_ms(result['p99_ms'])}; {errors}"
        )
        if result["sample_error"]:
            self.stdout.write(f"    first error: {result['sample_error']}")
        cpu, requests = result["cpu"], _answered(result)
        if cpu and requests:
            per = {part: seconds / requests * 1000 for part, seconds in cpu.items()}
            self.stdout.write(
                f"    CPU per request: app {per['app']:.1f} ms, PostgreSQL {per['postgres']:.1f} ms, "
                f"load generator {per['client']:.1f} ms; "
                f"other processes used {cpu['other'] / max(result['seconds'], 0.001):.2f} of "
                f"{os.cpu_count()} CPUs meanwhile"
            )
        self.stdout.flush()

    def _report(self, results: dict, summary: dict, options: dict, concurrency: int) -> None:
        out = self.stdout.write
        fixed, full, ping = results["fixed"], results["full"], results["ping"]
        ratio = full["throughput"] / ping["throughput"] if ping["throughput"] else 0.0
        out(
            f"posted {summary['posted']:,} transactions this run; decisions {summary['statuses']}; "
            f"hits by rule {summary['hits_by_rule']}; {summary['executed_per_transaction']} rules executed "
            f"per transaction; {summary['with_rule_errors']:,} with rule errors"
        )
        if summary["with_rule_errors"]:
            out(self.style.WARNING(f"  a rule error: {summary['sample_rule_error']}"))
        out("results:")
        out(
            f"  fixed rate {fixed['offered_rate']:g}/s offered for {options['seconds']:g} s: "
            f"achieved {fixed['throughput']:,.1f}/s, p50 {_ms(fixed['p50_ms'])}, p95 {_ms(fixed['p95_ms'])}, "
            f"p99 {_ms(fixed['p99_ms'])}, max {_ms(fixed['max_ms'])} (from the scheduled send time; "
            f"{fixed['peak_connections']} connections at most); errors {fixed['errors']}"
        )
        out(
            f"  full speed ({concurrency} connections): {full['throughput']:,.1f} transactions/s, "
            f"p50 {_ms(full['p50_ms'])}, p99 {_ms(full['p99_ms'])}; errors {full['errors']}"
        )
        out(
            f"  trivial endpoint POST /api/bench/ping ({concurrency} connections): "
            f"{ping['throughput']:,.1f} requests/s, p50 {_ms(ping['p50_ms'])}, p99 {_ms(ping['p99_ms'])}; "
            f"errors {ping['errors']}"
        )
        out(f"  ratio full speed / trivial: {ratio:.2f}")
        if full["cpu"] and ping["cpu"] and full["ok"] and ping["ok"]:
            # What the machine could serve if the app, PostgreSQL and the load generator had
            # every CPU to themselves: a check on figures taken while other processes were busy.
            costs = {
                name: sum(result["cpu"][part] for part in ("app", "postgres", "client"))
                / (_answered(result) or 1)
                for name, result in (("full", full), ("ping", ping))
            }
            capacity = {name: os.cpu_count() / cost if cost else 0.0 for name, cost in costs.items()}
            out(
                f"  CPU per request (app + PostgreSQL + load generator): transaction "
                f"{costs['full'] * 1000:.1f} ms, trivial {costs['ping'] * 1000:.1f} ms; with the "
                f"{os.cpu_count()} CPUs to themselves at most ~{capacity['full']:,.0f} transactions/s and "
                f"~{capacity['ping']:,.0f} trivial requests/s (ratio {costs['ping'] / costs['full']:.2f})"
            )
        p99 = fixed["p99_ms"]
        latency_met = (
            p99 is not None
            and p99 <= TARGET_P99_MS
            and fixed["errors"] == 0
            and fixed["throughput"] >= 0.95 * fixed["offered_rate"]
        )
        ratio_met = ratio >= TARGET_RATIO and full["errors"] == 0 and ping["errors"] == 0
        out("targets:")
        out(
            f"  p99 <= {TARGET_P99_MS:g} ms at {fixed['offered_rate']:g}/s offered, no errors: "
            + (self.style.SUCCESS("met") if latency_met else self.style.ERROR("NOT met"))
            + f" (p99 {_ms(p99)})"
        )
        out(
            f"  full-speed throughput >= {TARGET_RATIO:g} x the trivial endpoint's: "
            + (self.style.SUCCESS("met") if ratio_met else self.style.ERROR("NOT met"))
            + f" ({ratio:.2f})"
        )
