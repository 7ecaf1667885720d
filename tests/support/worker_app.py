"""The Celery app as the integration tests' worker process runs it: the product's app
plus the test handlers (`celery -A tests.support.worker_app worker`)."""

import django

from compliance.celery import app

django.setup()

from tests.support import handlers  # noqa: E402, F401  (registers the test handlers)

__all__ = ["app"]
