"""Response shapes of the transaction endpoints, for the OpenAPI schema (the answers
themselves are built by transactions.documents)."""

from rest_framework import serializers

from transactions.api.serializers import (
    PAYMENT_DETAILS_SCHEMA,
    AmountDetailsSerializer,
    DeviceDataSerializer,
    TransactionUpdatableAttributesSerializer,
)
from transactions.models import RuleAction, TransactionState, TransactionType
from users.api.user_serializers import EntityUserOutSerializer, IndividualUserOutSerializer
from users.api.user_serializers.requests import UserTagSerializer


class RuleDetailSerializer(serializers.Serializer):
    riskLevel = serializers.DictField(child=serializers.CharField(), help_text="Users' ongoing levels.")
    data = serializers.DictField(
        help_text="What the rule compared: the transaction's values, thresholds, aggregates."
    )


class LevelExecutionSerializer(serializers.Serializer):
    riskLevel = serializers.CharField(allow_null=True, help_text="The level whose parameters ran.")
    detail = RuleDetailSerializer()


class FalsePositiveDetailsSerializer(serializers.Serializer):
    isFalsePositive = serializers.BooleanField(
        help_text="Analysts closed enough of this rule's earlier alerts on this user as false positives."
    )
    confidenceScore = serializers.FloatField(
        help_text="The share (0-100) of those closed alerts that were false positives."
    )


class RuleHitMetaSerializer(serializers.Serializer):
    hitDirections = serializers.ListField(child=serializers.ChoiceField(choices=["ORIGIN", "DESTINATION"]))
    falsePositiveDetails = FalsePositiveDetailsSerializer(required=False)
    sanctionsDetails = serializers.ListField(child=serializers.DictField(), required=False)


class ExecutedRuleSerializer(serializers.Serializer):
    ruleInstanceId = serializers.CharField()
    id = serializers.CharField()
    ruleId = serializers.CharField()
    versionId = serializers.CharField()
    ruleName = serializers.CharField()
    ruleNameAlias = serializers.CharField()
    ruleDescription = serializers.CharField()
    ruleAction = serializers.ChoiceField(choices=RuleAction.choices)
    action = serializers.ChoiceField(choices=RuleAction.choices)
    status = serializers.CharField()
    casePriority = serializers.CharField()
    ruleHit = serializers.BooleanField()
    executedAt = serializers.IntegerField()
    executedRules = LevelExecutionSerializer(many=True)
    ruleHitMeta = RuleHitMetaSerializer(required=False)
    vars = serializers.ListField(child=serializers.DictField(), required=False)
    labels = serializers.ListField(child=serializers.CharField())
    nature = serializers.CharField()
    isShadow = serializers.BooleanField()


class RuleErrorSerializer(serializers.Serializer):
    ruleInstanceId = serializers.CharField()
    ruleId = serializers.CharField()
    error = serializers.CharField()


class RiskScoreDetailsSerializer(serializers.Serializer):
    trsScore = serializers.CharField()
    trsRiskLevel = serializers.CharField()
    originUserOrsRiskScore = serializers.CharField(required=False)
    originUserOrsRiskLevel = serializers.CharField(required=False)
    destinationUserOrsRiskScore = serializers.CharField(required=False)
    destinationUserOrsRiskLevel = serializers.CharField(required=False)


class _Verdict(serializers.Serializer):
    executedRules = ExecutedRuleSerializer(many=True)
    hitRules = ExecutedRuleSerializer(many=True)
    status = serializers.ChoiceField(choices=RuleAction.choices, help_text="The decision.")
    ruleErrors = RuleErrorSerializer(many=True)
    riskScoreDetails = RiskScoreDetailsSerializer()


class TransactionListItemSerializer(serializers.Serializer):
    """A transaction in the list: its main columns and decision (GET the transaction for the rest)."""

    transactionId = serializers.CharField(source="transaction_id")
    type = serializers.ChoiceField(choices=TransactionType.choices)
    timestamp = serializers.SerializerMethodField()
    transactionState = serializers.CharField(source="transaction_state")
    originUserId = serializers.CharField(source="origin_user_ref")
    destinationUserId = serializers.CharField(source="destination_user_ref")
    originAmount = serializers.DecimalField(
        source="origin_amount", max_digits=24, decimal_places=6, coerce_to_string=False
    )
    originCurrency = serializers.CharField(source="origin_currency")
    status = serializers.ChoiceField(choices=RuleAction.choices)
    hitRuleInstanceIds = serializers.SerializerMethodField()

    def get_timestamp(self, tx) -> int:
        from users.api.user_serializers.fields import millis

        return millis(tx.timestamp)

    def get_hitRuleInstanceIds(self, tx) -> list[str]:
        return [item["ruleInstanceId"] for item in tx.hit_rules]


class TransactionAnswerSerializer(_Verdict):
    type = serializers.ChoiceField(choices=TransactionType.choices)
    transactionId = serializers.CharField()
    timestamp = serializers.IntegerField()
    transactionState = serializers.ChoiceField(choices=TransactionState.choices, required=False)
    originUserId = serializers.CharField(required=False)
    destinationUserId = serializers.CharField(required=False)
    originAmountDetails = AmountDetailsSerializer(required=False)
    destinationAmountDetails = AmountDetailsSerializer(required=False)
    originPaymentDetails = PAYMENT_DETAILS_SCHEMA.__class__(
        component_name="PaymentDetails",
        serializers=PAYMENT_DETAILS_SCHEMA.serializers,
        resource_type_field_name="method",
        required=False,
    )
    destinationPaymentDetails = PAYMENT_DETAILS_SCHEMA.__class__(
        component_name="PaymentDetails",
        serializers=PAYMENT_DETAILS_SCHEMA.serializers,
        resource_type_field_name="method",
        required=False,
    )
    productType = serializers.CharField(required=False)
    reference = serializers.CharField(required=False)
    promotionCodeUsed = serializers.BooleanField(required=False)
    relatedTransactionIds = serializers.ListField(child=serializers.CharField())
    originDeviceData = DeviceDataSerializer(required=False)
    destinationDeviceData = DeviceDataSerializer(required=False)
    tags = UserTagSerializer(many=True)
    isFirstTransaction = serializers.BooleanField()
    originUserDetail = IndividualUserOutSerializer(required=False, help_text="Or an entity user.")
    destinationUserDetail = IndividualUserOutSerializer(required=False, help_text="Or an entity user.")


class TransactionEventAnswerSerializer(_Verdict):
    updatedTransactionAttributes = TransactionUpdatableAttributesSerializer()
    timestamp = serializers.IntegerField()
    transactionId = serializers.CharField()
    eventId = serializers.CharField()
    eventDescription = serializers.CharField()
    reason = serializers.CharField()
    metaData = DeviceDataSerializer(required=False)


__all__ = ["EntityUserOutSerializer"]
