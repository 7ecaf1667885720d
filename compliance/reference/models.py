"""Reference data: the lookup tables behind the numeric ids of the customer API (seed 003) and countries.

Ids are explicit and stable: integrators send them (`"idGender": 3`), so a row is never
renumbered or deleted; it is deactivated instead. The rows are loaded by migration 0002
from `data/lookups.json` and `data/countries.json`.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact

# A country at or above this score is "high risk" (the FATF grey list default is 60).
HIGH_RISK_SCORE = 60


class LookupTable(models.Model):
    """A small table of named rows whose integer ids the API exchanges verbatim."""

    id = models.PositiveIntegerField(
        primary_key=True, help_text="Stable id used by the API; never renumbered or reused."
    )
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Inactive rows stay valid on existing records but are not offered for new ones.",
    )
    sort_order = models.IntegerField(default=0, help_text="Lower first; rows with equal order sort by id.")

    class Meta:
        abstract = True
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(name=""),
                name="%(app_label)s_%(class)s_name_not_blank",
                violation_error_message="The name must not be blank.",
            ),
        ]

    def __str__(self):
        return self.name


class CustomerStatus(LookupTable):
    """Status of a customer relationship: `main.idCustomerStatus`."""

    class Meta(LookupTable.Meta):
        verbose_name = "customer status"
        verbose_name_plural = "customer statuses"


class CustomerType(LookupTable):
    """Person (1) or organisation (2): `main.idCustomerType`; it decides which `details` apply."""

    class Meta(LookupTable.Meta):
        verbose_name = "customer type"
        verbose_name_plural = "customer types"


class Gender(LookupTable):
    """Gender of a person: `details.idGender`."""

    class Meta(LookupTable.Meta):
        verbose_name = "gender"
        verbose_name_plural = "genders"


class MaritalStatus(LookupTable):
    """Marital status of a person: `details.idMaritalStatus`."""

    class Meta(LookupTable.Meta):
        verbose_name = "marital status"
        verbose_name_plural = "marital statuses"


class IncorporationType(LookupTable):
    """Legal form of an organisation: `details.idIncorporationType` (feeds the "Entity Type" risk)."""

    class Meta(LookupTable.Meta):
        verbose_name = "incorporation type"
        verbose_name_plural = "incorporation types"


class IdCardType(LookupTable):
    """Kind of identity document: `idCards[].idIdCardType` (`/customer/{id}/id-card`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "ID card type"
        verbose_name_plural = "ID card types"


class CommunicationMeansType(LookupTable):
    """Kind of contact detail: `communicationMeans[].idCommunicationMeansType`.

    The seed's type 4 holds an email address, types 1 and 3 phone numbers, 2 a fax number;
    type 5 (added in migration 0003) a website, so seed 004's `contactDetails.websites` has a home.
    """

    class Meta(LookupTable.Meta):
        verbose_name = "communication means type"
        verbose_name_plural = "communication means types"


class WealthScale(LookupTable):
    """Band of declared wealth: `wealthEntries[].idWealthScale` (`/customer/{id}/wealth`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "wealth scale"
        verbose_name_plural = "wealth scales"


class WealthStatus(LookupTable):
    """Whether a wealth entry is declared or verified: `wealthEntries[].idWealthStatus`."""

    class Meta(LookupTable.Meta):
        verbose_name = "wealth status"
        verbose_name_plural = "wealth statuses"


class AnnualIncomeScale(LookupTable):
    """Band of annual income: `annualIncomeEntries[].idAnnualIncomeScale` (`/customer/{id}/annual-income`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "annual income scale"
        verbose_name_plural = "annual income scales"


class AnnualIncomeStatus(LookupTable):
    """Whether an income entry is declared or verified: `annualIncomeEntries[].idAnnualIncomeStatus`."""

    class Meta(LookupTable.Meta):
        verbose_name = "annual income status"
        verbose_name_plural = "annual income statuses"


class FundType(LookupTable):
    """Direction of a counterparty's funds: `idFundType` (`/customer/{id}/counterparty`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "fund type"
        verbose_name_plural = "fund types"


class StatementType(LookupTable):
    """Kind of financial statement: `idStatementType` (`/customer/{id}/financial-statement`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "statement type"
        verbose_name_plural = "statement types"


class ScreeningRiskType(LookupTable):
    """List a screening hit comes from: `screeningRisks[].idScreeningRiskType` (2 is "PEP List")."""

    class Meta(LookupTable.Meta):
        verbose_name = "screening risk type"
        verbose_name_plural = "screening risk types"


class DocumentType(LookupTable):
    """A KYC document that can be ticked as received: `checkedLists.checkedDocuments`.

    The "Missing Documents" risk factor counts the required types a customer lacks.
    Defaults: nothing is required of persons (the seed's person sample has documents 1 and
    5 ticked and scores 0 for missing documents); organisations must provide the
    Memorandum and Articles of Association (6), Certificate of directors (8), Certificate
    of shareholders (9) and Certificate of registered office (10). The compliance admin
    changes these flags in the admin.
    """

    required_for_person = models.BooleanField(
        default=False, help_text="Missing it raises the Missing Documents risk of a person."
    )
    required_for_organisation = models.BooleanField(
        default=False, help_text="Missing it raises the Missing Documents risk of an organisation."
    )

    class Meta(LookupTable.Meta):
        verbose_name = "document type"
        verbose_name_plural = "document types"


class ActivityRisk(LookupTable):
    """A risky business activity that can be ticked: `checkedLists.checkedActivityRisks`.

    Ids and names are the seed's, duplicates included (e.g. 1 and 10 are both "Art Dealer"):
    integrators may already send either id.
    """

    class Meta(LookupTable.Meta):
        verbose_name = "activity risk"
        verbose_name_plural = "activity risks"


class BehaviorRisk(LookupTable):
    """A risky customer behaviour that can be ticked: `checkedLists.checkedBehaviorRisks`.

    Ids and names are the seed's, duplicates included (e.g. 1 and 10 are both
    "Frequent changes of address").
    """

    class Meta(LookupTable.Meta):
        verbose_name = "behavior risk"
        verbose_name_plural = "behavior risks"


class EnhancedCheck(LookupTable):
    """An enhanced due-diligence check that can be ticked as done: `checkedLists.checkedEnhancedChecks`."""

    class Meta(LookupTable.Meta):
        verbose_name = "enhanced check"
        verbose_name_plural = "enhanced checks"


class ApprovalStatus(LookupTable):
    """Outcome of a risk-trail review: `idApprovalStatus` (`PUT /customer/risk-trails/{id}`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "approval status"
        verbose_name_plural = "approval statuses"


class RiskType(LookupTable):
    """Risk level a reviewer assigns to a risk trail: `idRiskType` (`PUT /customer/risk-trails/{id}`)."""

    class Meta(LookupTable.Meta):
        verbose_name = "risk type"
        verbose_name_plural = "risk types"


class AssociationRole(LookupTable):
    """The part one customer plays for another: `rolesOut[].idAssociationRole`.

    Directors, shareholders, beneficial owners, signatories... An association makes the
    two customers contaminate each other's risk (see `users.risk`).
    """

    class Meta(LookupTable.Meta):
        verbose_name = "association role"
        verbose_name_plural = "association roles"


class Country(models.Model):
    """An ISO 3166-1 country, referenced by id.

    Seed fields: `idCountry` (addresses, counterparties, country presence),
    `details.idCountryBirth/idCountryNationality/idCountryResidence` (persons) and
    `details.idCountryActivity/idCountryDomiciliary/idCountryIncorporation` (organisations).
    Ids 1..249 follow the alphabetical order of the English short names as generated once
    into `data/countries.json`; they never change.

    `risk_score` defaults come from the FATF lists of 13 February 2026 (see
    `data/countries.json`, `default_risk_scores`): high-risk jurisdictions subject to a
    call for action 100, jurisdictions under increased monitoring 60, all others 0.
    """

    id = models.PositiveIntegerField(primary_key=True, help_text="Stable id used by the API (`idCountry`).")
    alpha2 = models.CharField(
        "alpha-2 code",
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Two upper-case letters.")],
    )
    alpha3 = models.CharField(
        "alpha-3 code",
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Three upper-case letters.")],
    )
    numeric = models.CharField(
        "numeric code",
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{3}$", "Three digits, leading zeros kept.")],
        help_text="ISO 3166-1 numeric code as text, so leading zeros are kept (Afghanistan is 004).",
    )
    name = models.CharField(max_length=200)
    risk_score = models.PositiveIntegerField(
        default=0,
        help_text=(
            "Points this country adds to the Countries risk factor of a customer linked to it "
            "(residence, nationality, incorporation, addresses, counterparties, presence). "
            f"{HIGH_RISK_SCORE} or more counts as high risk. Defaults follow the FATF lists."
        ),
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Inactive countries stay valid on existing records but are not offered for new ones.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "country"
        verbose_name_plural = "countries"
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("alpha2"), 2) & Exact(Upper("alpha2"), F("alpha2")),
                name="reference_country_alpha2_format",
                violation_error_message="The alpha-2 code must be two upper-case letters.",
            ),
            models.CheckConstraint(
                condition=Exact(Length("alpha3"), 3) & Exact(Upper("alpha3"), F("alpha3")),
                name="reference_country_alpha3_format",
                violation_error_message="The alpha-3 code must be three upper-case letters.",
            ),
            models.CheckConstraint(
                condition=Exact(Length("numeric"), 3),
                name="reference_country_numeric_length",
                violation_error_message="The numeric code must have three digits, leading zeros kept.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_high_risk(self) -> bool:
        return self.risk_score >= HIGH_RISK_SCORE
