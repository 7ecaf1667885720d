"""Templates on whom money goes to and comes from: fan-out and fan-in.

A counterparty is the user on the other side of a transaction, else (no user there) the
payment instrument on the other side; a transaction with neither counts no counterparty.
"""

from __future__ import annotations

from rules.library.amounts import transaction_data
from rules.library.base import DESTINATION, ORIGIN, WINDOW, Outcome, rule, window_seconds


def _check(keys: list[str], whose: str) -> dict:
    return {
        "type": "string",
        "enum": keys,
        "description": f"Whose transactions are counted: the {whose} user's, or the {whose} "
        "payment instrument's.",
    }


def _fan(ctx, params, direction: str, aggregate: str) -> Outcome:
    check = params["checkFor"]
    count = ctx.distinct_counterparties(check, window_seconds(params["timeWindow"]))
    data = {
        "transaction": transaction_data(ctx),
        "rule": {"counterpartiesLimit": params["counterpartiesLimit"], "timeWindow": params["timeWindow"]},
        "aggregates": {"checkFor": check, aggregate: count},
    }
    if count is None:
        return Outcome(False, data, hit_directions=[direction])
    return Outcome(
        count > params["counterpartiesLimit"],
        data,
        hit_directions=[direction],
        vars=[{"value": {aggregate: count}, "direction": direction}],
    )


@rule(
    id="R-8",
    name="Fan-out: too many distinct recipients",
    description="The number of distinct counterparties (destination users, else destination payment "
    "instruments) the origin user or origin payment instrument sent to within the window, this "
    "transaction included, exceeds (>) `counterpartiesLimit`.",
    nature="AML",
    labels=("FAN_OUT", "UNEXPECTED_BEHAVIOR"),
    schema={
        "properties": {
            "counterpartiesLimit": {"type": "integer", "minimum": 1, "maximum": 100000},
            "timeWindow": WINDOW,
            "checkFor": _check(["originUser", "originPayment"], "origin"),
        },
        "required": ["counterpartiesLimit", "timeWindow", "checkFor"],
    },
    defaults={
        "counterpartiesLimit": 10,
        "timeWindow": {"units": 1, "granularity": "day"},
        "checkFor": "originUser",
    },
)
def fan_out(ctx, params) -> Outcome:
    return _fan(ctx, params, ORIGIN, "distinctRecipients")


@rule(
    id="R-9",
    name="Fan-in: too many distinct senders",
    description="The number of distinct counterparties (origin users, else origin payment instruments) "
    "that sent to the destination user or destination payment instrument within the window, this "
    "transaction included, exceeds (>) `counterpartiesLimit`.",
    nature="AML",
    labels=("FAN_IN", "MONEY_MULE"),
    schema={
        "properties": {
            "counterpartiesLimit": {"type": "integer", "minimum": 1, "maximum": 100000},
            "timeWindow": WINDOW,
            "checkFor": _check(["destinationUser", "destinationPayment"], "destination"),
        },
        "required": ["counterpartiesLimit", "timeWindow", "checkFor"],
    },
    defaults={
        "counterpartiesLimit": 10,
        "timeWindow": {"units": 1, "granularity": "day"},
        "checkFor": "destinationUser",
    },
)
def fan_in(ctx, params) -> Outcome:
    return _fan(ctx, params, DESTINATION, "distinctSenders")
