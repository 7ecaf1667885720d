"""Install the webhook sweep in django-celery-beat's database scheduler (as 0004 does for the
platform's jobs): only a missing row is created, so changes made in the admin are kept."""

import json

from django.db import migrations

NAME = "Send due webhook deliveries"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "compliance.webhooks_redeliver",
            "interval": interval,
            "expire_seconds": 25,
            "description": (
                "Sends webhook deliveries that are due: retries with backoff, and deliveries whose "
                "task never reached a worker (broker down)."
            ),
            "kwargs": json.dumps({}),
            "enabled": True,
        },
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0005_webhooks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
