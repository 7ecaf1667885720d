from django.apps import AppConfig


class CasesConfig(AppConfig):
    """Alerts and cases: the workflow (cases.services), its API, the analysts' screens, and the
    handlers that open alerts from rule hits and screening hits."""

    name = "cases"
    verbose_name = "Cases and alerts"

    def ready(self):
        from cases import handlers  # noqa: F401  (event subscriptions: rule hits, screening hits)
        from cases.false_positives import annotate_false_positives
        from compliance import roles
        from transactions import monitoring

        # Hits carry ruleHitMeta.falsePositiveDetails from how analysts closed the rule's alerts.
        monitoring.register_hit_annotator("cases.false_positives", annotate_false_positives)

        # Analysts work cases and alerts: read, open, change status, assign, comment, attach files.
        roles.grant(
            roles.ANALYST,
            *(f"cases.{verb}_{model}" for verb in ("view", "add", "change") for model in _MODELS),
        )
        # Approvers (who inherit the analysts' permissions) may also close a case as SAR.
        roles.grant(roles.APPROVER, "cases.close_sar")
        # Integrators call the Management API: cases and alerts, and the files they attach.
        roles.grant(
            roles.INTEGRATOR,
            "cases.view_case",
            "cases.add_case",
            "cases.change_case",
            "cases.view_alert",
            "cases.add_alert",
            "cases.change_alert",
            "cases.add_file",
        )
        # Compliance admins read the work (oversight), they do not do it.
        roles.grant(roles.COMPLIANCE_ADMIN, "cases.view_*")


_MODELS = ("case", "alert", "statuschange", "assignment", "comment", "file")
