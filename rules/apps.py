from django.apps import AppConfig


class RulesConfig(AppConfig):
    """The rule library, rule instances and the engine that judges transactions."""

    name = "rules"
    verbose_name = "Rules"

    def ready(self):
        from compliance import roles
        from rules.engine import runner
        from transactions import monitoring

        monitoring.register_evaluator(runner.evaluate_transaction)

        # Analysts read the rules that raised their alerts, their versions and backtests.
        roles.grant(roles.ANALYST, "rules.view_*")
        # Integrators read the rule library and instances (seed 004 "Management/Rule").
        roles.grant(roles.INTEGRATOR, "rules.view_ruleinstance")
        # Compliance admins configure monitoring: instances, backtests, blocked lists, IP ranges.
        roles.grant(
            roles.COMPLIANCE_ADMIN,
            "rules.view_*",
            "rules.add_*",
            "rules.change_*",
            "rules.delete_ruleinstance",
            "rules.delete_blockedvalue",
        )
