"""The customer: one row per person or organisation, whichever API it came through.

Seed 003 splits a customer into `main` (the relationship) and `details` (who they are:
a person's or an organisation's fields); seeds 004/002 call the same record a user
(`userId` = `idInternalCustomer`, `external_ref` here). Fields that only one source has
live here too, so either API reads back what the other wrote.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

PERSON = 1
ORGANISATION = 2


class RiskLevel(models.TextChoices):
    """The five levels of seeds 004/002 (`irsRiskLevel`, `craRiskLevel`), lowest first."""

    VERY_LOW = "VERY_LOW", "Very low"
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    VERY_HIGH = "VERY_HIGH", "Very high"

    @classmethod
    def rank(cls, value: str) -> int:
        return list(cls.values).index(value)


class UserState(models.TextChoices):
    """`userStateDetails.state` (seed 004)."""

    UNACCEPTABLE = "UNACCEPTABLE"
    TERMINATED = "TERMINATED"
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    CREATED = "CREATED"
    SUSPEND = "SUSPEND"
    BLOCKED = "BLOCKED"


class KycStatus(models.TextChoices):
    """`kycStatusDetails.status` (seed 004)."""

    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    EXPIRED = "EXPIRED"
    NEW = "NEW"
    CANCELLED = "CANCELLED"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    EDD_IN_PROGRESS = "EDD_IN_PROGRESS"


class LiveCustomerManager(models.Manager):
    """Customers that were not deleted: what the API and the admin see."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Customer(models.Model):
    """A person (`customer_type` 1) or an organisation (2) the institution has a relationship with.

    Deleting a customer through the API keeps the row (record-keeping duties outlive the
    relationship): it is marked deleted, disappears from every read, and its reference
    becomes free for a new customer.
    """

    # --- main (seed 003) -------------------------------------------------------------
    external_ref = models.CharField(
        "internal customer number",
        max_length=100,
        help_text="`idInternalCustomer` (seed 003) = `userId` (seeds 004/002): the integrator's reference.",
    )
    customer_type = models.ForeignKey(
        "reference.CustomerType", on_delete=models.PROTECT, related_name="+", db_column="customer_type_id"
    )
    status = models.ForeignKey("reference.CustomerStatus", on_delete=models.PROTECT, related_name="+")
    responsible_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="`idUserResponsibleOfficer`: the staff member who owns the relationship.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="`idUser`: who created the customer (an API key acts as its service account).",
    )
    last_modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="`idUserLastModified`.",
    )
    relationship_start_date = models.DateField(null=True, blank=True)
    relationship_end_date = models.DateField(null=True, blank=True)
    referral_agent = models.CharField(
        max_length=200, blank=True, help_text="Who referred the customer; feeds 'Referred by third party'."
    )
    other_info = models.TextField(blank=True)

    # --- details of a person (seed 003 + seed 004 name parts) ------------------------
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    maiden_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    date_birth = models.DateField("date of birth", null=True, blank=True)
    non_face_to_face = models.BooleanField(default=False, help_text="Onboarded without meeting in person.")
    country_nationality = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    country_birth = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    country_residence = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    gender = models.ForeignKey(
        "reference.Gender", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    marital_status = models.ForeignKey(
        "reference.MaritalStatus", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    profession = models.CharField(max_length=200, blank=True)
    business_industry = models.JSONField(
        default=list, blank=True, help_text="Seed 004 `employmentDetails.businessIndustry` of a person."
    )

    # --- details of an organisation (seed 003 + seed 004 registration details) --------
    registered_name = models.CharField(max_length=300, blank=True, help_text="= seed 004 `legalName`.")
    trade_name = models.CharField(max_length=300, blank=True)
    registration_no = models.CharField(
        max_length=100, blank=True, help_text="= seed 004 `registrationIdentifier`."
    )
    date_incorporation = models.DateField(null=True, blank=True, help_text="= seed 004 `dateOfRegistration`.")
    incorporation_type = models.ForeignKey(
        "reference.IncorporationType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    legal_entity_type = models.CharField(
        max_length=100, blank=True, help_text="Seed 004 `legalEntityType` as sent (e.g. LLC)."
    )
    country_incorporation = models.ForeignKey(
        "reference.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="= seed 004 `registrationCountry`.",
    )
    country_domiciliary = models.ForeignKey(
        "reference.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="= seed 004 `taxResidenceCountry`.",
    )
    country_activity = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tax_identifier = models.CharField(max_length=100, blank=True)
    main_business_activity = models.CharField(max_length=300, blank=True)
    main_products_services = models.JSONField(
        default=list, blank=True, help_text="Seed 004 `mainProductsServicesSold`."
    )
    company_business_industry = models.JSONField(
        default=list, blank=True, help_text="Seed 004 `legalEntity.companyGeneralDetails.businessIndustry`."
    )

    # --- seed 004 user fields without a seed 003 twin --------------------------------
    reason_for_account_opening = models.JSONField(default=list, blank=True)
    source_of_funds = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="`[{key, value}]`")
    pep_status = models.JSONField(default=list, blank=True, help_text="`[{isPepHit, pepCountry, ...}]`")
    user_state = models.CharField(max_length=20, choices=UserState.choices, default=UserState.CREATED)
    user_state_reason = models.CharField(max_length=500, blank=True)
    kyc_status = models.CharField(max_length=20, choices=KycStatus.choices, default=KycStatus.NOT_STARTED)
    kyc_status_reason = models.CharField(max_length=500, blank=True)
    registered_at = models.DateTimeField(
        default=timezone.now, help_text="Seed 004 `createdTimestamp`: when the user registered."
    )

    # --- the four checked lists -------------------------------------------------------
    checked_documents = models.ManyToManyField("reference.DocumentType", blank=True, related_name="+")
    checked_activity_risks = models.ManyToManyField("reference.ActivityRisk", blank=True, related_name="+")
    checked_behavior_risks = models.ManyToManyField("reference.BehaviorRisk", blank=True, related_name="+")
    checked_enhanced_checks = models.ManyToManyField("reference.EnhancedCheck", blank=True, related_name="+")

    # --- risk, as last calculated (users.risk); history in RiskTrail -----------------
    risk_score = models.IntegerField(
        default=0, help_text="The customer's own global score (seed 003 `global.score`)."
    )
    risk_effective_score = models.IntegerField(
        default=0, help_text="The highest of its own score and its contaminators' scores."
    )
    risk_level = models.CharField(
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.MEDIUM,
        help_text="Level of the effective score: seed 004's ORS/CRA level.",
    )
    risk_breakdown = models.JSONField(default=dict, blank=True, help_text="Seed 003 `totals`.")
    risk_contaminators = models.JSONField(default=list, blank=True, help_text="Seed 003 `contaminators`.")
    risk_inputs_digest = models.CharField(max_length=32, blank=True, editable=False)
    risk_calculated_at = models.DateTimeField(null=True, blank=True)
    onboarding_risk_score = models.IntegerField(
        null=True, blank=True, help_text="Seed 004 IRS / seed 002 KYC score: the score at onboarding."
    )
    onboarding_risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    next_review_date = models.DateField(null=True, blank=True, db_index=True)

    # --- seed 004 rule results on the user (filled by transaction monitoring) --------
    executed_rules = models.JSONField(default=list, blank=True)
    hit_rules = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    all_objects = models.Manager()
    objects = LiveCustomerManager()  # the default (Meta.default_manager_name): live customers only

    class Meta:
        ordering = ["id"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        permissions = [("recalculate_risk", "Can recalculate customer risk")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=Q(deleted_at__isnull=True),
                name="users_customer_external_ref_unique",
                violation_error_message="A customer with this internal customer number exists already.",
            ),
            models.CheckConstraint(
                condition=~Q(external_ref=""),
                name="users_customer_external_ref_not_blank",
                violation_error_message="The internal customer number must not be blank.",
            ),
            models.CheckConstraint(
                condition=Q(relationship_end_date__isnull=True)
                | Q(relationship_start_date__isnull=True)
                | Q(relationship_end_date__gte=models.F("relationship_start_date")),
                name="users_customer_relationship_dates_ordered",
                violation_error_message="The relationship cannot end before it starts.",
            ),
        ]
        indexes = [
            models.Index(fields=["customer_type", "status"], name="users_customer_type_status"),
            # A plain index: levels are matched exactly, so PostgreSQL's LIKE twin of
            # db_index=True on a CharField would be dead weight.
            models.Index(fields=["risk_level"], name="users_customer_risk_level"),
        ]

    def __str__(self):
        return f"{self.external_ref} {self.display_name}".strip()

    @property
    def is_person(self) -> bool:
        return self.customer_type_id == PERSON

    @property
    def is_organisation(self) -> bool:
        return self.customer_type_id == ORGANISATION

    @property
    def display_name(self) -> str:
        if self.is_organisation:
            return self.registered_name or self.trade_name
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)
