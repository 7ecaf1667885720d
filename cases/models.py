"""Cases and alerts (seed 004 "Management/Case", "Management/Alerts").

An **alert** is one reason to look at something: a rule instance that hit one or more
transactions (TRANSACTION), or a screening match (SANCTIONS). A **case** is the unit of
work an analyst takes: everything open about one entity (a customer, USER; or a payment
instrument, PAYMENT) grouped together. The handlers put a new alert into the entity's
open case, so there is at most one open case per customer and per payment instrument
(partial unique constraints below make that hold under concurrent workers too).

Both carry a status with its full history (`StatusChange`), assignments, comments and
files. Every change goes through `cases.services`, which the API and the admin share;
`version` grows with every change so that a screen submitted on stale data is refused
instead of silently overwriting another analyst's work.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rules.models import CasePriority, RuleNature
from transactions.models import PaymentMethod, RuleAction

__all__ = [
    "Alert",
    "AlertEntityType",
    "Assignment",
    "Case",
    "CaseEntityType",
    "CasePriority",
    "CaseSource",
    "CaseStatus",
    "Comment",
    "File",
    "PaymentMethod",
    "RuleAction",
    "RuleNature",
    "StatusChange",
    "StatusReason",
]


class CaseStatus(models.TextChoices):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    ON_HOLD = "ON_HOLD"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


class StatusReason(models.TextChoices):
    """Seed 004's reason list for a status change (required when closing)."""

    OTHER = "Other"
    FALSE_POSITIVE = "False positive"
    DOCUMENTS_COLLECTED = "Documents collected"
    TRANSACTION_REJECTED = "Transaction Rejected"
    TRANSACTION_REFUNDED = "Transaction Refunded"
    SAR = "Suspicious activity reported (SAR)"
    DOCUMENTS_NOT_COLLECTED = "Documents not collected"
    INVESTIGATION_COMPLETED = "Investigation completed"
    ESCALATED = "Escalated"
    FRAUD = "Fraud"
    AML = "Anti-money laundering"
    TERRORIST_FINANCING = "Terrorist financing"
    USER_BLACKLISTED = "User Blacklisted"
    USER_TERMINATED = "User Terminated"
    INTERNAL_REFERRAL = "Internal referral"


class CaseSource(models.TextChoices):
    RULE = "RULE"
    SCREENING = "SCREENING"
    MANUAL = "MANUAL"
    REVIEW = "REVIEW"


class CaseEntityType(models.TextChoices):
    USER = "USER"
    PAYMENT = "PAYMENT"


class AlertEntityType(models.TextChoices):
    TRANSACTION = "TRANSACTION"
    SANCTIONS = "SANCTIONS"


PRIORITY_ORDER = {CasePriority.P1: 1, CasePriority.P2: 2, CasePriority.P3: 3, CasePriority.P4: 4}


class Case(models.Model):
    case_id = models.CharField(max_length=100, unique=True, help_text="The seed's `caseId`.")
    created_at = models.DateTimeField(
        default=timezone.now, help_text="`createdTimestamp` (epoch ms in the API)."
    )
    priority = models.CharField(max_length=2, choices=CasePriority.choices, default=CasePriority.P4)
    source = models.CharField(max_length=10, choices=CaseSource.choices, default=CaseSource.MANUAL)

    entity_type = models.CharField(max_length=10, choices=CaseEntityType.choices)
    customer = models.ForeignKey(
        "users.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    user_ref = models.CharField(max_length=100, blank=True, help_text="The `userId` as posted.")
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True)
    payment_details = models.JSONField(default=dict, blank=True)
    payment_identifier = models.CharField(
        max_length=200, blank=True, help_text="`METHOD:value`, as transactions key their instruments."
    )

    tags = models.JSONField(default=list, blank=True, help_text="`[{key, value}]`")
    creation_reason = models.JSONField(
        default=dict, blank=True, help_text="`{reasons: [...], comment, timestamp}`"
    )
    related_cases = models.JSONField(default=list, blank=True, help_text="Other `caseId`s.")

    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    status_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        help_text="The latest assignee (the full list is in `assignments`).",
    )
    version = models.PositiveIntegerField(default=1, help_text="Grows with every change (stale-form check).")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=~Q(status="CLOSED") & Q(customer__isnull=False),
                name="cases_one_open_case_per_customer",
            ),
            models.UniqueConstraint(
                fields=["payment_identifier"],
                condition=~Q(status="CLOSED") & ~Q(payment_identifier=""),
                name="cases_one_open_case_per_instrument",
            ),
            models.CheckConstraint(
                condition=Q(entity_type="PAYMENT") | Q(customer__isnull=False) | ~Q(user_ref=""),
                name="cases_user_case_names_user",
            ),
        ]
        indexes = [
            # The queue: open work sorted by priority then age, per assignee.
            models.Index(fields=["status", "priority", "created_at"], name="case_queue"),
            models.Index(fields=["assignee", "status", "priority", "created_at"], name="case_queue_mine"),
            models.Index(fields=["source", "created_at"], name="case_source_time"),
            models.Index(fields=["created_at"], name="case_created"),
        ]
        permissions = [
            ("close_sar", "Can close a case as Suspicious activity reported (SAR)"),
        ]

    def __str__(self):
        return self.case_id

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED


