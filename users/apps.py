from django.apps import AppConfig


class UsersConfig(AppConfig):
    """The monitored customers: due diligence, KYC lists, risk model, risk trails, reviews."""

    name = "users"
    verbose_name = "Customers"

    def ready(self):
        from compliance import roles

        # event subscriptions: customer screening, ongoing screening
        from users.screening import customers, ongoing  # noqa: F401

        customer_data = ("users.view_*", "users.add_customer", "users.change_customer")
        # Analysts keep customer files up to date; they cannot delete customers or approve.
        roles.grant(roles.ANALYST, *customer_data)
        # Approvers close the four-eyes loop on risk trails.
        roles.grant(roles.APPROVER, "users.approve_risktrail", "users.change_review")
        # Integrators write customers from their systems (seed 003 DELETE included).
        roles.grant(roles.INTEGRATOR, *customer_data, "users.delete_customer")
        # Compliance admins own the risk model and may remove customers.
        roles.grant(
            roles.COMPLIANCE_ADMIN,
            "users.view_*",
            "users.change_riskfactor",
            "users.change_risklevelthreshold",
            "users.change_reviewpolicy",
            "users.delete_customer",
            "users.recalculate_risk",
        )
        # Compliance admins manage the watchlists and import their files (issue 6); analysts
        # look entries up through "users.view_*" above.
        roles.grant(
            roles.COMPLIANCE_ADMIN,
            "users.add_watchlistsource",
            "users.change_watchlistsource",
            "users.import_watchlist",
        )
