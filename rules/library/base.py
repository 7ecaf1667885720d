"""What a rule template is, and the registry of them.

A template is a function judging one transaction in an `EvaluationContext` with
validated parameters, plus what the product shows about it: id (`R-1`...), name,
description, nature, default labels, and the JSON Schema its parameters must satisfy
(instances are validated against it when saved; `GET /api/management/rules` shows it).
The function answers an `Outcome`: hit or not, and the evidence (`detail.data` of the
executed rule: the transaction's values, the thresholds, the aggregates computed), so
every hit can be explained to an analyst or an examiner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from transactions.money import json_number

if TYPE_CHECKING:
    from rules.engine.context import EvaluationContext

ORIGIN = "ORIGIN"
DESTINATION = "DESTINATION"


@dataclasses.dataclass
class Outcome:
    hit: bool
    data: dict = dataclasses.field(default_factory=dict)
    hit_directions: list[str] = dataclasses.field(default_factory=lambda: [ORIGIN])
    # seed 002 `vars`: values computed per direction (aggregates), shown with the hit.
    vars: list[dict] = dataclasses.field(default_factory=list)
    sanctions_details: list[dict] = dataclasses.field(default_factory=list)


Evaluate = Callable[["EvaluationContext", dict], Outcome]


@dataclasses.dataclass(frozen=True)
class RuleTemplate:
    id: str
    name: str
    description: str
    nature: str
    labels: tuple[str, ...]
    parameters_schema: dict
    default_parameters: dict
    evaluate: Evaluate
    # Whether instances re-run, by default, when a transaction event changes the transaction.
    run_on_transaction_events: bool = False

    def document(self) -> dict:
        """The template as `GET /api/management/rules` shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": "TRANSACTION",
            "defaultNature": self.nature,
            "defaultLabels": list(self.labels),
            "parametersSchema": self.parameters_schema,
            "defaultParameters": self.default_parameters,
            "defaultAction": "FLAG",
            "defaultCasePriority": "P3",
            "runOnTransactionEvents": self.run_on_transaction_events,
        }


REGISTRY: dict[str, RuleTemplate] = {}


def rule(
    *,
    id: str,
    name: str,
    description: str,
    nature: str,
    labels: tuple[str, ...] | list[str],
    schema: dict,
    defaults: dict,
    run_on_transaction_events: bool = False,
) -> Callable[[Evaluate], Evaluate]:
    """Register a template function under a stable id (ids are never reused)."""

    def decorator(func: Evaluate) -> Evaluate:
        if id in REGISTRY:
            raise ValueError(f"Rule template {id} is registered twice")
        REGISTRY[id] = RuleTemplate(
            id=id,
            name=name,
            description=description,
            nature=nature,
            labels=tuple(labels),
            parameters_schema={"type": "object", "additionalProperties": False, **schema},
            default_parameters=defaults,
            evaluate=func,
            run_on_transaction_events=run_on_transaction_events,
        )
        return func

    return decorator


# A Decimal as the JSON number the seeds show: the one the transaction documents use.
number = json_number


# --- schema fragments shared by templates ----------------------------------------------

CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code."}
COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 code."}
AMOUNT = {"type": "number", "exclusiveMinimum": 0}
MONEY = {
    "type": "object",
    "properties": {"currency": CURRENCY, "amount": AMOUNT},
    "required": ["currency", "amount"],
    "additionalProperties": False,
}
WINDOW = {
    "type": "object",
    "description": "A time window ending at the transaction's timestamp.",
    "properties": {
        "units": {"type": "integer", "minimum": 1, "maximum": 100000},
        "granularity": {"type": "string", "enum": ["second", "minute", "hour", "day", "week", "month"]},
    },
    "required": ["units", "granularity"],
    "additionalProperties": False,
}
GRANULARITY_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
}


def window_seconds(window: dict) -> int:
    return window["units"] * GRANULARITY_SECONDS[window["granularity"]]


def schema_with(properties: dict[str, Any], required: list[str]) -> dict:
    return {"properties": properties, "required": required}
