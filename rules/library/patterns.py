"""Laundering patterns in amounts: structuring below a reporting threshold, round amounts, and
money passed straight through an account."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from rules.library.amounts import at_or_above, money_data, transaction_data
from rules.library.base import MONEY, ORIGIN, WINDOW, Outcome, number, rule, window_seconds
from rules.library.velocity import CHECK, direction_of
from transactions import money


def _converted(amounts: list[tuple[Decimal, str]], currency: str) -> list[Decimal]:
    """The amounts converted to `currency`, those without a rate left out."""
    converted = (money.convert(amount, source, currency) for amount, source in amounts)
    return [amount for amount in converted if amount is not None]


@rule(
    id="R-5",
    name="Structuring below a threshold",
    description="Amounts kept just below a reporting threshold. A transaction is in the band when its "
    "amount (origin side for an origin `checkFor`, destination side otherwise), converted to the "
    "threshold's currency, is >= threshold * (1 - marginPercent / 100) and < threshold (the "
    "threshold itself is out of the band: R-1 catches it). Hits when this transaction is in the "
    "band and at least (>=) `transactionsCount` transactions of the same user or payment "
    "instrument within the window, this one included, are.",
    nature="AML",
    labels=("STRUCTURING",),
    schema={
        "properties": {
            "transactionAmountThreshold": MONEY,
            "marginPercent": {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 100,
                "description": "How far below the threshold the band starts, in percent.",
            },
            "transactionsCount": {"type": "integer", "minimum": 1, "maximum": 1000},
            "timeWindow": WINDOW,
            "checkFor": CHECK,
        },
        "required": ["transactionAmountThreshold", "marginPercent", "transactionsCount", "timeWindow"],
    },
    defaults={
        "transactionAmountThreshold": {"currency": "EUR", "amount": 10000},
        "marginPercent": 10,
        "transactionsCount": 3,
        "timeWindow": {"units": 7, "granularity": "day"},
        "checkFor": "originUser",
    },
)
def structuring(ctx, params) -> Outcome:
    threshold = params["transactionAmountThreshold"]
    currency = threshold["currency"]
    check = params.get("checkFor", "originUser")
    direction = direction_of(check)
    high = Decimal(str(threshold["amount"]))
    low = high * (1 - Decimal(str(params["marginPercent"])) / 100)
    compared = ctx.amount_in(currency, direction)
    in_band = compared is not None and low <= compared < high
    data = {
        "transaction": transaction_data(ctx),
        "rule": {
            "transactionAmountThreshold": threshold,
            "marginPercent": params["marginPercent"],
            "band": {"currency": currency, "from": number(low), "below": number(high)},
            "transactionsCount": params["transactionsCount"],
            "timeWindow": params["timeWindow"],
        },
        "aggregates": {
            "checkFor": check,
            "comparedAmount": money_data(currency, compared),
            "inBand": in_band,
            "transactionsInBand": None,
        },
    }
    if not in_band:
        return Outcome(False, data, hit_directions=[direction])
    amounts = ctx.amounts(check, window_seconds(params["timeWindow"]))
    if amounts is None:
        return Outcome(False, data, hit_directions=[direction])
    count = sum(1 for amount in _converted(amounts, currency) if low <= amount < high)
    data["aggregates"]["transactionsInBand"] = count
    return Outcome(
        count >= params["transactionsCount"],
        data,
        hit_directions=[direction],
        vars=[{"value": {"transactionsInBand": count}, "direction": direction}],
    )


def _is_round(amount: Decimal | None, unit: Decimal) -> bool:
    return amount is not None and amount > 0 and amount % unit == 0


@rule(
    id="R-6",
    name="Round amounts",
    description="The amount (in the transaction's own currency; origin side for an origin `checkFor`, "
    "destination side otherwise) is a whole multiple of `roundingUnit` and, converted to the "
    "minimum's currency, at or above (>=) `minimumAmount`. With `roundTransactionsCount` and "
    "`timeWindow`, it hits only when at least (>=) that many transactions of the same user or "
    "payment instrument within the window, this one included, are round and at or above the minimum.",
    nature="AML",
    labels=("ROUND_AMOUNTS", "UNEXPECTED_BEHAVIOR"),
    schema={
        "properties": {
            "roundingUnit": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "e.g. 1000: 5000 and 12000 are round, 12500 is not.",
            },
            "minimumAmount": MONEY,
            "roundTransactionsCount": {"type": "integer", "minimum": 1, "maximum": 1000},
            "timeWindow": WINDOW,
            "checkFor": CHECK,
        },
        "required": ["roundingUnit", "minimumAmount"],
        "dependentRequired": {
            "roundTransactionsCount": ["timeWindow"],
            "timeWindow": ["roundTransactionsCount"],
        },
    },
    defaults={"roundingUnit": 1000, "minimumAmount": {"currency": "EUR", "amount": 5000}},
)
def round_amounts(ctx, params) -> Outcome:
    unit = Decimal(str(params["roundingUnit"]))
    minimum = params["minimumAmount"]
    check = params.get("checkFor", "originUser")
    direction = direction_of(check)
    large, compared = at_or_above(ctx, minimum, direction)
    own = ctx.amount(direction)
    is_round = _is_round(own, unit)
    data = {
        "transaction": transaction_data(ctx),
        "rule": {
            "roundingUnit": params["roundingUnit"],
            "minimumAmount": minimum,
            "roundTransactionsCount": params.get("roundTransactionsCount"),
            "timeWindow": params.get("timeWindow"),
        },
        "aggregates": {
            "checkFor": check,
            "isRound": is_round,
            "comparedAmount": money_data(minimum["currency"], compared),
            "roundTransactionsCount": None,
        },
    }
    if not (is_round and large):
        return Outcome(False, data, hit_directions=[direction])
    if "roundTransactionsCount" not in params:
        return Outcome(True, data, hit_directions=[direction])
    amounts = ctx.amounts(check, window_seconds(params["timeWindow"])) or []
    floor = Decimal(str(minimum["amount"]))
    count = 0
    for amount, currency in amounts:
        converted = money.convert(amount, currency, minimum["currency"])
        if _is_round(amount, unit) and converted is not None and converted >= floor:
            count += 1
    data["aggregates"]["roundTransactionsCount"] = count
    return Outcome(
        count >= params["roundTransactionsCount"],
        data,
        hit_directions=[direction],
        vars=[{"value": {"roundTransactionsCount": count}, "direction": direction}],
    )


@rule(
    id="R-11",
    name="Pass-through: money out soon after money in",
    description="The origin user received, within the window before this transaction (other "
    "transactions whose destination they were, timestamps in (timestamp - window, timestamp]), a "
    "total at or above (>=) `receivedPercentage` % of this transaction's origin amount, both in "
    "the base currency. With `minimumAmount`, the origin amount must also be at or above (>=) it. "
    "No origin user, a zero amount or an amount without a rate: no hit.",
    nature="AML",
    labels=("PASS_THROUGH", "MONEY_MULE"),
    schema={
        "properties": {
            "receivedPercentage": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            "timeWindow": WINDOW,
            "minimumAmount": MONEY,
        },
        "required": ["receivedPercentage", "timeWindow"],
    },
    defaults={"receivedPercentage": 90, "timeWindow": {"units": 2, "granularity": "day"}},
)
def pass_through(ctx, params) -> Outcome:
    base = settings.BASE_CURRENCY
    data = {
        "transaction": transaction_data(ctx),
        "rule": {
            "receivedPercentage": params["receivedPercentage"],
            "timeWindow": params["timeWindow"],
            "minimumAmount": params.get("minimumAmount"),
        },
        "aggregates": {},
    }
    user = ctx.user(ORIGIN)
    sent = ctx.transaction.origin_amount_base
    if user is None or not sent:
        return Outcome(False, data)
    large = True
    if "minimumAmount" in params:
        large, compared = at_or_above(ctx, params["minimumAmount"])
        data["aggregates"]["comparedAmount"] = money_data(params["minimumAmount"]["currency"], compared)
    received = ctx.received_base(user.pk, window_seconds(params["timeWindow"]))
    needed = sent * Decimal(str(params["receivedPercentage"])) / 100
    data["aggregates"].update(
        sentAmount=money_data(base, sent),
        receivedAmount=money_data(base, received),
        receivedPercentage=number(round(received * 100 / sent, 2)),
    )
    return Outcome(
        large and received >= needed,
        data,
        hit_directions=[ORIGIN],
        vars=[{"value": {"receivedAmount": number(received)}, "direction": ORIGIN}],
    )
