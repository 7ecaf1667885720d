"""Seed 004 "Management/Case" and "Management/Alerts" request bodies, validated here (400 naming
each bad property) and turned into model fields for `cases.services`; and the answer shapes
(built by `cases.documents`) described for the OpenAPI schema.

The seed's bodies have quirks we accept as sent: the case body nests `tags`, `creationReason`,
`relatedCases` and `assignments` inside `entityDetails` (accepted there or at the top level,
not both), and shows `tags` and `assignments` as one object where the descriptions say "list
of objects" (one object is read as a list of one). `createdTimestamp` is a "double": epoch
milliseconds as an integer or a number with a fraction.
"""

from __future__ import annotations

import math

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import AlertEntityType, CaseEntityType, CasePriority, CaseStatus, StatusReason
from compliance.api.serializers import StrictFieldsMixin
from compliance.models import StaffUser
from rules.models import RuleNature
from transactions.api.serializers import PaymentDetailsField
from transactions.models import RuleAction
from users.api.user_serializers.fields import (
    EPOCH_MILLIS_SCHEMA,
    MAX_LIST,
    EpochMillisField,
    _identifier,
    _plain,
    _required_text,
    _text,
    millis,
)
from users.api.user_serializers.requests import UserTagSerializer

MAX_COMMENT = 10_000


class Strict(StrictFieldsMixin, serializers.Serializer):
    pass


@extend_schema_field({**EPOCH_MILLIS_SCHEMA, "type": "number", "format": "double"})
class MillisField(EpochMillisField):
    """Epoch milliseconds sent as a JSON number (the seed's "double"): a fraction is dropped."""

    def to_internal_value(self, data):
        if isinstance(data, float) and math.isfinite(data):
            data = int(data)
        return super().to_internal_value(data)


