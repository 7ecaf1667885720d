"""`make run`'s set-up: an admin login (printed once), a user per role, an integrator key.

Idempotent: run again, it creates only what is missing and never prints a secret twice.
Later apps add their demo data (customers, transactions, cases) through `DEMO_LOADERS`.
"""

import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from compliance import roles, services
from compliance.audit import Actor
from compliance.models import ApiKey, StaffUser

# Dotted paths of functions `load(stdout) -> None` that add an app's demo data.
DEMO_LOADERS: list[str] = [
    "users.screening.demo.load",
    "users.demo.load",
    "transactions.demo.load",
    "cases.demo.load",
]

DEMO_STAFF = [
    ("analyst", roles.ANALYST, "Ana", "Lyst"),
    ("approver", roles.APPROVER, "April", "Prover"),
    ("compliance", roles.COMPLIANCE_ADMIN, "Connie", "Pliance"),
]


class Command(BaseCommand):
    help = "Create the admin login, one staff user per role and an integrator API key (demo data)."

    def handle(self, *args, **options):
        actor = Actor.system_actor("setup_demo")
        with transaction.atomic():
            self._admin()
            for username, role, first, last in DEMO_STAFF:
                self._staff(username, role, first, last)
            self._integrator_key(actor)
        for path in DEMO_LOADERS:
            from django.utils.module_loading import import_string

            import_string(path)(self.stdout)

    def _admin(self):
        if StaffUser.objects.filter(username="admin").exists():
            self.stdout.write("Admin login exists already (its password was printed when it was created).")
            return
        password = secrets.token_urlsafe(12)
        StaffUser.objects.create_superuser("admin", "admin@example.test", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Admin login (shown once):  http://127.0.0.1:8000/admin/"
                f"  user: admin  password: {password}\n"
            )
        )

    def _staff(self, username, role, first, last):
        user, created = StaffUser.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "is_staff": True,
                "email": f"{username}@example.test",
            },
        )
        if created:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"  {role:<17} user: {username:<11} password: {password}")

    def _integrator_key(self, actor):
        account, _ = StaffUser.objects.get_or_create(
            username="integrator", defaults={"first_name": "Core", "last_name": "Banking"}
        )
        account.set_unusable_password()  # a service account logs in with its key only
        account.save()
        account.groups.add(Group.objects.get(name=roles.INTEGRATOR))
        if ApiKey.objects.filter(user=account, revoked_at__isnull=True).exists():
            return
        _, raw = services.api_key_create(name="demo integrator", user=account, actor=actor)
        self.stdout.write(
            f"  integrator API key (shown once): {raw}\n"
            f"    try: curl -H 'x-api-key: {raw}' http://127.0.0.1:8000/api/lookups\n"
        )
