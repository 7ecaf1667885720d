"""The customer's KYC lists (seed 003 `lists`), one model each, and associations between customers.

Each row belongs to one customer and is created, changed and deleted through
`users.services.kyc` so that every change is audited and re-scores the customer.
"""

from django.db import models
from django.db.models import Q


class KycRow(models.Model):
    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
        ordering = ["id"]


class IdCard(KycRow):
    """An identity document (`idCards`, `/id-card`; seed 004 `legalDocuments`)."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="id_cards")
    id_card_type = models.ForeignKey("reference.IdCardType", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=100)
    filename = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  (the seed tells null from blank)
    copy = models.BooleanField(default=False, help_text="A copy of the document is on file.")
    expiration_date = models.DateField(null=True, blank=True)
    issued_date = models.DateField(null=True, blank=True, help_text="Seed 004 `documentIssuedDate`.")
    issued_country = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document_type_name = models.CharField(
        max_length=100, blank=True, help_text="Seed 004 `documentType` as sent (e.g. passport)."
    )
    tags = models.JSONField(default=list, blank=True)

    class Meta(KycRow.Meta):
        verbose_name = "ID card"
        verbose_name_plural = "ID cards"

    def __str__(self):
        return f"{self.id_card_type_id}: {self.number}"


class Address(KycRow):
    """A postal address (`addresses`; seed 004 `contactDetails.addresses`)."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="addresses")
    country = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    street_name = models.CharField(
        max_length=500, blank=True, help_text="Seed 004 `addressLines`, one per line."
    )
    postcode = models.CharField(max_length=30, blank=True)
    city = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=200, blank=True)
    address_type = models.CharField(max_length=50, blank=True)
    filename = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  (the seed tells null from blank)
    verified = models.BooleanField(default=False, help_text="Proof of address was checked.")
    tags = models.JSONField(default=list, blank=True)

    class Meta(KycRow.Meta):
        verbose_name_plural = "addresses"

    def __str__(self):
        return ", ".join(p for p in (self.street_name.replace("\n", ", "), self.postcode, self.city) if p)


class CommunicationMeans(KycRow):
    """A phone, fax, mobile, email or website (`communicationMeans`; seed 004 `contactDetails`)."""

    customer = models.ForeignKey(
        "users.Customer", on_delete=models.CASCADE, related_name="communication_means"
    )
    communication_means_type = models.ForeignKey(
        "reference.CommunicationMeansType", on_delete=models.PROTECT, related_name="+"
    )
    value = models.CharField(max_length=300)

    class Meta(KycRow.Meta):
        verbose_name = "communication means"
        verbose_name_plural = "communication means"

    def __str__(self):
        return self.value


class Wealth(KycRow):
    """A source of wealth and its band (`wealthEntries`, `/wealth`)."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="wealth_entries")
    wealth_scale = models.ForeignKey("reference.WealthScale", on_delete=models.PROTECT, related_name="+")
    wealth_status = models.ForeignKey("reference.WealthStatus", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=300, blank=True)

    class Meta(KycRow.Meta):
        verbose_name = "wealth entry"
        verbose_name_plural = "wealth entries"

    def __str__(self):
        return self.source


class AnnualIncome(KycRow):
    """A source of annual income and its band (`annualIncomeEntries`, `/annual-income`)."""

    customer = models.ForeignKey(
        "users.Customer", on_delete=models.CASCADE, related_name="annual_income_entries"
    )
    annual_income_scale = models.ForeignKey(
        "reference.AnnualIncomeScale", on_delete=models.PROTECT, related_name="+"
    )
    annual_income_status = models.ForeignKey(
        "reference.AnnualIncomeStatus", on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=300, blank=True)

    class Meta(KycRow.Meta):
        verbose_name = "annual income entry"
        verbose_name_plural = "annual income entries"

    def __str__(self):
        return self.source


class Fund(KycRow):
    """A counterparty the customer sends funds to or receives them from (`/counterparty`, `idFund`)."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="funds")
    fund_type = models.ForeignKey("reference.FundType", on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    counterpart_name = models.CharField(max_length=300)
    comments = models.TextField(blank=True)

    class Meta(KycRow.Meta):
        verbose_name = "counterparty"
        verbose_name_plural = "counterparties"

    def __str__(self):
        return self.counterpart_name


class FinancialStatement(KycRow):
    """A yearly financial statement of an organisation (`/financial-statement`, `idStatement`)."""

    customer = models.ForeignKey(
        "users.Customer", on_delete=models.CASCADE, related_name="financial_statements"
    )
    statement_type = models.ForeignKey("reference.StatementType", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    income = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    expenses = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    copy = models.BooleanField(default=False)

    class Meta(KycRow.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=1800) & Q(year__lte=2200),
                name="users_financialstatement_year_range",
                violation_error_message="The year must be between 1800 and 2200.",
            ),
        ]

    def __str__(self):
        return f"{self.year}"


