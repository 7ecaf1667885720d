"""The risk model as data, its results over time (risk trails) and the reviews they schedule.

The scoring code of each factor lives in `users.risk.factors` (a registry keyed by
`RiskFactor.code`); its points and parameters are rows here that the compliance admin
edits. Level thresholds and review frequencies are rows too.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from users.models.customers import RiskLevel


class RiskCategory(models.TextChoices):
    """Seed 003's five `totals` groups: the key is the API key, the label its `name`."""

    SCREENING = "screening", "Screening Risks"
    KYC = "kyc", "KYC Risks"
    ECONOMIC_PROFILE = "economicProfile", "Economic Profile Risks"
    COUNTRIES = "countries", "Country Risks"
    GENERAL = "general", "General Risks"


class RiskFactor(models.Model):
    """One line of the risk breakdown (e.g. "ID Card" in "KYC Risks") and its parameters."""

    code = models.SlugField(
        max_length=50, unique=True, help_text="Key of the scoring function in the registry."
    )
    name = models.CharField(max_length=100, help_text="Name shown in the breakdown (seed 003 spelling).")
    category = models.CharField(max_length=20, choices=RiskCategory.choices)
    applies_to_person = models.BooleanField(default=True)
    applies_to_organisation = models.BooleanField(default=True)
    parameters = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text="Points and thresholds; see the factor's help.",
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="An inactive factor scores 0 but still shows."
    )
    sort_order = models.IntegerField(default=0)
    description = models.TextField(
        blank=True, help_text="What the factor measures and what each parameter means."
    )

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from users.risk.factors import parameter_errors  # the registry imports the models

        errors = parameter_errors(self.code, self.parameters)
        if errors:
            raise ValidationError(errors)


class RiskLevelThreshold(models.Model):
    """The global score from which a level starts, and the seed 003 risk type (`idRiskType`) it maps to."""

    level = models.CharField(max_length=10, choices=RiskLevel.choices, unique=True)
    min_score = models.IntegerField(
        help_text="Scores at or above this (and below the next level's) get this level."
    )
    risk_type = models.ForeignKey("reference.RiskType", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["min_score"]
        constraints = [
            models.UniqueConstraint(
                fields=["min_score"],
                name="users_risklevelthreshold_min_score_unique",
                violation_error_message="Two levels cannot start at the same score.",
            ),
        ]

    def __str__(self):
        return f"{self.get_level_display()} from {self.min_score}"


class ReviewPolicy(models.Model):
    """How often a customer of a level is reviewed (months between reviews)."""

    level = models.CharField(max_length=10, choices=RiskLevel.choices, unique=True)
    review_months = models.PositiveSmallIntegerField(
        help_text="Months from approval or review to the next review."
    )

    class Meta:
        ordering = ["review_months"]
        verbose_name_plural = "review policies"

    def __str__(self):
        return f"{self.get_level_display()}: every {self.review_months} months"


class RiskTrail(models.Model):
    """One calculation of a customer's risk that differed from the previous one (`idRiskTrail`).

    Appended when a write changes the score or its inputs; never changed afterwards except
    by its single review (four eyes: an approver who did not cause it).
    """

    # Indexed by users_trail_customer_latest (customer, -id); a second index would only slow inserts.
    customer = models.ForeignKey(
        "users.Customer", on_delete=models.CASCADE, related_name="risk_trails", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose change produced this trail (null for system recalculations).",
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    cause = models.CharField(max_length=300, help_text="What changed, e.g. 'addresses added'.")
    score = models.IntegerField(help_text="The customer's own global score.")
    effective_score = models.IntegerField(help_text="Own score raised by contaminators.")
    level = models.CharField(max_length=10, choices=RiskLevel.choices)
    breakdown = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    contaminators = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    inputs_digest = models.CharField(max_length=32, blank=True)

    # The review (PUT /api/customer/risk-trails/{id}).
    reviewed = models.BooleanField(default=False)
    reviewed_date = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approval_status = models.ForeignKey(
        "reference.ApprovalStatus", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_type = models.ForeignKey(
        "reference.RiskType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The risk type the reviewer assigned.",
    )
    comments = models.TextField(null=True, blank=True)  # noqa: DJ001  (the seed tells null from blank)

    class Meta:
        ordering = ["-id"]
        permissions = [("approve_risktrail", "Can approve or reject risk trails (four eyes)")]
        indexes = [models.Index(fields=["customer", "-id"], name="users_trail_customer_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(reviewed=False) | (Q(reviewer__isnull=False) & Q(approval_status__isnull=False)),
                name="users_risktrail_review_complete",
                violation_error_message="A reviewed risk trail needs its reviewer and approval status.",
            ),
        ]

    def __str__(self):
        return f"Risk trail {self.pk} of customer {self.customer_id}: {self.effective_score} ({self.level})"


class Review(models.Model):
    """A periodic review of a customer: scheduled when a risk trail is approved, done by a reviewer."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="reviews")
    created_date = models.DateTimeField(default=timezone.now, null=True, blank=True)
    scheduled_date = models.DateField()
    reviewed_date = models.DateField(null=True, blank=True)
    reviewed = models.BooleanField(default=False)
    comments = models.TextField(null=True, blank=True)  # noqa: DJ001  (the seed tells null from blank)
    scheduler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_trail = models.ForeignKey(
        RiskTrail,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        help_text="The approved risk trail that scheduled it.",
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(reviewed=False),
                name="users_review_one_open_per_customer",
                violation_error_message="The customer already has an open review.",
            ),
        ]

    def __str__(self):
        return f"Review of customer {self.customer_id} on {self.scheduled_date}"
