from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """The platform: staff users, credentials, audit trail, domain events."""

    name = "compliance"
    verbose_name = "Platform"

    def ready(self):
        from compliance import roles, signals  # noqa: F401  (registers receivers)
