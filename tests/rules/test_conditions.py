"""The condition language (rules.conditions): every operator valid / not valid / error, all and
any, lists, missing attributes, and the structure checks run before a condition is saved."""

import datetime

import pytest
from jsonschema import Draft202012Validator

from rules import conditions
from rules.conditions import ERROR, NOT_VALID, VALID, evaluate, resolve, structure_errors

DOCUMENT = {
    "type": "TRANSFER",
    "originAmountDetails": {"transactionAmount": 35000, "transactionCurrency": "PHP", "country": "PH"},
    "originDeviceData": {"vpnUsed": False, "ipAddress": "10.0.0.1"},
    "reference": "Intra Transfer",
    "promotionCodeUsed": None,
    "relatedTransactionIds": [],
    "tags": [{"key": "Source", "value": "API"}, {"key": "Channel", "value": "mobile"}, {"key": "Bare"}],
    "originUser": {"riskLevel": "HIGH", "riskScore": 70, "createdTimestamp": 1733648901229},
    "numericText": "12.50",
    "date": datetime.date(2024, 12, 8),
}


def cond(attribute, operator, value=conditions._MISSING):
    node = {"attribute": attribute, "operator": operator}
    if value is not conditions._MISSING:
        node["value"] = value
    return node


def status(node, document=DOCUMENT):
    return evaluate(node, document).status


AMOUNT = "originAmountDetails.transactionAmount"

# (operator, value that makes the test valid, value that makes it not valid) on a 35000 amount.
NUMERIC = [
    ("$eq", 35000, 35000.01),
    ("$ne", 34999, 35000),
    ("$lt", 35000.01, 35000),
    ("$lte", 35000, 34999.99),
    ("$gt", 34999.99, 35000),
    ("$gte", 35000, 35000.01),
    ("$in", [1, 35000], [1, 2]),
    ("$nin", [1, 2], [35000]),
]


@pytest.mark.parametrize(("operator", "valid", "not_valid"), NUMERIC)
def test_each_operator_valid_and_not_valid_at_its_boundary(operator, valid, not_valid):
    assert status(cond(AMOUNT, operator, valid)) == VALID
    result = evaluate(cond(AMOUNT, operator, not_valid), DOCUMENT)
    assert result.status == NOT_VALID
    assert result.reasons == [f"{AMOUNT} is 35000, expected {operator} {not_valid!r}."]


