"""Install the platform's periodic jobs in django-celery-beat's database scheduler.

Operations change intervals or disable jobs in the admin ("Periodic tasks"); this
migration only creates missing rows, so it never overwrites their changes. Each job
expires before its next run, so a backlog never piles up duplicates.
"""

import json

from django.db import migrations

SCHEDULES = [
    # name, task, every (seconds), expires (seconds), description
    ("Re-dispatch pending domain events", "compliance.redispatch_events", 30, 25,
     "Delivers outbox events that were not dispatched after commit (broker down, handler failing)."),
    ("Purge expired login tokens", "compliance.purge_expired_tokens", 86400, 3600,
     "Deletes login tokens that expired more than a day ago."),
]


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, expires, description in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "expire_seconds": expires,
                "description": description,
                "kwargs": json.dumps({}),
                "enabled": True,
            },
        )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[s[0] for s in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
