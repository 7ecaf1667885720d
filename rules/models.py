"""Rule instances (configured uses of the rule library), their versions, backtests and blocked lists.

The rule *templates* (`R-1`...) are code: `rules.library` registers each with its JSON
Schema. An *instance* is a template configured by a compliance admin: parameters (one set,
or one per risk level), action, filters, triggers, shadow mode. Every change writes a
`RuleInstanceVersion`; each executed rule records the `versionId` it ran with.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from transactions.models import RuleAction

RISK_LEVELS = ("VERY_HIGH", "HIGH", "MEDIUM", "LOW", "VERY_LOW")


class RuleNature(models.TextChoices):
    AML = "AML"
    FRAUD = "FRAUD"
    CTF = "CTF"
    SCREENING = "SCREENING"


class CasePriority(models.TextChoices):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class LiveRuleInstanceManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class RuleInstance(models.Model):
    """A rule template configured to run on transactions (seed 004 "Rule Instance")."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE"
        INACTIVE = "INACTIVE"

    rule_id = models.CharField(max_length=40, help_text="The template (`R-1`...), see rules.library.")
    rule_name_alias = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    filters = models.JSONField(default=dict, blank=True, help_text="Valid against /rule-filters-schema.")
    parameters = models.JSONField(
        default=dict, blank=True, help_text="Used when the instance has no per-risk-level parameters."
    )
    risk_level_parameters = models.JSONField(
        default=dict, blank=True, help_text="`{VERY_HIGH: {...}, ..., VERY_LOW: {...}}` or empty."
    )
    action = models.CharField(max_length=10, choices=RuleAction.choices, default=RuleAction.FLAG)
    risk_level_actions = models.JSONField(default=dict, blank=True)
    triggers_on_hit = models.JSONField(default=dict, blank=True)
    risk_level_triggers_on_hit = models.JSONField(default=dict, blank=True)
    case_priority = models.CharField(max_length=2, choices=CasePriority.choices, default=CasePriority.P3)
    nature = models.CharField(max_length=10, choices=RuleNature.choices)
    labels = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    is_shadow = models.BooleanField(
        default=False, help_text="Evaluated and recorded, never acting (no decision, alert or trigger)."
    )
    run_on_transaction_events = models.BooleanField(
        default=False, help_text="Also re-run when a transaction event changes the transaction."
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    all_objects = models.Manager()
    objects = LiveRuleInstanceManager()

    class Meta:
        ordering = ["id"]
        default_manager_name = "all_objects"
        base_manager_name = "all_objects"
        indexes = [models.Index(fields=["status"], name="rules_instance_status")]

    def __str__(self):
        return f"{self.pk} {self.rule_id} {self.rule_name_alias}".strip()

    @property
    def version_id(self) -> str:
        return f"{self.pk}.{self.version}"


class RuleInstanceVersion(models.Model):
    """The configuration of a rule instance as it was from one change to the next (append-only)."""

    rule_instance = models.ForeignKey(RuleInstance, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    config = models.JSONField(help_text="The instance document (API shape) of this version.")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule_instance", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_instance", "version"],
                name="rules_version_unique",
                violation_error_message="This version of the rule instance exists already.",
            )
        ]

    def __str__(self):
        return f"{self.rule_instance_id}.{self.version}"

    @property
    def version_id(self) -> str:
        return f"{self.rule_instance_id}.{self.version}"


class BacktestRun(models.Model):
    """A rule instance's configuration run over stored transactions of a period, changing nothing."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED"
        RUNNING = "RUNNING"
        DONE = "DONE"
        FAILED = "FAILED"

    rule_instance = models.ForeignKey(RuleInstance, on_delete=models.CASCADE, related_name="backtests")
    config = models.JSONField(help_text="The configuration tested (the instance's, when the run was asked).")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    transactions_scanned = models.PositiveIntegerField(default=0)
    hits = models.PositiveIntegerField(default=0)
    sample_hits = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="rules_backtest_period_order",
                violation_error_message="The period must end after it starts.",
            )
        ]

    def __str__(self):
        return f"Backtest {self.pk} of {self.rule_instance_id}"

    @property
    def hit_rate(self) -> float | None:
        if not self.transactions_scanned:
            return None
        return round(100 * self.hits / self.transactions_scanned, 2)


class BlockedValue(models.Model):
    """An identifier nobody may transact with: the blocked-list rule (R-13) looks values up here."""

    class Kind(models.TextChoices):
        IBAN = "IBAN"
        CARD_FINGERPRINT = "CARD_FINGERPRINT"
        DEVICE = "DEVICE"
        EMAIL = "EMAIL"
        IP = "IP"
        PAYMENT_IDENTIFIER = "PAYMENT_IDENTIFIER"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=300, help_text="Stored normalised (see rules.blocked.normalise).")
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"],
                name="rules_blocked_value_unique",
                violation_error_message="This value is blocked already.",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.value}"


class IpCountryRange(models.Model):
    """Which country an IP address range is in (for R-7 IP country and R-14 VPN/IP mismatch).

    Loaded from a range CSV (`start,end,country`, the DB-IP / IP2Location lite layout) by
    `manage.py load_ip_countries`. Addresses are stored as 32 hex digits (IPv4 as
    IPv4-mapped IPv6), so a text comparison orders them numerically on every database.
    """

    start = models.CharField(max_length=32)
    end = models.CharField(max_length=32)
    country = models.CharField(max_length=2)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["start"], name="rules_ip_range_start")]

    def __str__(self):
        return f"{self.start}-{self.end} {self.country}"
