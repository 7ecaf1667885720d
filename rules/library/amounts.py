"""Templates on the transaction's own amount."""

from __future__ import annotations

from decimal import Decimal

from rules.library.base import AMOUNT, CURRENCY, ORIGIN, Outcome, number, rule


def transaction_data(ctx) -> dict:
    """The transaction part of `detail.data`, as the seed shows it."""
    data = {}
    for key, direction in (("origin", ORIGIN), ("destination", "DESTINATION")):
        if ctx.amount(direction) is not None:
            data[key] = {"currency": ctx.currency(direction), "amount": number(ctx.amount(direction))}
    return data


@rule(
    id="R-1",
    name="Transaction amount too high",
    description="The origin amount is at or above a threshold set per currency. A transaction in a "
    "currency without its own threshold is converted to each listed currency.",
    nature="AML",
    labels=("UNEXPECTED_BEHAVIOR",),
    schema={
        "properties": {
            "transactionAmountThreshold": {
                "type": "object",
                "description": 'Threshold per currency, e.g. {"PHP": 30000, "EUR": 10000}.',
                "propertyNames": CURRENCY,
                "additionalProperties": AMOUNT,
                "minProperties": 1,
            }
        },
        "required": ["transactionAmountThreshold"],
    },
    defaults={"transactionAmountThreshold": {"EUR": 10000, "USD": 10000}},
)
def amount_above_threshold(ctx, params) -> Outcome:
    thresholds = params["transactionAmountThreshold"]
    currency = ctx.currency(ORIGIN)
    amount = ctx.amount(ORIGIN)
    if amount is None:
        return Outcome(False, {"transaction": transaction_data(ctx), "rule": {"listAmount": None}})
    candidates = [currency] if currency in thresholds else sorted(thresholds)
    for listed in candidates:
        threshold = Decimal(str(thresholds[listed]))
        compared = amount if listed == currency else ctx.amount_in(listed, ORIGIN)
        if compared is not None and compared >= threshold:
            return Outcome(
                True,
                {
                    "transaction": transaction_data(ctx),
                    "rule": {"listAmount": {"currency": listed, "amount": number(threshold)}},
                    "comparedAmount": {"currency": listed, "amount": number(compared)},
                },
            )
    listed = candidates[0]
    return Outcome(
        False,
        {
            "transaction": transaction_data(ctx),
            "rule": {"listAmount": {"currency": listed, "amount": number(Decimal(str(thresholds[listed])))}},
        },
    )


# --- helpers shared by the templates comparing an amount with a threshold ------------------


def money_data(currency: str, amount: Decimal | None) -> dict | None:
    """`{currency, amount}` with a JSON number; None when the amount is unknown."""
    if amount is None:
        return None
    return {"currency": currency, "amount": number(amount)}


def at_or_above(ctx, threshold: dict, direction: str = ORIGIN) -> tuple[bool, Decimal | None]:
    """Whether the direction's amount, converted to the threshold's currency, is >= the threshold;
    and the converted amount (None, and never at or above, when a rate or the amount is missing)."""
    compared = ctx.amount_in(threshold["currency"], direction)
    return compared is not None and compared >= Decimal(str(threshold["amount"])), compared
