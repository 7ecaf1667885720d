"""The risk model as loaded from its rows, and the evaluation of one customer's inputs."""

from __future__ import annotations

import dataclasses
from datetime import date

from django.utils import timezone

from compliance.reference.models import Country, DocumentType
from users.models import RiskCategory, RiskFactor, RiskLevel, RiskLevelThreshold
from users.risk.factors import DEFAULTS, REGISTRY, ScoringContext
from users.risk.inputs import RiskInputs

# (key, label) of the breakdown's groups, in order (`choices` is rebuilt at every access).
_CATEGORIES = tuple(RiskCategory.choices)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    score: int
    level: str
    breakdown: dict  # seed 003 `totals`


@dataclasses.dataclass(frozen=True)
class LoadedFactor:
    code: str
    name: str
    category: str
    person: bool
    organisation: bool
    active: bool
    params: dict


class RiskModel:
    """Factor rows, thresholds and country risks, read once per recalculation."""

    def __init__(self, factors, thresholds, context: ScoringContext, risk_types: dict[str, int]):
        self.factors: list[LoadedFactor] = factors
        self.thresholds: list[tuple[int, str]] = thresholds  # (min_score, level), ascending
        self.context = context
        self.risk_types = risk_types  # level -> seed 003 idRiskType

    @classmethod
    def load(cls, *, today: date | None = None) -> RiskModel:
        factors = [
            LoadedFactor(
                code=f.code,
                name=f.name,
                category=f.category,
                person=f.applies_to_person,
                organisation=f.applies_to_organisation,
                active=f.is_active and f.code in REGISTRY,
                params={**DEFAULTS.get(f.code, {}), **(f.parameters or {})},
            )
            for f in RiskFactor.objects.all()
        ]
        rows = list(RiskLevelThreshold.objects.order_by("min_score"))
        documents = list(
            DocumentType.objects.values_list("id", "required_for_person", "required_for_organisation")
        )
        context = ScoringContext(
            today=today or timezone.localdate(),
            country_risk=dict(Country.objects.values_list("id", "risk_score")),
            required_documents_person=frozenset(pk for pk, person, _ in documents if person),
            required_documents_organisation=frozenset(pk for pk, _, org in documents if org),
        )
        return cls(
            factors,
            [(row.min_score, row.level) for row in rows],
            context,
            {row.level: row.risk_type_id for row in rows},
        )

    def level_for(self, score: int) -> str:
        level = self.thresholds[0][1] if self.thresholds else RiskLevel.MEDIUM
        for min_score, candidate in self.thresholds:
            if score >= min_score:
                level = candidate
        return level

    def evaluate(self, inputs: RiskInputs) -> Evaluation:
        totals: dict[str, dict] = {
            key: {"name": label, "contents": [], "score": 0} for key, label in _CATEGORIES
        }
        for f in self.factors:
            if not (f.person if inputs.is_person else f.organisation):
                continue
            points = REGISTRY[f.code](inputs, f.params, self.context) if f.active else 0
            group = totals[f.category]
            group["contents"].append({"name": f.name, "score": points})
            group["score"] += points
        score = sum(group["score"] for group in totals.values())
        return Evaluation(score=score, level=self.level_for(score), breakdown=totals)
