"""The Celery application. Tasks live in each app's `tasks.py`.

Without REDIS_URL the settings make every task run eagerly in the calling process
(the embedded default); with it, tasks go through Redis to `celery -A compliance worker`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")

app = Celery("compliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
