"""Signal wiring of the platform app. Configuration only; no domain flow lives in signals."""

from django.db.models.signals import post_migrate

from compliance.roles import sync_role_permissions

# Runs after each app's migrate; the last one sees every permission.
post_migrate.connect(sync_role_permissions, dispatch_uid="compliance.sync_role_permissions")
