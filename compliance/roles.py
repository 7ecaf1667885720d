"""Roles are Django groups; what each may do is declared here, once.

The groups are created by migration (compliance 0003). Their permissions are granted
after every `migrate` from `ROLE_PERMISSIONS`, because Django creates a model's
permissions only after its migrations ran. Later apps add their models' permissions
to the map in their AppConfig.ready() with `grant()`. Granting only adds: a permission a
compliance admin granted by hand in the admin is left alone.

Patterns may end in `*` ("reference.view_*": every view permission of the app).
"""

ANALYST = "analyst"
APPROVER = "approver"
COMPLIANCE_ADMIN = "compliance admin"
INTEGRATOR = "integrator"
ROLES = (ANALYST, APPROVER, COMPLIANCE_ADMIN, INTEGRATOR)

ROLE_PERMISSIONS: dict[str, set[str]] = {
    # Reviews customers, alerts and cases; reads reference data.
    ANALYST: {"reference.view_*"},
    # An analyst who may also approve (four eyes) what analysts prepared; inherits ANALYST.
    APPROVER: set(),
    # Configures the product: reference data, risk settings, credentials, schedules; reads the audit trail.
    COMPLIANCE_ADMIN: {
        "reference.view_*",
        "reference.add_*",
        "reference.change_*",
        "compliance.view_audittrail",
        "compliance.view_outboxevent",
        "compliance.change_outboxevent",
        "compliance.view_apikey",
        "compliance.add_apikey",
        "compliance.change_apikey",
        "compliance.view_accesstoken",
        "compliance.change_accesstoken",
        "compliance.view_staffuser",
        "compliance.add_staffuser",
        "compliance.change_staffuser",
        # Webhooks: subscriptions (and their secrets), the delivery log, redelivery.
        "compliance.view_webhooksubscription",
        "compliance.add_webhooksubscription",
        "compliance.change_webhooksubscription",
        "compliance.view_webhookdelivery",
        "compliance.change_webhookdelivery",
        "compliance.view_webhookattempt",
        "auth.view_group",
        "django_celery_beat.*",
    },
    # Systems calling the API with a key: they read reference data to find the ids.
    INTEGRATOR: {"reference.view_*"},
}


# A role holds its own permissions and those of the role it extends.
ROLE_EXTENDS = {APPROVER: ANALYST}


def permissions_of(role: str) -> set[str]:
    parent = ROLE_EXTENDS.get(role)
    return ROLE_PERMISSIONS[role] | (permissions_of(parent) if parent else set())


def grant(role: str, *permissions: str) -> None:
    """Add permissions to a role (call from an AppConfig.ready())."""
    ROLE_PERMISSIONS[role].update(permissions)


def _matching(patterns, all_permissions):
    """all_permissions: iterable of (pk, "app_label.codename")."""
    wanted = set()
    for pk, name in all_permissions:
        for pattern in patterns:
            if (pattern.endswith("*") and name.startswith(pattern[:-1])) or name == pattern:
                wanted.add(pk)
                break
    return wanted


def sync_role_permissions(**kwargs) -> None:
    """post_migrate receiver: make sure every role holds its declared permissions."""
    from django.contrib.auth.models import Group, Permission

    using = kwargs.get("using", "default")
    all_permissions = [
        (pk, f"{app_label}.{codename}")
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    ]
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = _matching(permissions_of(role), all_permissions)
        have = set(group.permissions.values_list("pk", flat=True))
        if wanted - have:
            group.permissions.add(*(wanted - have))
