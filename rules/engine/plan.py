"""Which history aggregates an instance will ask the context for, so they are read together.

Before the instances run, the runner asks each one whose filters let the transaction in for
the aggregates it is about to read and has the context read them all in one statement
(`EvaluationContext.prefetch`). This is only a hint: a template not listed here, or one that
asks for something else, reads what it needs when it asks, as before; a listed template that
ends up not asking costs one more column in a statement that runs anyway. So a hint can make
the engine slower if it is wrong, never make a rule judge differently.
"""

from __future__ import annotations

from rules.engine.context import ORIGIN, EvaluationContext
from rules.library.base import window_seconds


def _window(ctx: EvaluationContext, params: dict) -> list[tuple]:
    """R-2, R-3: `ctx.window(checkFor, timeWindow, types=transactionTypes)`."""
    seconds = window_seconds(params["timeWindow"])
    return [("window", params["checkFor"], seconds, tuple(params.get("transactionTypes", ())))]


def _distinct(ctx: EvaluationContext, params: dict) -> list[tuple]:
    """R-8, R-9: `ctx.distinct_counterparties(checkFor, timeWindow)`."""
    return [("distinct", params["checkFor"], window_seconds(params["timeWindow"]))]


def _sent_before(ctx: EvaluationContext, params: dict) -> list[tuple]:
    """R-4: `ctx.sent_before(origin user)`."""
    user = ctx.user(ORIGIN)
    return [] if user is None else [("sent_before", user.pk)]


def _ip_country(ctx: EvaluationContext, params: dict) -> list[tuple]:
    """R-7 (IP_COUNTRY), R-14 (IP_COUNTRY_NOT_...): `ctx.ip_country(ORIGIN)`."""
    checks = params.get("checks") or ()
    wanted = any(check.startswith("IP_COUNTRY") for check in checks)
    return [("ip_country", ORIGIN)] if wanted else []


HINTS = {
    "R-2": _window,
    "R-3": _window,
    "R-4": _sent_before,
    "R-7": _ip_country,
    "R-8": _distinct,
    "R-9": _distinct,
    "R-14": _ip_country,
}


def aggregates(instance, ctx: EvaluationContext) -> list[tuple]:
    """The context's memo keys the instance is about to read ([] when unknown)."""
    hint = HINTS.get(instance.template.id)
    if hint is None:
        return []
    try:
        return hint(ctx, instance.parameters_for(ctx.risk_level))
    except Exception:  # a malformed parameter: the template itself will say so when it runs
        return []
