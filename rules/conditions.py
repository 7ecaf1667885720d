"""The condition language: `{attribute, operator, value}` tests combined with `all` / `any`.

One implementation for every place compliance admins write checks without code: the
custom-condition rule template (R-15) over a transaction document, and the scenarios
of seed 000 over a customer document (issue 8). The operators are seed 000's:
`$noop $eq $lt $lte $gt $gte $in $nin $ne $exists`.

    {"all": [
        {"attribute": "originAmountDetails.transactionAmount", "operator": "$gte", "value": 10000},
        {"any": [
            {"attribute": "originAmountDetails.country", "operator": "$in", "value": ["IR", "KP"]},
            {"attribute": "originDeviceData.vpnUsed", "operator": "$eq", "value": true},
        ]},
    ]}

An attribute is a dotted path into the document; a path crossing a list tests every
item (`tags.key` is the list of the tags' keys) and a test on a list holds when it holds
for one item ($nin, $ne: for none). Every test answers valid, not valid, or *error* with
the reason when the data cannot be compared (a missing attribute, a number compared
with text): an error is never silently taken as "not valid".
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATORS = ("$noop", "$eq", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$ne", "$exists")
MAX_DEPTH = 5
MAX_CONDITIONS = 50

VALID = "valid"
NOT_VALID = "not-valid"
ERROR = "error"

_MISSING = object()

CONDITION_SCHEMA: dict = {
    "$defs": {
        "test": {
            "type": "object",
            "properties": {
                "attribute": {"type": "string", "minLength": 1, "maxLength": 200},
                "operator": {"type": "string", "enum": list(OPERATORS)},
                "value": {},
            },
            "required": ["attribute", "operator"],
            "additionalProperties": False,
        },
        "node": {
            "oneOf": [
                {"$ref": "#/$defs/test"},
                {
                    "type": "object",
                    "properties": {
                        "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}}
                    },
                    "required": ["all"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {
                        "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}}
                    },
                    "required": ["any"],
                    "additionalProperties": False,
                },
            ]
        },
    },
    "$ref": "#/$defs/node",
}


@dataclasses.dataclass
class Result:
    status: str  # VALID, NOT_VALID or ERROR
    reasons: list[str] = dataclasses.field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.status == VALID


def structure_errors(
    node: Any, path: str = "", depth: int = 0, counter: list[int] | None = None
) -> list[str]:
    """What is wrong with a condition tree beyond its JSON Schema: operator/value agreement,
    depth and size. Empty when it can be evaluated."""
    counter = counter if counter is not None else [0]
    errors: list[str] = []
    if depth > MAX_DEPTH:
        return [f"{path or 'condition'}: nested deeper than {MAX_DEPTH} levels."]
    if not isinstance(node, dict):
        return [f"{path or 'condition'}: expected an object."]
    for group in ("all", "any"):
        if group in node:
            children = node[group]
            if not isinstance(children, list) or not children:
                return [f"{path}{group}: expected a non-empty list."]
            for index, child in enumerate(children):
                errors += structure_errors(child, f"{path}{group}[{index}].", depth + 1, counter)
            return errors
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        return [f"more than {MAX_CONDITIONS} conditions."]
    operator = node.get("operator")
    if operator not in OPERATORS:
        return [f"{path}operator: expected one of {', '.join(OPERATORS)}."]
    if not isinstance(node.get("attribute"), str) or not node["attribute"]:
        return [f"{path}attribute: expected a dotted path."]
    value = node.get("value", _MISSING)
    if operator in ("$in", "$nin") and not isinstance(value, list):
        errors.append(f"{path}value: {operator} needs a list.")
    elif operator == "$exists" and value is not _MISSING and not isinstance(value, bool):
        errors.append(f"{path}value: $exists needs true or false.")
    elif operator in ("$eq", "$ne", "$lt", "$lte", "$gt", "$gte") and value is _MISSING:
        errors.append(f"{path}value: {operator} needs a value.")
    elif operator in ("$lt", "$lte", "$gt", "$gte") and (
        isinstance(value, (list, dict, bool)) or value is None
    ):
        errors.append(f"{path}value: {operator} needs a number, a date or a text.")
    return errors


def resolve(document: Any, attribute: str) -> Any:
    """The value at a dotted path; a list on the way maps the rest of the path over its items."""
    current = document
    parts = attribute.split(".")
    for index, part in enumerate(parts):
        if isinstance(current, list):
            rest = ".".join(parts[index:])
            values = [resolve(item, rest) for item in current]
            flat = []
            for value in values:
                if value is _MISSING:
                    continue
                flat.extend(value if isinstance(value, list) else [value])
            return flat if flat else _MISSING
        if isinstance(current, dict):
            current = current.get(part, _MISSING)
        else:
            current = getattr(current, part, _MISSING)
        if current is _MISSING:
            return _MISSING
    return current


def _comparable(value: Any) -> Any:
    """Numbers as Decimal (so 1 == 1.0 and money keeps its cents); dates as ISO text; the rest as is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return Decimal(value) if value.strip() and value.strip()[0] in "+-0123456789" else value
        except InvalidOperation:
            return value
    return value


