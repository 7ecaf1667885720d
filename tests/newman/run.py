"""Seed 004's Postman collection as a real client of the live server, run with newman.

    python -m tests.newman.run --serve          # what `make newman` runs: own database, gunicorn, newman
    python -m tests.newman.run --base-url http://127.0.0.1:8000/api --token <key>

The collection (`seed_004_collection.json`, the seed file unmodified) is turned into a runnable
one at run time (`var/newman/collection.json`):

- `//` comments are stripped from the raw JSON bodies (outside strings: "https://..." stays);
- `{{baseUrl}}` is the server's `/api` root (the seed's paths are `{{baseUrl}}/management/cases`,
  `{{baseUrl}}/health`) and `{{authToken}}` the console account's API key (integrator and
  compliance admin roles) sent as `Authorization: Bearer`
  (seed 004's scheme; compliance/api/authentication.py); both are passed to newman as
  `--env-var`, so the generated collection holds no secret;
- ids are unique per run: every `transactionId`, `eventId`, `userId`, `originUserId`,
  `destinationUserId`, `caseId`, `alertId` of the bodies is replaced, the same seed value by the
  same new value everywhere (a transaction event names the transaction just created); blank ids
  of the templates (`"caseId": ""`) get one id per run, so a folder's reads use the id its
  create request sent;
- each `:param` of a path is the id its folder's create request used: `:transactionId`,
  `:eventId`, `:userId`, `:caseId`, `:alertId` from the create's body, `:ruleId` the library
  rule R-1, `:ruleInstanceId` the id the server answered to the create (captured by a test
  script), or an id no instance has when the create was refused;
- creates run before reads: the users before the transactions that name them, then the
  transaction and user events; inside a folder the POST comes first;
- the Webhook folder (examples of what we send, no URL) and the empty "Comment (Need update)"
  folder are left out; the seed's `Host: console.traxionright.com` header is dropped (our
  ALLOWED_HOSTS would answer 400 to it); request auth is rewritten to Postman v2.1's shape
  (the seed, a published-docs export, nests it under `basicConfig`, which newman does not read:
  it would send no Authorization header at all).

newman writes `var/newman/report.json`; this script then checks every answer against
EXPECTATIONS (issue #5: the User folder and the Management reads 2xx, blank templates 400 naming
their fields, the case, alert and rule instance they could not create 404, nothing 5xx), prints
one line per request and exits 1 on any mismatch.

`--serve` (`make newman`) first makes a database of its own, fresh each run: NEWMAN_DATABASE_URL,
else on DATABASE_URL's PostgreSQL server the database `compliance_newman` (dropped and created),
else a temporary SQLite file. With REDIS_URL set it uses NEWMAN_REDIS_URL, else database 14 of
REDIS_URL's server (flushed before and after; no worker runs, the queued tasks are dropped).
It migrates, creates the console account's key, serves the app with gunicorn (gunicorn.conf.py, DEBUG
off) on a free port, waits for /api/health, runs newman, stops the server and revokes the key.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: the repository root holds `tests`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.newman.collection import build_collection, request_names
from tests.newman.expectations import check_report, print_table

BASE_DIR = Path(__file__).resolve().parents[2]
SEED = Path(__file__).with_name("seed_004_collection.json")
OUT_DIR = BASE_DIR / "var" / "newman"
NEWMAN = BASE_DIR / "node_modules" / ".bin" / "newman"
NEWMAN_REDIS_DB = 14
NEWMAN_DATABASE = "compliance_newman"


def run_newman(base_url: str, token: str, out_dir: Path = OUT_DIR, newman: Path = NEWMAN) -> int:
    """Generate the collection, run newman, check its report; answers the exit status."""
    if not newman.exists():
        print(f"{newman} is missing: run `npm ci` (make newman does).", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    run = time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
    collection = build_collection(json.loads(SEED.read_text()), run)
    collection_path = out_dir / "collection.json"
    report_path = out_dir / "report.json"
    collection_path.write_text(json.dumps(collection, indent=2))
    report_path.unlink(missing_ok=True)
    command = [
        str(newman),
        "run",
        str(collection_path),
        "--env-var",
        f"baseUrl={base_url.rstrip('/')}",
        "--env-var",
        f"authToken={token}",
        "--timeout-request",
        "30000",
        "--color",
        "off",
        "-r",
        "cli,json",
        "--reporter-json-export",
        str(report_path),
    ]
    print(
        f"newman: {len(request_names(collection['item']))} requests of seed 004 against {base_url}",
        flush=True,
    )
    newman_status = subprocess.call(command, cwd=BASE_DIR)
    if not report_path.exists():
        print(f"newman wrote no report (exit {newman_status})", file=sys.stderr)
        return 2
    outcomes = check_report(json.loads(report_path.read_text()), collection)
    print_table(outcomes)
    print(f"report: {report_path.relative_to(BASE_DIR)}  collection: {collection_path.relative_to(BASE_DIR)}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _recreate_postgres(url: str, protected: str | None) -> None:
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    if protected and environ.Env.db_url_config(protected).get("NAME") == config["NAME"]:
        raise SystemExit(f"refusing to drop {config['NAME']}: it is DATABASE_URL's database")
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        name = sql.Identifier(config["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _redis_url_for_newman(environ_: dict) -> str:
    if environ_.get("NEWMAN_REDIS_URL"):
        return environ_["NEWMAN_REDIS_URL"]
    if not environ_.get("REDIS_URL"):
        return ""
    base = environ_["REDIS_URL"]
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{host}/{NEWMAN_REDIS_DB}"


def _flush_redis(url: str) -> None:
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


def _database_url_for_newman(environ_: dict, tmp: Path) -> str:
    if environ_.get("NEWMAN_DATABASE_URL"):
        return environ_["NEWMAN_DATABASE_URL"]
    main = environ_.get("DATABASE_URL", "")
    if main.startswith(("postgres://", "postgresql://", "pgsql://")):
        head, _, _ = main.rpartition("/")
        return f"{head}/{NEWMAN_DATABASE}"
    return f"sqlite:///{tmp / 'newman.sqlite3'}"


def _wait_healthy(server: subprocess.Popen, port: int, log_path: Path, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
        health = f"http://127.0.0.1:{port}/api/health"
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(health, timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /api/health in {seconds} s:\n{log_path.read_text()[-3000:]}")


def _create_key() -> tuple[object, str]:
    """The console's service account and an API key for it.

    The collection is a console administrator's client: one token verifies transactions
    (integrator) and manages rule instances (compliance admin), so the account holds both
    roles; neither role alone may do both (least privilege for real integrations)."""
    from django.contrib.auth.models import Group

    from compliance import roles, services
    from compliance.audit import Actor
    from compliance.models import StaffUser

    account, _ = StaffUser.objects.get_or_create(
        username="newman-integrator", defaults={"first_name": "Seed 004", "last_name": "newman"}
    )
    account.set_unusable_password()
    account.save()
    account.groups.add(*Group.objects.filter(name__in=[roles.INTEGRATOR, roles.COMPLIANCE_ADMIN]))
    return services.api_key_create(
        name="newman (seed 004 collection)", user=account, actor=Actor.system_actor("newman")
    )


def _server_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) over plain HTTP on the loopback, on newman's own stores."""
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "WEBHOOK_SECRETS_KEY": os.environ.get("WEBHOOK_SECRETS_KEY") or Fernet.generate_key().decode(),
        "GUNICORN_WORKERS": os.environ.get("NEWMAN_GUNICORN_WORKERS", "2"),
        "REDIS_URL": redis_url,
    }
    if not redis_url:
        del env["REDIS_URL"]  # the embedded default: tasks run eagerly in the web process
    return env


