"""The KYC lists of a customer: their API path, document key, id name and model, in one place.

Services, the API, the selectors and the admin all read this table, so a list is added
once. `applies_to` limits a list to persons or organisations where the seed's model
does: ID cards are a person's, counterparties, financial statements and country
presence an organisation's.
"""

from __future__ import annotations

import dataclasses

from django.db import models

from users import models as m
from users.models.customers import ORGANISATION, PERSON

BOTH = (PERSON, ORGANISATION)


@dataclasses.dataclass(frozen=True)
class KycList:
    path: str  # /api/customer/{ref}/{path}
    key: str  # key in the customer document's `lists`
    id_name: str  # the row id's name in the seed ("idAddress")
    model: type[models.Model]
    related_name: str  # Customer.<related_name> manager
    applies_to: tuple[int, ...] = BOTH
    with_customer_id: bool = True  # the seed's rows of this list carry `idCustomer`

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    def applies(self, customer) -> bool:
        return customer.customer_type_id in self.applies_to


KYC_LISTS: tuple[KycList, ...] = (
    KycList("id-card", "idCards", "idIdCard", m.IdCard, "id_cards", (PERSON,)),
    KycList("addresses", "addresses", "idAddress", m.Address, "addresses"),
    KycList(
        "communication-means",
        "communicationMeans",
        "idCommunicationMeans",
        m.CommunicationMeans,
        "communication_means",
    ),
    KycList("wealth", "wealthEntries", "idWealth", m.Wealth, "wealth_entries"),
    KycList(
        "annual-income", "annualIncomeEntries", "idAnnualIncome", m.AnnualIncome, "annual_income_entries"
    ),
    KycList("counterparty", "funds", "idFund", m.Fund, "funds", (ORGANISATION,), with_customer_id=False),
    KycList(
        "financial-statement",
        "financialStatements",
        "idStatement",
        m.FinancialStatement,
        "financial_statements",
        (ORGANISATION,),
        with_customer_id=False,
    ),
    KycList(
        "country-presence",
        "countryPresence",
        "idCountryPresence",
        m.CountryPresence,
        "country_presences",
        (ORGANISATION,),
        with_customer_id=False,
    ),
    KycList("screening-risks", "screeningRisks", "idScreeningRisk", m.ScreeningRisk, "screening_risks"),
    KycList("documents", "documents", "idDocument", m.Document, "documents"),
    KycList("events", "events", "idEvent", m.CustomerEvent, "events"),
)

BY_PATH = {kyc_list.path: kyc_list for kyc_list in KYC_LISTS}


@dataclasses.dataclass(frozen=True)
class CheckedList:
    list_id: str  # `listId`, and the path of PUT /api/customer/{ref}/checked-lists/{list_id}
    key: str  # key in `checkedLists`
    field: str  # Customer M2M field


CHECKED_LISTS: tuple[CheckedList, ...] = (
    CheckedList("documents", "checkedDocuments", "checked_documents"),
    CheckedList("activity-risks", "checkedActivityRisks", "checked_activity_risks"),
    CheckedList("behavior-risks", "checkedBehaviorRisks", "checked_behavior_risks"),
    CheckedList("enhanced-checks", "checkedEnhancedChecks", "checked_enhanced_checks"),
)

CHECKED_BY_ID = {checked.list_id: checked for checked in CHECKED_LISTS}
