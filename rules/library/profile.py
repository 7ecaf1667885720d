"""Templates on who the user is and how they have behaved: new users, dormant accounts,
users whose ongoing risk is already high."""

from __future__ import annotations

from datetime import timedelta

from rules.documents import ms
from rules.library.amounts import at_or_above, money_data, transaction_data
from rules.library.base import DESTINATION, MONEY, ORIGIN, Outcome, rule
from users.models.customers import RiskLevel

DAY = timedelta(days=1)
DAYS = {"type": "integer", "minimum": 1, "maximum": 36500}
USER_CHECK = {
    "type": "string",
    "enum": ["originUser", "destinationUser"],
    "description": "Whose account is judged: the origin (sender) or the destination (receiver).",
}


def _days(delta: timedelta) -> float:
    return round(delta / DAY, 3)


@rule(
    id="R-4",
    name="First transaction of a new user above an amount",
    description="The origin user is new — registered at most `newUserDays` days before the "
    "transaction (registration at or after `timestamp - newUserDays days`), or never the origin of "
    "an earlier transaction — and the origin amount, converted to the threshold's currency, is at "
    "or above (>=) the threshold. A transaction without an origin user, or whose amount cannot be "
    "converted, does not hit.",
    nature="FRAUD",
    labels=("NEW_USER", "UNEXPECTED_BEHAVIOR"),
    schema={
        "properties": {
            "transactionAmountThreshold": MONEY,
            "newUserDays": {**DAYS, "description": "A user registered within this many days is new."},
        },
        "required": ["transactionAmountThreshold", "newUserDays"],
    },
    defaults={"transactionAmountThreshold": {"currency": "EUR", "amount": 5000}, "newUserDays": 30},
)
def new_user_large_amount(ctx, params) -> Outcome:
    threshold = params["transactionAmountThreshold"]
    data = {
        "transaction": transaction_data(ctx),
        "rule": {"transactionAmountThreshold": threshold, "newUserDays": params["newUserDays"]},
        "aggregates": {},
    }
    user = ctx.user(ORIGIN)
    if user is None:
        return Outcome(False, data)
    large, compared = at_or_above(ctx, threshold)
    registered_recently = user.registered_at >= ctx.now - params["newUserDays"] * DAY
    first_transaction = not ctx.sent_before(user.pk)
    data["aggregates"] = {
        "comparedAmount": money_data(threshold["currency"], compared),
        "userRegisteredAt": ms(user.registered_at),
        "daysSinceRegistration": _days(ctx.now - user.registered_at),
        "registeredRecently": registered_recently,
        "firstTransactionAsOrigin": first_transaction,
    }
    hit = large and (registered_recently or first_transaction)
    return Outcome(
        hit,
        data,
        hit_directions=[ORIGIN],
        vars=[{"value": {"comparedAmount": data["aggregates"]["comparedAmount"]}, "direction": ORIGIN}],
    )


@rule(
    id="R-10",
    name="Dormant account suddenly active",
    description="The user (origin or destination, `checkFor`) had no transaction, sent or received, "
    "for at least (>=) `dormantDays` days before this one — counted from their last earlier "
    "transaction, or from their registration when they never had one — and the amount on their "
    "side, converted to the threshold's currency, is at or above (>=) the threshold.",
    nature="AML",
    labels=("DORMANT_ACCOUNT", "UNEXPECTED_BEHAVIOR"),
    schema={
        "properties": {
            "dormantDays": {
                **DAYS,
                "description": "Days without any transaction that make an account dormant.",
            },
            "transactionAmountThreshold": MONEY,
            "checkFor": USER_CHECK,
        },
        "required": ["dormantDays", "transactionAmountThreshold"],
    },
    defaults={
        "dormantDays": 180,
        "transactionAmountThreshold": {"currency": "EUR", "amount": 5000},
        "checkFor": "originUser",
    },
)
def dormant_account(ctx, params) -> Outcome:
    threshold = params["transactionAmountThreshold"]
    direction = ORIGIN if params.get("checkFor", "originUser") == "originUser" else DESTINATION
    data = {
        "transaction": transaction_data(ctx),
        "rule": {
            "dormantDays": params["dormantDays"],
            "transactionAmountThreshold": threshold,
            "checkFor": params.get("checkFor", "originUser"),
        },
        "aggregates": {},
    }
    user = ctx.user(direction)
    if user is None:
        return Outcome(False, data, hit_directions=[direction])
    large, compared = at_or_above(ctx, threshold, direction)
    last = ctx.previous_activity(user.pk)
    since = last if last is not None else user.registered_at
    quiet = ctx.now - since
    dormant = quiet >= params["dormantDays"] * DAY
    data["aggregates"] = {
        "comparedAmount": money_data(threshold["currency"], compared),
        "lastActivityAt": ms(last) if last is not None else None,
        "userRegisteredAt": ms(user.registered_at),
        "daysInactive": _days(quiet),
    }
    return Outcome(
        dormant and large,
        data,
        hit_directions=[direction],
        vars=[{"value": {"daysInactive": _days(quiet)}, "direction": direction}],
    )


@rule(
    id="R-12",
    name="High-risk user above an amount",
    description="The origin user's ongoing (CRA) risk level is at or above (>=) `minimumRiskLevel` "
    "(VERY_LOW < LOW < MEDIUM < HIGH < VERY_HIGH) and the origin amount, converted to the "
    "threshold's currency, is at or above (>=) the threshold. No origin user: no hit.",
    nature="AML",
    labels=("HIGH_RISK_USER",),
    schema={
        "properties": {
            "minimumRiskLevel": {"type": "string", "enum": list(RiskLevel.values)},
            "transactionAmountThreshold": MONEY,
        },
        "required": ["minimumRiskLevel", "transactionAmountThreshold"],
    },
    defaults={"minimumRiskLevel": "HIGH", "transactionAmountThreshold": {"currency": "EUR", "amount": 1000}},
)
def risky_user_amount(ctx, params) -> Outcome:
    threshold = params["transactionAmountThreshold"]
    data = {
        "transaction": transaction_data(ctx),
        "rule": {"minimumRiskLevel": params["minimumRiskLevel"], "transactionAmountThreshold": threshold},
        "aggregates": {},
    }
    user = ctx.user(ORIGIN)
    if user is None:
        return Outcome(False, data)
    large, compared = at_or_above(ctx, threshold)
    risky = RiskLevel.rank(user.risk_level) >= RiskLevel.rank(params["minimumRiskLevel"])
    data["aggregates"] = {
        "riskLevel": user.risk_level,
        "comparedAmount": money_data(threshold["currency"], compared),
    }
    return Outcome(
        risky and large,
        data,
        hit_directions=[ORIGIN],
        vars=[{"value": {"riskLevel": user.risk_level}, "direction": ORIGIN}],
    )
