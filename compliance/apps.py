from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """The platform: staff users, credentials, audit trail, domain events, webhooks."""

    name = "compliance"
    verbose_name = "Platform"

    def ready(self):
        from compliance import roles, signals, webhooks  # noqa: F401  (registers receivers and handlers)
        from compliance.api import permissions  # noqa: F401  (invalidation of its permission cache)
