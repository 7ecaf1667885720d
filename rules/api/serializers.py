"""Request and answer shapes of the rule management API (seed 004 "Management/Rule").

The request serializers check JSON types only. What the values mean (a template's parameters
against its JSON Schema, filters against the filters schema, one parameter set and action per
risk level) is `rules.services.validate_document`'s to say, so the API and the admin refuse
the same documents with the same messages. Answers are built by `rules.documents` and
`rules.backtest`; the answer serializers here describe them for the OpenAPI schema.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.serializers import StrictFieldsMixin, unstorable_text_path
from rules.models import RISK_LEVELS, BacktestRun, CasePriority, RuleInstance, RuleNature
from transactions.models import RuleAction
from users.api.user_serializers.fields import (
    EPOCH_MILLIS_SCHEMA,
    EpochMillisField,
    JsonBooleanField,
    TextField,
)

# A rule's configuration is small; anything bigger is a mistake or an attack on the database.
MAX_DOCUMENT_CHARS = 64_000
MAX_DEPTH = 16
MAX_LABELS = 50

OBJECT_SCHEMA = {"type": "object", "additionalProperties": True}
PER_LEVEL_OBJECTS_SCHEMA = {
    "type": "object",
    "description": f"One object per risk level ({', '.join(RISK_LEVELS)}); all five or none.",
    "additionalProperties": OBJECT_SCHEMA,
}


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


@extend_schema_field(OBJECT_SCHEMA)
class JsonObjectField(serializers.Field):
    """A JSON object, kept as sent; `null` is the empty object. Its contents are the service's
    to validate; here only its type, size and depth are bounded."""

    default_error_messages = {
        "invalid": "Expected a JSON object, got {data_type}.",
        "too_big": f"Too large (more than {MAX_DOCUMENT_CHARS} characters as JSON).",
        "too_deep": f"Nested more than {MAX_DEPTH} levels deep.",
        "nul": "Null characters and unpaired surrogates are not allowed (at {path}).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return (True, {})
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid", data_type=_json_type(data))
        if len(json.dumps(data)) > MAX_DOCUMENT_CHARS:
            self.fail("too_big")
        if _depth(data) > MAX_DEPTH:
            self.fail("too_deep")
        path = unstorable_text_path(data)
        if path is not None:
            self.fail("nul", path=path or "a key")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "description": "A JSON object valid against `GET /api/management/rule-filters-schema`; "
        "an empty array (as the seed sends it) or `null` means no filters.",
        "anyOf": [OBJECT_SCHEMA, {"type": "array", "maxItems": 0}],
    }
)
class FiltersField(JsonObjectField):
    def to_internal_value(self, data):
        if data == []:
            return {}
        return super().to_internal_value(data)


@extend_schema_field(PER_LEVEL_OBJECTS_SCHEMA)
class PerLevelObjectsField(JsonObjectField):
    """`{VERY_HIGH: {...}, ..., VERY_LOW: {...}}`: which keys are needed is the service's to say."""


@extend_schema_field(
    {
        "type": "object",
        "description": f"One action per risk level ({', '.join(RISK_LEVELS)}); all five or none.",
        "additionalProperties": {"type": "string", "enum": list(RuleAction.values)},
    }
)
class RiskLevelActionsField(JsonObjectField):
    """`{VERY_HIGH: "BLOCK", ..., VERY_LOW: "FLAG"}`, checked by the service."""


def _json_type(data) -> str:
    if data is None:
        return "null"
    return {bool: "boolean", str: "string", int: "number", float: "number", list: "array"}.get(
        type(data), type(data).__name__
    )


def _choice(choices, **kwargs):
    kwargs.setdefault("required", False)
    return serializers.ChoiceField(choices=choices, **kwargs)


class RuleInstanceWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    """The properties a rule instance document may set (seed 004 "Rule Instance - Create/Update").

    On create (`context={"create": True}`) `ruleId` is required and the rest default from the
    template; on update every property is optional, the ones sent replace the stored ones.
    One serializer for both keeps one component in the schema (and its enums named once).
    """

    ruleId = TextField(
        max_length=40,
        required=False,
        help_text="The template (`R-1`...), see `GET /api/management/rules`. Required on create; "
        "on update, another template needs its own parameters sent too.",
    )
    filters = FiltersField()
    ruleNameAlias = TextField(max_length=200, allow_blank=True, allow_null=True, required=False)
    ruleDescription = TextField(max_length=5000, allow_blank=True, allow_null=True, required=False)
    parameters = JsonObjectField(
        help_text="Valid against the template's `parametersSchema`. Empty: the MEDIUM set of "
        "`riskLevelParameters`, else the template's `defaultParameters`."
    )
    riskLevelParameters = PerLevelObjectsField(
        help_text="One parameter set per ongoing risk level of the user, or empty."
    )
    action = _choice(RuleAction.choices)
    riskLevelActions = RiskLevelActionsField(help_text="One action per risk level, or empty.")
    triggersOnHit = JsonObjectField(
        help_text="`{usersToCheck, userStateDetails?, kycStatusDetails?}`: what a hit changes on the users."
    )
    riskLevelsTriggersOnHit = PerLevelObjectsField(help_text="Triggers per risk level (any of the five).")
    status = _choice(RuleInstance.Status.choices)
    casePriority = _choice(CasePriority.choices)
    nature = _choice(RuleNature.choices)
    labels = serializers.ListField(child=TextField(max_length=100), max_length=MAX_LABELS, required=False)
    isShadow = JsonBooleanField(required=False, help_text="Evaluated and recorded, never acting.")
    runOnTransactionEvents = JsonBooleanField(
        required=False, help_text="Also re-run when a transaction event changes the transaction."
    )

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if self.context.get("create") and "ruleId" not in value:
            raise serializers.ValidationError({"ruleId": ["This field is required."]})
        for key in ("ruleNameAlias", "ruleDescription"):
            if key in value and value[key] is None:
                value[key] = ""
        return value


