"""Velocity templates: how many transactions, and how much money, in a window."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from rules.engine.context import KEYS
from rules.library.amounts import transaction_data
from rules.library.base import (
    AMOUNT,
    CURRENCY,
    DESTINATION,
    ORIGIN,
    WINDOW,
    Outcome,
    number,
    rule,
    window_seconds,
)
from transactions import money
from transactions.models import TransactionType

CHECK = {
    "type": "string",
    "enum": list(KEYS),
    "description": "Whose transactions are counted: the origin user's (sent), the destination "
    "user's (received), or the origin / destination payment instrument's.",
}
TYPES = {"type": "array", "items": {"enum": list(TransactionType.values)}, "uniqueItems": True}


def direction_of(check: str) -> str:
    return ORIGIN if check.startswith("origin") else DESTINATION


@rule(
    id="R-2",
    name="Too many transactions in a window",
    description="The number of transactions of the same origin user, destination user or payment "
    "instrument within the window, this one included, exceeds the limit.",
    nature="FRAUD",
    labels=("UNEXPECTED_BEHAVIOR",),
    schema={
        "properties": {
            "transactionsLimit": {"type": "integer", "minimum": 1},
            "timeWindow": WINDOW,
            "checkFor": CHECK,
            "transactionTypes": TYPES,
        },
        "required": ["transactionsLimit", "timeWindow", "checkFor"],
    },
    defaults={
        "transactionsLimit": 10,
        "timeWindow": {"units": 1, "granularity": "hour"},
        "checkFor": "originUser",
    },
)
def count_velocity(ctx, params) -> Outcome:
    seconds = window_seconds(params["timeWindow"])
    stats = ctx.window(params["checkFor"], seconds, types=tuple(params.get("transactionTypes", ())))
    data = {
        "transaction": transaction_data(ctx),
        "rule": {"transactionsLimit": params["transactionsLimit"], "timeWindow": params["timeWindow"]},
        "aggregates": {"checkFor": params["checkFor"], "transactionsCount": stats.count if stats else None},
    }
    if stats is None:
        return Outcome(False, data)
    hit = stats.count > params["transactionsLimit"]
    direction = direction_of(params["checkFor"])
    return Outcome(
        hit,
        data,
        hit_directions=[direction],
        vars=[{"value": {"transactionsCount": stats.count}, "direction": direction}],
    )


@rule(
    id="R-3",
    name="Too much money in a window",
    description="The total amount of the same origin user, destination user or payment instrument "
    "within the window, this transaction included and converted to the threshold's currency, "
    "exceeds the threshold.",
    nature="AML",
    labels=("UNEXPECTED_BEHAVIOR",),
    schema={
        "properties": {
            "transactionsAmountThreshold": {
                "type": "object",
                "properties": {"currency": CURRENCY, "amount": AMOUNT},
                "required": ["currency", "amount"],
                "additionalProperties": False,
            },
            "timeWindow": WINDOW,
            "checkFor": CHECK,
            "transactionTypes": TYPES,
        },
        "required": ["transactionsAmountThreshold", "timeWindow", "checkFor"],
    },
    defaults={
        "transactionsAmountThreshold": {"currency": "EUR", "amount": 15000},
        "timeWindow": {"units": 1, "granularity": "day"},
        "checkFor": "originUser",
    },
)
def sum_velocity(ctx, params) -> Outcome:
    threshold = params["transactionsAmountThreshold"]
    seconds = window_seconds(params["timeWindow"])
    stats = ctx.window(params["checkFor"], seconds, types=tuple(params.get("transactionTypes", ())))
    total = None
    if stats is not None:
        total = money.convert(stats.sum_base, settings.BASE_CURRENCY, threshold["currency"])
    data = {
        "transaction": transaction_data(ctx),
        "rule": {"transactionsAmountThreshold": threshold, "timeWindow": params["timeWindow"]},
        "aggregates": {
            "checkFor": params["checkFor"],
            "transactionsCount": stats.count if stats else None,
            "transactionsAmount": {"currency": threshold["currency"], "amount": number(total)}
            if total is not None
            else None,
        },
    }
    if total is None:
        return Outcome(False, data)
    hit = total > Decimal(str(threshold["amount"]))
    direction = direction_of(params["checkFor"])
    return Outcome(
        hit,
        data,
        hit_directions=[direction],
        vars=[{"value": {"transactionsAmount": number(total)}, "direction": direction}],
    )
