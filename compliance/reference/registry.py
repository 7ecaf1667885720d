"""Which reference tables exist, under which API name, and which seed field carries their ids.

Other apps validate incoming ids through this module rather than importing each model:

    from compliance.reference.registry import get_lookup, lookup_model
    gender = get_lookup(lookup_model("genders"), payload["idGender"], active_only=True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.db import models

from compliance.ids import MAX_ID as _MAX_ID
from compliance.reference import models as ref

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class LookupSpec:
    """One registered table: its API name (`/api/lookups/{name}`), model and seed field."""

    name: str
    model: type[models.Model]
    field: str


_SPECS: tuple[LookupSpec, ...] = (
    LookupSpec("countries", ref.Country, "idCountry"),
    LookupSpec("customer-statuses", ref.CustomerStatus, "idCustomerStatus"),
    LookupSpec("customer-types", ref.CustomerType, "idCustomerType"),
    LookupSpec("genders", ref.Gender, "idGender"),
    LookupSpec("marital-statuses", ref.MaritalStatus, "idMaritalStatus"),
    LookupSpec("incorporation-types", ref.IncorporationType, "idIncorporationType"),
    LookupSpec("id-card-types", ref.IdCardType, "idIdCardType"),
    LookupSpec("communication-means-types", ref.CommunicationMeansType, "idCommunicationMeansType"),
    LookupSpec("wealth-scales", ref.WealthScale, "idWealthScale"),
    LookupSpec("wealth-statuses", ref.WealthStatus, "idWealthStatus"),
    LookupSpec("annual-income-scales", ref.AnnualIncomeScale, "idAnnualIncomeScale"),
    LookupSpec("annual-income-statuses", ref.AnnualIncomeStatus, "idAnnualIncomeStatus"),
    LookupSpec("fund-types", ref.FundType, "idFundType"),
    LookupSpec("statement-types", ref.StatementType, "idStatementType"),
    LookupSpec("screening-risk-types", ref.ScreeningRiskType, "idScreeningRiskType"),
    LookupSpec("document-types", ref.DocumentType, "checkedDocuments"),
    LookupSpec("activity-risks", ref.ActivityRisk, "checkedActivityRisks"),
    LookupSpec("behavior-risks", ref.BehaviorRisk, "checkedBehaviorRisks"),
    LookupSpec("enhanced-checks", ref.EnhancedCheck, "checkedEnhancedChecks"),
    LookupSpec("association-roles", ref.AssociationRole, "idAssociationRole"),
    LookupSpec("approval-statuses", ref.ApprovalStatus, "idApprovalStatus"),
    LookupSpec("risk-types", ref.RiskType, "idRiskType"),
)


class LookupRegistry(Mapping[str, type[models.Model]]):
    """Read-only mapping from API name to model class, in registration order."""

    def __init__(self, specs: tuple[LookupSpec, ...]):
        self._specs = {spec.name: spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ValueError("Duplicate lookup name in the reference registry")

    def __getitem__(self, name: str) -> type[models.Model]:
        return self._specs[name].model

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def spec(self, name: str) -> LookupSpec | None:
        return self._specs.get(name)

    def specs(self) -> list[LookupSpec]:
        return list(self._specs.values())


registry = LookupRegistry(_SPECS)


def lookup_names() -> list[str]:
    """Every API name, in registration order (countries first)."""
    return list(registry)


def lookup_model(name: str) -> type[models.Model] | None:
    """The model registered under `name`, or None."""
    return registry.get(name)


def lookup_field(name: str) -> str | None:
    """The seed field that carries ids of table `name` (e.g. "idGender"), or None."""
    spec = registry.spec(name)
    return spec.field if spec else None


def get_lookup(model: type[M], pk: object, *, active_only: bool = False) -> M | None:
    """The row of `model` with id `pk`, or None if there is none (or it is inactive and
    `active_only`). Accepts ints and digit strings; anything else (bools, floats, junk)
    is None, never an error, so callers turn None into their own 400."""
    if isinstance(pk, str) and pk.isascii() and pk.isdigit():
        pk = int(pk)
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk <= _MAX_ID:
        return None
    queryset = model._default_manager.filter(pk=pk)
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.first()