def _compare(operator: str, left: Any, right: Any) -> bool:
    a, b = _comparable(left), _comparable(right)
    if operator in ("$eq", "$ne"):
        # true is not 1 and false is not 0 (Python says they are): "vpnUsed $eq 1" must not hold.
        equal = a == b and isinstance(a, bool) == isinstance(b, bool)
        return equal if operator == "$eq" else not equal
    if type(a) is not type(b) or isinstance(a, bool):
        raise TypeError(f"cannot compare {left!r} with {right!r}")
    return {"$lt": a < b, "$lte": a <= b, "$gt": a > b, "$gte": a >= b}[operator]


def _test(node: dict, document: Any) -> Result:
    attribute, operator = node["attribute"], node["operator"]
    expected = node.get("value")
    if operator == "$noop":
        return Result(VALID)
    actual = resolve(document, attribute)
    if operator == "$exists":
        present = actual is not _MISSING and actual is not None and actual != []
        wanted = True if expected is None else bool(expected)
        if present == wanted:
            return Result(VALID)
        return Result(NOT_VALID, [f"{attribute} is {'present' if present else 'missing'}."])
    if actual is _MISSING or actual is None:
        return Result(ERROR, [f"{attribute} is missing: cannot evaluate {operator}."])
    values = actual if isinstance(actual, list) else [actual]
    try:
        if operator in ("$in", "$nin"):
            matched = [
                value for value in values if any(_compare("$eq", value, option) for option in expected)
            ]
            ok = bool(matched) if operator == "$in" else not matched
        elif operator == "$ne":
            ok = all(_compare("$ne", value, expected) for value in values)
        else:
            ok = any(_compare(operator, value, expected) for value in values)
    except TypeError as exc:
        return Result(ERROR, [f"{attribute}: {exc}."])
    if ok:
        return Result(VALID)
    shown = actual if len(str(actual)) <= 200 else f"{str(actual)[:200]}..."
    return Result(NOT_VALID, [f"{attribute} is {shown!r}, expected {operator} {expected!r}."])


def evaluate(node: dict, document: Any) -> Result:
    """Evaluate a condition tree. `all`: valid when every child is; an error in a child makes
    the group an error unless another child already decides it (`all` with a not-valid
    child is not valid; `any` with a valid child is valid)."""
    for group in ("all", "any"):
        if group in node:
            results = [evaluate(child, document) for child in node[group]]
            statuses = {result.status for result in results}
            reasons = [reason for result in results for reason in result.reasons]
            decided, other = (NOT_VALID, VALID) if group == "all" else (VALID, NOT_VALID)
            if decided in statuses:
                return Result(decided, reasons if decided == NOT_VALID else [])
            if ERROR in statuses:
                return Result(ERROR, reasons)
            return Result(other, reasons if other == NOT_VALID else [])
    return _test(node, document)