class Alert(models.Model):
    alert_id = models.CharField(max_length=100, unique=True, help_text="The seed's `alertId`.")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts")
    created_at = models.DateTimeField(default=timezone.now)
    priority = models.CharField(max_length=2, choices=CasePriority.choices, default=CasePriority.P4)

    entity_type = models.CharField(max_length=12, choices=AlertEntityType.choices)
    transactions = models.ManyToManyField("transactions.Transaction", blank=True, related_name="alerts")
    transaction_ids = models.JSONField(
        default=list, blank=True, help_text="The `transactionIds` as posted, in order."
    )
    screening_details = models.JSONField(
        default=dict, blank=True, help_text="What matched, for SANCTIONS alerts (screening issue)."
    )

    # ruleDetails: the rule as it was when the alert opened; the instance may change later.
    rule_instance = models.ForeignKey(
        "rules.RuleInstance", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    rule_instance_ref = models.CharField(max_length=40, blank=True, help_text="`ruleDetails.instanceId`.")
    rule_id = models.CharField(max_length=40, blank=True, help_text="`ruleDetails.id` (R-1...).")
    rule_name = models.CharField(max_length=300, blank=True)
    rule_description = models.TextField(blank=True)
    rule_action = models.CharField(max_length=10, choices=RuleAction.choices, blank=True)
    rule_nature = models.CharField(max_length=10, choices=RuleNature.choices, blank=True)
    rule_version_id = models.CharField(max_length=40, blank=True)

    tags = models.JSONField(default=list, blank=True)
    creation_reason = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    status_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_alerts",
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "created_at", "id"]
        constraints = [
            # A rule that hits again while its alert is open adds the transaction to that alert.
            models.UniqueConstraint(
                fields=["case", "rule_instance"],
                condition=~Q(status="CLOSED") & Q(rule_instance__isnull=False),
                name="cases_one_open_alert_per_rule_and_case",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "status"], name="alert_case_status"),
            models.Index(fields=["created_at"], name="alert_created"),
        ]

    def __str__(self):
        return self.alert_id


class StatusChange(models.Model):
    """One status change of a case or an alert: the timeline and the webhooks read it."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="status_changes"
    )
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=CaseStatus.choices)
    reason = models.CharField(max_length=50, choices=StatusReason.choices, blank=True)
    other_reason = models.CharField(max_length=500, blank=True)
    comment = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, help_text="Who, readable after renames.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False) | Q(alert__isnull=False),
                name="cases_status_change_has_subject",
            ),
        ]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"


class Assignment(models.Model):
    """Seed `assignments` item: `assigneeEmail`, `assignedByEmail`, `timestamp`."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="assignments"
    )
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="assignments"
    )
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False) | Q(alert__isnull=False), name="cases_assignment_has_subject"
            ),
        ]

    def __str__(self):
        return f"{self.assignee} ({self.created_at:%Y-%m-%d})"


class Comment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.body[:60]


def _upload_to(instance: File, filename: str) -> str:
    return f"cases/{timezone.now():%Y/%m}/{instance.key}/{filename}"


class File(models.Model):
    """A file in the configured storage (`STORAGES["default"]`), referenced by its `s3Key`.

    Uploaded first (`POST /api/management/files`, or the case page), then attached to a
    status change or a comment of a case or an alert by that key.
    """

    key = models.CharField(max_length=64, unique=True, help_text="The seed's `s3Key`.")
    file = models.FileField(upload_to=_upload_to, max_length=500)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="files")
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, null=True, blank=True, related_name="files")
    status_change = models.ForeignKey(
        StatusChange, on_delete=models.PROTECT, null=True, blank=True, related_name="files"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.PROTECT, null=True, blank=True, related_name="files"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.filename