@pytest.mark.parametrize("operator", ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin"])
def test_each_operator_is_an_error_on_a_missing_attribute(operator):
    value = [1] if operator in ("$in", "$nin") else 1
    result = evaluate(cond("originAmountDetails.fee", operator, value), DOCUMENT)
    assert result.status == ERROR
    assert result.reasons == [f"originAmountDetails.fee is missing: cannot evaluate {operator}."]


@pytest.mark.parametrize("operator", ["$lt", "$lte", "$gt", "$gte"])
def test_ordering_a_number_against_text_is_an_error(operator):
    result = evaluate(cond(AMOUNT, operator, "abc"), DOCUMENT)
    assert result.status == ERROR
    assert "cannot compare" in result.reasons[0]


@pytest.mark.parametrize("operator", ["$lt", "$gt"])
def test_ordering_booleans_is_an_error(operator):
    assert status(cond("originDeviceData.vpnUsed", operator, 1)) == ERROR


def test_null_is_missing_for_comparisons():
    assert status(cond("promotionCodeUsed", "$eq", None)) == ERROR


def test_noop_is_always_valid_even_without_the_attribute():
    assert status(cond("nothing.here", "$noop")) == VALID


def test_exists():
    assert status(cond("originDeviceData.ipAddress", "$exists")) == VALID
    assert status(cond("originDeviceData.ipAddress", "$exists", True)) == VALID
    assert status(cond("originDeviceData.ipAddress", "$exists", False)) == NOT_VALID
    assert status(cond("originDeviceData.deviceIdentifier", "$exists")) == NOT_VALID
    assert status(cond("originDeviceData.deviceIdentifier", "$exists", False)) == VALID
    # null and an empty list are absent
    assert status(cond("promotionCodeUsed", "$exists")) == NOT_VALID
    assert status(cond("relatedTransactionIds", "$exists", False)) == VALID


def test_numbers_compare_as_decimals_and_numeric_text_as_numbers():
    assert status(cond(AMOUNT, "$eq", 35000.0)) == VALID
    assert status(cond("numericText", "$gt", 12.49)) == VALID
    assert status(cond("numericText", "$eq", 12.5)) == VALID
    assert status(cond("numericText", "$lt", 12.5)) == NOT_VALID


def test_text_and_dates():
    assert status(cond("type", "$eq", "TRANSFER")) == VALID
    assert status(cond("type", "$eq", "transfer")) == NOT_VALID  # case matters
    assert status(cond("reference", "$gt", "Intra")) == VALID
    assert status(cond("date", "$gte", "2024-12-08")) == VALID
    assert status(cond("date", "$gt", "2024-12-08")) == NOT_VALID


def test_booleans():
    assert status(cond("originDeviceData.vpnUsed", "$eq", False)) == VALID
    assert status(cond("originDeviceData.vpnUsed", "$eq", True)) == NOT_VALID
    assert status(cond("originDeviceData.vpnUsed", "$ne", True)) == VALID


def test_a_boolean_is_not_the_number_one():
    # Python's True == 1: the language must not inherit that (`vpnUsed $eq 0` would hold).
    assert status(cond("originDeviceData.vpnUsed", "$eq", 0)) == NOT_VALID
    assert status(cond("originDeviceData.vpnUsed", "$in", [0, 1])) == NOT_VALID
    assert status(cond("originDeviceData.vpnUsed", "$ne", 0)) == VALID


# --- lists ---------------------------------------------------------------------------------------


def test_a_path_through_a_list_tests_every_item():
    assert resolve(DOCUMENT, "tags.key") == ["Source", "Channel", "Bare"]
    assert resolve(DOCUMENT, "tags.value") == ["API", "mobile"]  # items without it are skipped
    assert status(cond("tags.key", "$eq", "Channel")) == VALID  # one item is enough
    assert status(cond("tags.key", "$eq", "Other")) == NOT_VALID
    assert status(cond("tags.key", "$in", ["Other", "Bare"])) == VALID
    assert status(cond("tags.key", "$nin", ["Other", "Bare"])) == NOT_VALID  # none may match
    assert status(cond("tags.key", "$nin", ["Other"])) == VALID
    assert status(cond("tags.value", "$ne", "API")) == NOT_VALID  # $ne: for none
    assert status(cond("tags.value", "$ne", "web")) == VALID
    assert status(cond("tags.nothing", "$eq", "x")) == ERROR  # missing on every item


def test_a_list_attribute_compared_with_a_number():
    document = {"amounts": [10, 20, 30]}
    assert status(cond("amounts", "$gt", 25), document) == VALID
    assert status(cond("amounts", "$gt", 30), document) == NOT_VALID
    assert status(cond("amounts", "$lt", "x"), document) == ERROR


def test_attributes_of_objects_resolve_too():
    class Thing:
        colour = "red"

    assert status(cond("thing.colour", "$eq", "red"), {"thing": Thing()}) == VALID
    assert status(cond("thing.size", "$eq", 1), {"thing": Thing()}) == ERROR


# --- all / any -----------------------------------------------------------------------------------

TRUE = cond(AMOUNT, "$gte", 35000)
FALSE = cond(AMOUNT, "$gt", 35000)
BROKEN = cond("missing", "$eq", 1)


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"all": [TRUE, TRUE]}, VALID),
        ({"all": [TRUE, FALSE]}, NOT_VALID),
        ({"all": [FALSE, BROKEN]}, NOT_VALID),  # decided by the not-valid child
        ({"all": [TRUE, BROKEN]}, ERROR),  # cannot be decided: never silently not valid
        ({"any": [FALSE, TRUE]}, VALID),
        ({"any": [FALSE, FALSE]}, NOT_VALID),
        ({"any": [BROKEN, TRUE]}, VALID),  # decided by the valid child
        ({"any": [FALSE, BROKEN]}, ERROR),
        ({"all": [TRUE, {"any": [FALSE, TRUE]}]}, VALID),
        ({"all": [TRUE, {"any": [FALSE, BROKEN]}]}, ERROR),
        ({"any": [FALSE, {"all": [TRUE, FALSE]}]}, NOT_VALID),
    ],
)
def test_all_and_any(node, expected):
    assert status(node) == expected


