"""Readiness of what the product cannot work without: the database and the broker."""

import time

from django.conf import settings
from django.db import connection


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure means "down"; the message says which
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "up", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


def check_database() -> dict:
    def query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed(query)


def check_broker() -> dict:
    if not settings.REDIS_URL:
        # Embedded default: tasks run in-process, there is no broker to be down.
        return {"status": "eager"}

    def ping():
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()

    return _timed(ping)


def health() -> tuple[bool, dict]:
    database, broker = check_database(), check_broker()
    ok = database["status"] == "up" and broker["status"] in ("up", "eager")
    return ok, {"status": "ok" if ok else "unavailable", "database": database, "broker": broker}