def _prepare(env: dict[str, str], main_database_url: str | None):
    """A fresh, migrated database and the console account's key (this process uses the server's settings)."""
    if env["DATABASE_URL"].startswith(("postgres://", "postgresql://", "pgsql://")):
        _recreate_postgres(env["DATABASE_URL"], main_database_url)
    _flush_redis(env.get("REDIS_URL", ""))
    os.environ.clear()
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    broker = env.get("REDIS_URL") or "none (tasks run eagerly)"
    print(f"newman database: {_redact(env['DATABASE_URL'])}; redis: {broker}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    key, raw = _create_key()
    connections.close_all()
    return key, raw


@contextlib.contextmanager
def _gunicorn(env: dict[str, str]):
    """gunicorn (gunicorn.conf.py) on a free port until the block ends; yields the /api root."""
    import gunicorn

    port = _free_port()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUT_DIR / "server.log"
    # gunicorn 27 opens a control socket at a fixed path by default; another gunicorn would clash.
    extra = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "compliance.wsgi", "--config", "gunicorn.conf.py", *extra],
            cwd=BASE_DIR,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_healthy(server, port, log_path)
            print(f"gunicorn on 127.0.0.1:{port} (log {log_path.relative_to(BASE_DIR)})", flush=True)
            yield f"http://127.0.0.1:{port}/api"
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def serve_and_run() -> int:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="newman-"))
    main_database_url = os.environ.get("DATABASE_URL")
    env = _server_env(_database_url_for_newman(os.environ, tmp), _redis_url_for_newman(os.environ))
    try:
        key, raw = _prepare(env, main_database_url)
        with _gunicorn(env) as base_url:
            status = run_newman(base_url, raw)
        from django.db import connections

        from compliance import services
        from compliance.audit import Actor

        # The report holds the key in its request headers: it dies with the run.
        services.api_key_revoke(key=key, actor=Actor.system_actor("newman"))
        connections.close_all()
        _flush_redis(env.get("REDIS_URL", ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"make newman: {time.monotonic() - started:.1f} s", flush=True)
    return status


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serve", action="store_true", help="own database, gunicorn and key (make newman)")
    parser.add_argument("--base-url", help="the server's /api root, e.g. http://127.0.0.1:8000/api")
    parser.add_argument("--token", default=os.environ.get("NEWMAN_TOKEN"), help="the console's API key")
    args = parser.parse_args(argv)
    if args.serve:
        return serve_and_run()
    if not (args.base_url and args.token):
        parser.error("give --serve, or --base-url and --token")
    return run_newman(args.base_url, args.token)


if __name__ == "__main__":
    sys.exit(main())