# --- answers -------------------------------------------------------------------------------

# Answer properties are always present and never null.
OUT = {"required": True, "allow_null": False}


class RuleInstanceSerializer(serializers.Serializer):
    """A rule instance as stored (rules.documents.instance_document)."""

    id = serializers.CharField()
    ruleInstanceId = serializers.CharField()
    ruleId = serializers.CharField()
    ruleNameAlias = serializers.CharField(allow_blank=True)
    ruleDescription = serializers.CharField(allow_blank=True)
    filters = JsonObjectField(**OUT)
    parameters = JsonObjectField(**OUT)
    riskLevelParameters = PerLevelObjectsField(**OUT)
    action = serializers.ChoiceField(choices=RuleAction.choices)
    riskLevelActions = RiskLevelActionsField(**OUT)
    triggersOnHit = JsonObjectField(**OUT)
    riskLevelsTriggersOnHit = PerLevelObjectsField(**OUT)
    casePriority = serializers.ChoiceField(choices=CasePriority.choices)
    nature = serializers.ChoiceField(choices=RuleNature.choices)
    labels = serializers.ListField(child=serializers.CharField())
    # A plain string here: the request's enum names the choice set once in the schema.
    status = serializers.CharField(help_text="ACTIVE or INACTIVE; a retired instance is INACTIVE.")
    isShadow = serializers.BooleanField()
    runOnTransactionEvents = serializers.BooleanField()
    version = serializers.IntegerField(help_text="1 at creation, +1 on every change.")
    versionId = serializers.CharField(help_text="`<ruleInstanceId>.<version>`, as executed rules record it.")
    createdBy = serializers.CharField(allow_blank=True)
    createdAt = EpochMillisField()
    updatedAt = EpochMillisField()


class RuleInstanceVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    versionId = serializers.CharField()
    createdBy = serializers.CharField(allow_blank=True)
    createdAt = EpochMillisField()
    config = RuleInstanceSerializer(help_text="The instance as it was from this version to the next.")


class RuleTemplateSerializer(serializers.Serializer):
    """A template of the rule library (rules.library.base.RuleTemplate.document)."""

    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    type = serializers.CharField()
    # Plain strings: the instance's `nature` and `casePriority` name these choice sets.
    defaultNature = serializers.CharField(help_text="The `nature` of an instance that sets none.")
    defaultLabels = serializers.ListField(child=serializers.CharField())
    parametersSchema = JsonObjectField(
        **OUT, help_text="The JSON Schema an instance's parameters must satisfy."
    )
    defaultParameters = JsonObjectField(**OUT)
    defaultAction = serializers.ChoiceField(choices=RuleAction.choices)
    defaultCasePriority = serializers.CharField()
    runOnTransactionEvents = serializers.BooleanField()


class BacktestRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    fromTimestamp = EpochMillisField(help_text="Start of the period (included), epoch milliseconds.")
    toTimestamp = EpochMillisField(help_text="End of the period (excluded), epoch milliseconds.")


class SampleHitSerializer(serializers.Serializer):
    transactionId = serializers.CharField()
    timestamp = serializers.IntegerField(help_text="Epoch milliseconds.")
    action = serializers.ChoiceField(choices=RuleAction.choices)
    riskLevel = serializers.CharField(allow_null=True, help_text="The level whose parameters ran.")
    hitDirections = serializers.ListField(child=serializers.CharField())
    data = JsonObjectField(**OUT, help_text="The rule's evidence (`detail.data` of an executed rule).")


@extend_schema_field({**EPOCH_MILLIS_SCHEMA, "nullable": True})
class NullableMillisField(EpochMillisField):
    pass


class BacktestRunSerializer(serializers.Serializer):
    """A backtest: the configuration run over the period's stored transactions, changing nothing."""

    backtestId = serializers.CharField()
    ruleInstanceId = serializers.CharField()
    versionId = serializers.CharField(allow_blank=True, help_text="The version whose configuration ran.")
    status = serializers.ChoiceField(choices=BacktestRun.Status.choices)
    fromTimestamp = EpochMillisField()
    toTimestamp = EpochMillisField()
    requestedBy = serializers.CharField(allow_blank=True)
    createdAt = EpochMillisField()
    startedAt = NullableMillisField()
    finishedAt = NullableMillisField()
    transactionsScanned = serializers.IntegerField()
    hits = serializers.IntegerField()
    hitRate = serializers.FloatField(allow_null=True, help_text="Hits per 100 transactions scanned.")
    sampleHits = SampleHitSerializer(many=True, help_text="Up to 20 hits, oldest first.")
    error = serializers.CharField(allow_blank=True)
    config = RuleInstanceSerializer(help_text="The configuration tested.")