class OneOrManyField(serializers.ListField):
    """A list of objects; one object alone is read as a list of one (the seed's samples)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = [data]
        return super().to_internal_value(data)


def _tags():
    return OneOrManyField(child=UserTagSerializer(), max_length=MAX_LIST, required=False)


class CreationReasonSerializer(Strict):
    reasons = serializers.ListField(child=_required_text(200), max_length=MAX_LIST)
    comment = _text(MAX_COMMENT, required=True)
    timestamp = MillisField(required=False)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value.get("timestamp") is not None:
            value["timestamp"] = millis(value["timestamp"])
        return _plain(dict(value))


class AssignmentSerializer(Strict):
    assigneeEmail = serializers.EmailField(max_length=254)
    assignedByEmail = serializers.EmailField(max_length=254, required=False)
    timestamp = MillisField(required=False)


def _staff_by_email(email: str) -> StaffUser | None:
    matches = list(StaffUser.objects.filter(Q(email__iexact=email), is_active=True)[:2])
    return matches[0] if len(matches) == 1 else None


def resolve_assignments(items, path: str) -> list[tuple]:
    """`[{assigneeEmail, assignedByEmail, timestamp}]` -> `[(assignee, assigned_by, at)]`; every
    email must name one active staff user (400 naming the item's property otherwise)."""
    errors, out = {}, []
    for index, item in enumerate(items or []):
        assignee = _staff_by_email(item["assigneeEmail"])
        if assignee is None:
            errors[f"{path}[{index}].assigneeEmail"] = [
                f"No staff user has the email {item['assigneeEmail']}."
            ]
        assigned_by = None
        if item.get("assignedByEmail"):
            assigned_by = _staff_by_email(item["assignedByEmail"])
            if assigned_by is None:
                errors[f"{path}[{index}].assignedByEmail"] = [
                    f"No staff user has the email {item['assignedByEmail']}."
                ]
        out.append((assignee, assigned_by, item.get("timestamp")))
    if errors:
        raise serializers.ValidationError(errors)
    return out


def _assignments():
    return OneOrManyField(child=AssignmentSerializer(), max_length=MAX_LIST, required=False)


def _related_cases():
    return serializers.ListField(child=_identifier(), max_length=MAX_LIST, required=False)


# Properties the seed puts inside `entityDetails`, also accepted at the top level.
NESTABLE = ("tags", "creationReason", "relatedCases", "assignments")


class CaseEntityDetailsSerializer(Strict):
    type = serializers.ChoiceField(choices=CaseEntityType.choices)
    userId = _identifier(required=False, help_text="USER: the user's id (must exist).")
    paymentDetails = PaymentDetailsField(
        required=False, help_text="PAYMENT: the instrument (`method` required)."
    )
    tags = _tags()
    creationReason = CreationReasonSerializer(required=False)
    relatedCases = _related_cases()
    assignments = _assignments()

    def validate(self, attrs):
        if attrs["type"] == CaseEntityType.USER and not attrs.get("userId"):
            raise serializers.ValidationError({"userId": ["Required for a USER case."]})
        if attrs["type"] == CaseEntityType.PAYMENT and not attrs.get("paymentDetails"):
            raise serializers.ValidationError({"paymentDetails": ["Required for a PAYMENT case."]})
        return attrs


class CaseCreateSerializer(Strict):
    """`POST /api/management/cases` (seed 004 "Case - Create")."""

    caseId = _identifier()
    createdTimestamp = MillisField()
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    entityDetails = CaseEntityDetailsSerializer()
    tags = _tags()
    creationReason = CreationReasonSerializer(required=False)
    relatedCases = _related_cases()
    assignments = _assignments()

    def validate(self, attrs):
        details = attrs["entityDetails"]
        twice = {
            name: ["Given twice: here and in entityDetails."]
            for name in NESTABLE
            if name in attrs and name in details
        }
        if twice:
            raise serializers.ValidationError(twice)
        return attrs

    def to_fields(self) -> dict:
        attrs = self.validated_data
        details = attrs["entityDetails"]

        def pick(name, default):
            return details.get(name, attrs.get(name, default))

        path = "entityDetails.assignments" if "assignments" in details else "assignments"
        fields = {
            "case_id": attrs["caseId"],
            "created_at": attrs["createdTimestamp"],
            "priority": attrs["priority"],
            "entity_type": details["type"],
            "tags": _plain(list(pick("tags", []))),
            "creation_reason": pick("creationReason", {}),
            "related_cases": list(pick("relatedCases", [])),
            "assignments": resolve_assignments(pick("assignments", []), path),
        }
        if details["type"] == CaseEntityType.USER:
            fields["user_ref"] = details["userId"]
        else:
            payment = details["paymentDetails"]
            fields.update(
                payment_method=payment["method"],
                payment_details=payment["details"],
                payment_identifier=payment["identifier"],
            )
        return fields


class FileRefSerializer(Strict):
    s3Key = _required_text(64)
    filename = _text(255)
    size = serializers.IntegerField(min_value=0, required=False)


class StatusChangeSerializer(Strict):
    """`PUT .../statuses` (seed 004 "Update Status") of a case or an alert."""

    status = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.ChoiceField(choices=StatusReason.choices, required=False, allow_blank=True)
    otherReason = _text(500)
    comment = _text(MAX_COMMENT)
    files = OneOrManyField(child=FileRefSerializer(), max_length=20, required=False)
    version = serializers.IntegerField(
        min_value=1,
        max_value=2_147_483_647,
        required=False,
        help_text="The `version` you read: a 409 when someone changed it since.",
    )

    def to_kwargs(self) -> dict:
        attrs = self.validated_data
        return {
            "status": attrs["status"],
            "reason": attrs.get("reason", ""),
            "other_reason": attrs.get("otherReason", ""),
            "comment": attrs.get("comment", ""),
            "file_keys": [f["s3Key"] for f in attrs.get("files", [])],
            "expected_version": attrs.get("version"),
        }


class AlertEntityDetailsSerializer(Strict):
    type = serializers.ChoiceField(choices=AlertEntityType.choices)
    transactionIds = serializers.ListField(
        child=_identifier(max_length=200),
        max_length=1000,
        required=False,
        help_text="TRANSACTION: must exist.",
    )

    def validate(self, attrs):
        if attrs["type"] == AlertEntityType.TRANSACTION and not attrs.get("transactionIds"):
            raise serializers.ValidationError({"transactionIds": ["Required for a TRANSACTION alert."]})
        return attrs


class RuleDetailsSerializer(Strict):
    id = _required_text(40, help_text="The rule template (`R-1`...).")
    name = _required_text(300)
    action = serializers.ChoiceField(choices=RuleAction.choices)
    description = _text(5000, required=True)
    instanceId = _required_text(40, help_text="Linked to the rule instance when one has this id.")
    nature = serializers.ChoiceField(choices=RuleNature.choices, required=False)


def _alert_fields(attrs: dict) -> dict:
    fields = {}
    if "priority" in attrs:
        fields["priority"] = attrs["priority"]
    if "entityDetails" in attrs:
        fields["entity_type"] = attrs["entityDetails"]["type"]
        fields["transaction_ids"] = list(attrs["entityDetails"].get("transactionIds", []))
    if "ruleDetails" in attrs:
        rule = attrs["ruleDetails"]
        fields.update(
            rule_id=rule["id"],
            rule_name=rule["name"],
            rule_action=rule["action"],
            rule_description=rule["description"],
            rule_instance_ref=rule["instanceId"],
            rule_nature=rule.get("nature", ""),
        )
    if "tags" in attrs:
        fields["tags"] = _plain(list(attrs["tags"]))
    if "creationReason" in attrs:
        fields["creation_reason"] = attrs["creationReason"]
    if "assignments" in attrs:
        fields["assignments"] = resolve_assignments(attrs["assignments"], "assignments")
    return fields


class AlertCreateSerializer(Strict):
    """`POST /api/management/alerts` (seed 004 "Alert - Create")."""

    alertId = _identifier()
    createdTimestamp = MillisField()
    caseId = _identifier(help_text="An existing case, not closed.")
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    entityDetails = AlertEntityDetailsSerializer()
    ruleDetails = RuleDetailsSerializer()
    tags = _tags()
    creationReason = CreationReasonSerializer(required=False)
    assignments = _assignments()

    def to_fields(self) -> dict:
        attrs = self.validated_data
        return {"alert_id": attrs["alertId"], "created_at": attrs["createdTimestamp"], **_alert_fields(attrs)}


class AlertUpdateSerializer(Strict):
    """`PUT /api/management/alerts/{alertId}` (seed 004 "Alert - Update"): the properties sent
    replace the stored ones, the others stay."""

    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    entityDetails = AlertEntityDetailsSerializer(required=False)
    ruleDetails = RuleDetailsSerializer(required=False)
    tags = _tags()
    creationReason = CreationReasonSerializer(required=False)
    assignments = _assignments()
    version = serializers.IntegerField(
        min_value=1,
        max_value=2_147_483_647,
        required=False,
        help_text="The `version` you read: a 409 when someone changed it since.",
    )

    def to_fields(self) -> dict:
        return _alert_fields(self.validated_data)


class FileUploadSerializer(Strict):
    file = serializers.FileField(allow_empty_file=False, use_url=False)


# --- answers (for the schema; built by cases.documents) -------------------------------------


class FileAnswerSerializer(serializers.Serializer):
    s3Key = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    contentType = serializers.CharField(allow_null=True, required=False)
    sha256 = serializers.CharField(required=False)
    uploadedTimestamp = EpochMillisField(required=False)
    uploadedBy = serializers.CharField(allow_null=True, required=False)


class AssignmentAnswerSerializer(serializers.Serializer):
    assigneeEmail = serializers.CharField(allow_null=True)
    assignedByEmail = serializers.CharField(allow_null=True)
    timestamp = EpochMillisField()


class StatusChangeAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    previousStatus = serializers.ChoiceField(choices=CaseStatus.choices, allow_null=True)
    reason = serializers.ChoiceField(choices=StatusReason.choices, allow_null=True)
    otherReason = serializers.CharField(allow_null=True)
    comment = serializers.CharField(allow_null=True)
    timestamp = EpochMillisField()
    userEmail = serializers.CharField(allow_null=True)
    actor = serializers.CharField()
    files = FileAnswerSerializer(many=True)


class CommentAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    alertId = serializers.CharField(allow_null=True)
    userEmail = serializers.CharField(allow_null=True)
    author = serializers.CharField()
    timestamp = EpochMillisField()
    files = FileAnswerSerializer(many=True)


class CaseEntityAnswerSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CaseEntityType.choices)
    userId = serializers.CharField(required=False)
    paymentDetails = serializers.DictField(required=False)
    paymentIdentifier = serializers.CharField(required=False, allow_null=True)