class CountryPresence(KycRow):
    """A country an organisation is present in since a year (`/country-presence`)."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="country_presences")
    country = models.ForeignKey("reference.Country", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta(KycRow.Meta):
        verbose_name_plural = "country presences"

    def __str__(self):
        return f"{self.country_id} ({self.year})"


class ScreeningRisk(KycRow):
    """A screening hit against a watchlist entry, or one added by hand (`/screening-risks`).

    `inspected`: an analyst looked at it; `confirmed`: it is the customer. Only confirmed
    hits, and unconfirmed ones nobody inspected yet, count in the Screening risk factor.
    """

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="screening_risks")
    screening_risk_type = models.ForeignKey(
        "reference.ScreeningRiskType", on_delete=models.PROTECT, related_name="+"
    )
    identifier = models.CharField(max_length=100, null=True, blank=True, help_text="Id of the list entry.")  # noqa: DJ001  (the seed tells null from blank)
    score = models.PositiveSmallIntegerField(default=0, help_text="Match strength 0-100.")
    inspected = models.BooleanField(default=False)
    confirmed = models.BooleanField(default=False)
    type = models.CharField(max_length=100, null=True, blank=True, help_text="Name of the source list.")  # noqa: DJ001  (the seed tells null from blank)
    full_name = models.CharField(max_length=300)
    json = models.TextField(null=True, blank=True, help_text="The list entry as the source published it.")  # noqa: DJ001  (the seed tells null from blank)
    md5 = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001  (the seed tells null from blank)
    manual_addition = models.BooleanField(default=False)
    watchlist_entry = models.ForeignKey(
        "users.WatchlistEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="screening_risks",
        help_text="The list entry a screening hit matched (none for a manual addition).",
    )
    match = models.JSONField(
        default=dict, blank=True, help_text="The matcher's explanation: matched name, tokens, adjustments."
    )
    ongoing = models.BooleanField(default=False, help_text="Found by ongoing screening after a list import.")
    created_at = models.DateTimeField(auto_now_add=True, null=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    class Meta(KycRow.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(score__lte=100),
                name="users_screeningrisk_score_range",
                violation_error_message="The score must be between 0 and 100.",
            ),
            models.UniqueConstraint(
                fields=["customer", "watchlist_entry"],
                condition=Q(watchlist_entry__isnull=False),
                name="users_screeningrisk_one_per_entry",
                violation_error_message="This customer already has a hit on this list entry.",
            ),
        ]

    def __str__(self):
        return self.full_name


class Document(KycRow):
    """A document on file for the customer (`documents`)."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="documents")
    document_type = models.ForeignKey(
        "reference.DocumentType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  (the seed tells null from blank)
    description = models.CharField(max_length=500, blank=True)
    expiration_date = models.DateField(null=True, blank=True)

    def __str__(self):
        return self.description or self.filename or f"document {self.pk}"


class CustomerEvent(KycRow):
    """A dated note on the customer's file (`events`): a meeting, a call, a change reported."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="events")
    event_date = models.DateField()
    description = models.TextField()

    class Meta(KycRow.Meta):
        verbose_name = "customer event"

    def __str__(self):
        return f"{self.event_date}: {self.description[:50]}"


class Stake(models.Model):
    """`holder` owns `percentage` % of organisation `entity`.

    In the customer document, a stake is in the holder's `stakesOut` and the entity's
    `stakesIn` (its shareholders). Either side's risk contaminates the other.
    """

    holder = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="stakes_out")
    entity = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="stakes_in")
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "entity"],
                name="users_stake_unique_pair",
                violation_error_message="This customer already holds a stake in that organisation.",
            ),
            models.CheckConstraint(
                condition=~Q(holder=models.F("entity")),
                name="users_stake_not_self",
                violation_error_message="A customer cannot hold a stake in itself.",
            ),
            models.CheckConstraint(
                condition=Q(percentage__isnull=True) | (Q(percentage__gt=0) & Q(percentage__lte=100)),
                name="users_stake_percentage_range",
                violation_error_message="The percentage must be above 0 and at most 100.",
            ),
        ]

    def __str__(self):
        return f"{self.holder_id} holds {self.percentage or '?'}% of {self.entity_id}"


class CustomerAssociation(models.Model):
    """`associate` plays `role` (director, signatory, beneficial owner...) for `customer`.

    In the customer document it is in the associate's `rolesOut` and the customer's `rolesIn`.
    """

    associate = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="roles_out")
    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="roles_in")
    role = models.ForeignKey("reference.AssociationRole", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["associate", "customer", "role"],
                name="users_association_unique",
                violation_error_message="This association exists already.",
            ),
            models.CheckConstraint(
                condition=~Q(associate=models.F("customer")),
                name="users_association_not_self",
                violation_error_message="A customer cannot be associated with itself.",
            ),
        ]

    def __str__(self):
        return f"{self.associate_id} is {self.role_id} of {self.customer_id}"
