"""Rule filters: which transactions an instance looks at (`GET /api/management/rule-filters-schema`).

A transaction passes when it matches every filter given; an absent filter does not
restrict. Lists match any of their values.
"""

from __future__ import annotations

from decimal import Decimal

from rules.engine.context import DESTINATION, ORIGIN, EvaluationContext
from transactions.models import PaymentMethod, TransactionState, TransactionType
from users.models.customers import PERSON, RiskLevel

_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
_COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$"}


def _list_of(items: dict, title: str) -> dict:
    return {"type": "array", "items": items, "minItems": 1, "uniqueItems": True, "title": title}


FILTERS_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Rule filters",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "transactionTypes": _list_of({"enum": list(TransactionType.values)}, "Transaction types"),
        "transactionStates": _list_of({"enum": list(TransactionState.values)}, "Transaction states"),
        "paymentMethods": _list_of(
            {"enum": list(PaymentMethod.values)}, "Payment methods (origin or destination)"
        ),
        "currencies": _list_of(_CURRENCY, "Origin currencies"),
        "countries": _list_of(_COUNTRY, "Countries (origin or destination)"),
        "amountRange": {
            "title": "Origin amount range (converted to the range's currency)",
            "type": "object",
            "properties": {
                "currency": _CURRENCY,
                "min": {"type": "number", "minimum": 0},
                "max": {"type": "number", "minimum": 0},
            },
            "required": ["currency"],
            "anyOf": [{"required": ["min"]}, {"required": ["max"]}],
            "additionalProperties": False,
        },
        "userType": {"title": "Origin user type", "enum": ["INDIVIDUAL", "ENTITY"]},
        "userRiskLevels": _list_of({"enum": list(RiskLevel.values)}, "Origin user's ongoing risk levels"),
        "tags": _list_of(
            {
                "type": "object",
                "properties": {"key": {"type": "string", "minLength": 1}, "value": {"type": "string"}},
                "required": ["key"],
                "additionalProperties": False,
            },
            "Transaction tags (a tag without value matches any value)",
        ),
    },
}


def matches(filters: dict, ctx: EvaluationContext) -> bool:
    if not filters:
        return True
    tx = ctx.transaction
    if "transactionTypes" in filters and tx.type not in filters["transactionTypes"]:
        return False
    if "transactionStates" in filters and tx.transaction_state not in filters["transactionStates"]:
        return False
    if "paymentMethods" in filters and not (
        {tx.origin_payment_method, tx.destination_payment_method} & set(filters["paymentMethods"])
    ):
        return False
    if "currencies" in filters and tx.origin_currency not in filters["currencies"]:
        return False
    if "countries" in filters and not (
        {tx.origin_country, tx.destination_country} & set(filters["countries"])
    ):
        return False
    if "amountRange" in filters:
        spec = filters["amountRange"]
        amount = ctx.amount_in(spec["currency"], ORIGIN)
        if amount is None:
            return False
        if "min" in spec and amount < Decimal(str(spec["min"])):
            return False
        if "max" in spec and amount > Decimal(str(spec["max"])):
            return False
    origin = ctx.user(ORIGIN) or ctx.user(DESTINATION)
    if "userType" in filters:
        if origin is None:
            return False
        kind = "INDIVIDUAL" if origin.customer_type_id == PERSON else "ENTITY"
        if kind != filters["userType"]:
            return False
    if "userRiskLevels" in filters and (origin is None or origin.risk_level not in filters["userRiskLevels"]):
        return False
    if "tags" in filters:
        have = {(tag.get("key"), tag.get("value")) for tag in tx.tags or []}
        keys = {key for key, _ in have}
        if not any(
            (want["key"], want["value"]) in have if "value" in want else want["key"] in keys
            for want in filters["tags"]
        ):
            return False
    return True