class CaseListItemSerializer(serializers.Serializer):
    caseId = serializers.CharField()
    createdTimestamp = EpochMillisField()
    updatedAt = EpochMillisField()
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    caseSource = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    statusTimestamp = EpochMillisField()
    closedTimestamp = EpochMillisField(allow_null=True)
    entityDetails = CaseEntityAnswerSerializer()
    assigneeEmail = serializers.CharField(allow_null=True)
    alertCount = serializers.IntegerField()
    openAlertCount = serializers.IntegerField()
    tags = UserTagSerializer(many=True)
    version = serializers.IntegerField()


class AlertSummarySerializer(serializers.Serializer):
    alertId = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    createdTimestamp = EpochMillisField()
    entityType = serializers.ChoiceField(choices=AlertEntityType.choices)
    transactionIds = serializers.ListField(child=serializers.CharField())
    ruleId = serializers.CharField(allow_null=True)
    ruleInstanceId = serializers.CharField(allow_null=True)
    ruleName = serializers.CharField(allow_null=True)
    ruleAction = serializers.CharField(allow_null=True)
    assigneeEmail = serializers.CharField(allow_null=True)


class CaseAnswerSerializer(CaseListItemSerializer):
    creationReason = serializers.DictField(allow_null=True)
    relatedCases = serializers.ListField(child=serializers.CharField())
    assignments = AssignmentAnswerSerializer(many=True)
    alerts = AlertSummarySerializer(many=True)
    statusChanges = StatusChangeAnswerSerializer(many=True)
    comments = CommentAnswerSerializer(many=True)
    files = FileAnswerSerializer(many=True)


class AlertEntityAnswerSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=AlertEntityType.choices)
    transactionIds = serializers.ListField(child=serializers.CharField())
    screeningDetails = serializers.DictField(required=False)


class RuleDetailsAnswerSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    action = serializers.CharField(allow_null=True)
    description = serializers.CharField()
    instanceId = serializers.CharField()
    nature = serializers.CharField(allow_null=True)
    versionId = serializers.CharField(allow_null=True)


class AlertAnswerSerializer(serializers.Serializer):
    alertId = serializers.CharField()
    caseId = serializers.CharField()
    createdTimestamp = EpochMillisField()
    updatedAt = EpochMillisField()
    priority = serializers.ChoiceField(choices=CasePriority.choices)
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    statusTimestamp = EpochMillisField()
    closedTimestamp = EpochMillisField(allow_null=True)
    entityDetails = AlertEntityAnswerSerializer()
    ruleDetails = RuleDetailsAnswerSerializer()
    tags = UserTagSerializer(many=True)
    creationReason = serializers.DictField(allow_null=True)
    assigneeEmail = serializers.CharField(allow_null=True)
    assignments = AssignmentAnswerSerializer(many=True)
    statusChanges = StatusChangeAnswerSerializer(many=True)
    comments = CommentAnswerSerializer(many=True)
    files = FileAnswerSerializer(many=True)
    version = serializers.IntegerField()
