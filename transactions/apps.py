from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    """Transactions and their events, judged by the rules app's engine (transactions.monitoring)."""

    name = "transactions"
    verbose_name = "Transactions"

    def ready(self):
        from compliance import roles
        from transactions import handlers  # noqa: F401  (event subscriptions)

        # Integrators post transactions and their events and read them back.
        roles.grant(
            roles.INTEGRATOR,
            "transactions.add_transaction",
            "transactions.view_transaction",
            "transactions.add_transactionevent",
            "transactions.view_transactionevent",
        )
        # Analysts read transactions with their evidence.
        roles.grant(roles.ANALYST, "transactions.view_*")
        # Compliance admins also keep the exchange rates that sums and thresholds convert with.
        roles.grant(
            roles.COMPLIANCE_ADMIN,
            "transactions.view_*",
            "transactions.add_exchangerate",
            "transactions.change_exchangerate",
        )
