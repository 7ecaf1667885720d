"""The custom-condition template: a compliance admin's own test, in the shared condition language."""

from __future__ import annotations

from rules import conditions
from rules.library.base import Outcome, rule


@rule(
    id="R-15",
    name="Custom condition",
    description="Hits when the condition holds on the transaction document (the API shape, plus "
    "`originUser` / `destinationUser` with their type, risk level, countries, state and KYC status). "
    "Conditions are {attribute, operator, value} tests combined with all / any; an attribute "
    "missing from the transaction never makes the rule hit.",
    nature="AML",
    labels=("CUSTOM",),
    schema={
        "properties": {"condition": conditions.CONDITION_SCHEMA},
        "required": ["condition"],
        "$defs": conditions.CONDITION_SCHEMA["$defs"],
    },
    defaults={
        "condition": {
            "all": [
                {"attribute": "originAmountDetails.transactionAmount", "operator": "$gte", "value": 10000},
                {"attribute": "originDeviceData.vpnUsed", "operator": "$eq", "value": True},
            ]
        }
    },
)
def custom_condition(ctx, params) -> Outcome:
    result = conditions.evaluate(params["condition"], ctx.document)
    return Outcome(
        result.status == conditions.VALID,
        {
            "rule": {"condition": params["condition"]},
            "result": {"status": result.status, "reasons": result.reasons},
        },
    )
