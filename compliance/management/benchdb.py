"""What every `make bench-*` command shares: a PostgreSQL database of its own, and a child
process that runs the measurement against it with production settings.

A benchmark must never touch `DATABASE_URL`'s database (it empties or fills its own) and
must measure the product as deployed (DEBUG off). The parent command checks the URL,
creates the database when missing, and re-runs itself with `--in-bench-database` in a
child process whose environment points Django at that database.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import environ
import psycopg
from django.conf import settings
from django.core.management.base import CommandError


def where(database: dict) -> tuple[str, str, str]:
    """(host, port, name) of a Django database setting, to tell databases apart."""
    return (str(database.get("HOST") or ""), str(database.get("PORT") or "5432"), str(database.get("NAME")))


def create_database(config: dict) -> bool:
    """Create the benchmark database if missing; answer whether it was created."""
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            return False
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(config["NAME"])))
        return True


def bench_config(url: str) -> dict:
    """The Django database setting of a benchmark URL, refused when it is not PostgreSQL."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise CommandError(f"The benchmark needs a PostgreSQL database URL, not {url!r}.")
    return config


def prepare_database(config: dict, stdout) -> None:
    """Refuse DATABASE_URL's own database, then create the benchmark's when missing."""
    main = settings.DATABASES["default"]
    if main["ENGINE"] == config["ENGINE"] and where(main) == where(config):
        raise CommandError(
            f"The benchmark database {config['NAME']!r} is DATABASE_URL's; it would be emptied. "
            "Point BENCH_DATABASE_URL (or --database-url) at another database."
        )
    try:
        created = create_database(config)
    except psycopg.Error as error:
        raise CommandError(f"Cannot reach PostgreSQL for the benchmark database: {error}") from error
    if created:
        stdout.write(f"created database {config['NAME']}")


def child_environment(url: str, *, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) on the benchmark's stores, with throwaway secrets.

    Without `redis_url` the child runs tasks eagerly with a local cache, so the developer's
    Redis is left alone."""
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", **extra}
    env.setdefault("SECRET_KEY", f"bench-only-{secrets.token_hex(16)}")
    # Production settings want a key for the webhook secrets; a benchmark stores none.
    env.setdefault("WEBHOOK_SECRETS_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    env.pop("CACHE_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def run_child(command: str, arguments: list[str], env: dict[str, str], stdout) -> None:
    """Run `manage.py <command> <arguments> --in-bench-database` and fail as it fails."""
    argv = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), command, *arguments]
    argv.append("--in-bench-database")
    stdout.flush()
    completed = subprocess.run(argv, env=env, check=False)  # noqa: S603 (our own command)
    if completed.returncode:
        raise CommandError(f"The benchmark failed (exit status {completed.returncode}).")


def require_bench_connection(config: dict) -> None:
    """In the child: refuse to run unless connected to the benchmark database itself."""
    from django.db import connection

    if connection.vendor != "postgresql" or where(connection.settings_dict) != where(config):
        raise CommandError("Refusing to run: the process is not connected to the benchmark database.")