def test_reasons_of_groups():
    not_valid = evaluate({"all": [TRUE, FALSE]}, DOCUMENT)
    assert not_valid.reasons == [f"{AMOUNT} is 35000, expected $gt 35000."]
    error = evaluate({"any": [FALSE, BROKEN]}, DOCUMENT)
    assert error.reasons == [
        f"{AMOUNT} is 35000, expected $gt 35000.",
        "missing is missing: cannot evaluate $eq.",
    ]
    assert evaluate({"any": [FALSE, TRUE]}, DOCUMENT).reasons == []


# --- structure -----------------------------------------------------------------------------------


def test_a_sound_condition_has_no_structure_errors_and_fits_the_schema():
    node = {"all": [TRUE, {"any": [FALSE, cond("tags.key", "$in", ["a"])]}, cond("x", "$exists")]}
    assert structure_errors(node) == []
    assert not list(Draft202012Validator(conditions.CONDITION_SCHEMA).iter_errors(node))


@pytest.mark.parametrize(
    ("node", "error"),
    [
        (cond(AMOUNT, "$in", 1), "value: $in needs a list."),
        (cond(AMOUNT, "$nin", "a"), "value: $nin needs a list."),
        (cond(AMOUNT, "$exists", "yes"), "value: $exists needs true or false."),
        (cond(AMOUNT, "$eq"), "value: $eq needs a value."),
        (cond(AMOUNT, "$lt", [1]), "value: $lt needs a number, a date or a text."),
        (cond(AMOUNT, "$gte", True), "value: $gte needs a number, a date or a text."),
        (cond(AMOUNT, "$gt", None), "value: $gt needs a number, a date or a text."),
        (cond(AMOUNT, "$regex", "a"), "operator: expected one of"),
        (cond("", "$eq", 1), "attribute: expected a dotted path."),
        ({"all": []}, "all: expected a non-empty list."),
        ("text", "condition: expected an object."),
    ],
)
def test_structure_errors(node, error):
    errors = structure_errors(node)
    assert len(errors) == 1
    assert error in errors[0]


def test_structure_errors_name_the_path():
    assert structure_errors({"all": [TRUE, {"any": [cond(AMOUNT, "$in", 1)]}]}) == [
        "all[1].any[0].value: $in needs a list."
    ]


def test_depth_and_size_are_bounded():
    node = TRUE
    for _ in range(conditions.MAX_DEPTH):
        node = {"all": [node]}
    assert structure_errors(node) == []
    assert "nested deeper" in structure_errors({"all": [node]})[0]
    assert structure_errors({"any": [TRUE] * conditions.MAX_CONDITIONS}) == []
    assert structure_errors({"any": [TRUE] * (conditions.MAX_CONDITIONS + 1)}) == [
        f"more than {conditions.MAX_CONDITIONS} conditions."
    ]


def test_the_schema_refuses_unknown_keys_and_operators():
    validator = Draft202012Validator(conditions.CONDITION_SCHEMA)
    assert list(validator.iter_errors({**TRUE, "colour": "red"}))
    assert list(validator.iter_errors(cond(AMOUNT, "$regex", "x")))
    assert list(validator.iter_errors({"all": []}))
    assert list(validator.iter_errors({"none": [TRUE]}))
