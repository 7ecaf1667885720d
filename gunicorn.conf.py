"""gunicorn settings for production: `gunicorn compliance.wsgi` picks this file up."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers (one request at a time each), more of them than cores: a request spends part of
# its time waiting on PostgreSQL and Redis, and another worker uses the core meanwhile. Measured
# on the 2-core machine (make bench-transactions, issue 4): 4 or 5 sync workers keep p99 near
# 35 ms at 100 transactions/s where 3 let requests queue behind a waiting worker (p99 31-220 ms
# from run to run); threads (gthread, keep-alive) cost as much CPU per request and, all sharing
# one interpreter lock per process, doubled p99.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
accesslog = "-"
# Seed 001 sends its API key in an `api_key` header. gunicorn drops headers with underscores
# by default (they can be confused with proxy-set headers); "dangerous" passes them on with
# the underscore read as a dash. Our only underscore header is this credential, which we
# read under both spellings, so nothing is spoofable through the mapping.
header_map = "dangerous"


def post_worker_init(worker):
    """Move what a loaded worker holds for good (Django, the URLconf and every view it imports) out
    of the garbage collector's sight (`gc.freeze`). A full collection otherwise walks all of it:
    60 ms at a time on the 2-core machine, landing on whichever request triggered it — the p99
    of make bench-transactions (issue 4). After the freeze a full collection takes about 1 ms."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view now, before the freeze)
    gc.collect()
    gc.freeze()
