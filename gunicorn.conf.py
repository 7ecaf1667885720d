"""gunicorn settings for production: `gunicorn compliance.wsgi` picks this file up."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
accesslog = "-"
# Seed 001 sends its API key in an `api_key` header. gunicorn drops headers with underscores
# by default (they can be confused with proxy-set headers); "dangerous" passes them on with
# the underscore read as a dash. Our only underscore header is this credential, which we
# read under both spellings, so nothing is spoofable through the mapping.
header_map = "dangerous"
