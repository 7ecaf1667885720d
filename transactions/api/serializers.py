"""Seed 004 transaction and transaction-event bodies: validated here (400 naming each bad
property), turned into model fields for `transactions.services`."""

from __future__ import annotations

import ipaddress
from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from compliance.api.serializers import StrictFieldsMixin
from transactions.currencies import CURRENCIES, CURRENCY_CHOICES
from transactions.models import PaymentMethod, TransactionState, TransactionType
from users.api.user_serializers.fields import (
    MAX_LIST,
    CountryCodeField,
    EpochMillisField,
    JsonBooleanField,
    JsonNumberField,
    _identifier,
    _plain,
    _required_text,
    _text,
)
from users.api.user_serializers.requests import UserTagSerializer

MAX_AMOUNT = Decimal("999999999999999999.999999")  # what DecimalField(24, 6) holds


class Strict(StrictFieldsMixin, serializers.Serializer):
    pass


# One validating instance per body serializer, shared by every request and thread. A serializer
# made per request deep-copies its whole tree of nested fields first, which cost as much as the
# validation itself (issue 4 benchmark); `run_validation` keeps no state on the serializer.
_VALIDATORS: dict = {}


def validated(serializer_class, data) -> dict:
    """`data` validated by `serializer_class`, or a ValidationError with the errors by property,
    as `serializer_class(data=data).is_valid(raise_exception=True)` raises them."""
    validator = _VALIDATORS.get(serializer_class)
    if validator is None:
        validator = _VALIDATORS[serializer_class] = serializer_class()
    try:
        return validator.run_validation(data)
    except serializers.ValidationError as exc:
        detail = exc.detail
        if not isinstance(detail, dict):
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
        raise serializers.ValidationError(detail) from None


@extend_schema_field(
    {"type": "number", "minimum": 0, "maximum": 999999999999999999, "example": 35000, "multipleOf": 0.000001}
)
class AmountField(serializers.Field):
    """A JSON number, at least 0, at most 6 decimals: a Decimal inside (never a float)."""

    default_error_messages = {
        "invalid": "Expected a number, got {data_type}.",
        "negative": "Must not be negative.",
        "too_large": "Too large.",
        "precision": "At most 6 decimal places.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid", data_type=type(data).__name__)
        try:
            value = Decimal(str(data))
        except InvalidOperation:
            self.fail("invalid", data_type=type(data).__name__)
        if not value.is_finite():
            self.fail("invalid", data_type="non-finite number")
        if value < 0:
            self.fail("negative")
        if value > MAX_AMOUNT:
            self.fail("too_large")
        if value != value.quantize(Decimal("0.000001")):
            self.fail("precision")
        return value

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "enum": CURRENCY_CHOICES, "example": "PHP"})
class CurrencyField(serializers.Field):
    default_error_messages = {
        "invalid": "Expected an ISO 4217 currency code, got {data_type}.",
        "unknown": "Unknown currency '{code}'.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", data_type=type(data).__name__)
        if data.upper() not in CURRENCIES:
            self.fail("unknown", code=data[:10])
        return data.upper()


class IpAddressField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise serializers.ValidationError("Expected an IPv4 or IPv6 address.") from None


class AmountDetailsSerializer(Strict):
    transactionAmount = AmountField()
    transactionCurrency = CurrencyField()
    country = CountryCodeField(required=False)


class DeviceDataSerializer(Strict):
    batteryLevel = JsonNumberField(required=False, min_value=0, max_value=100)
    deviceLatitude = JsonNumberField(required=False, min_value=-90, max_value=90)
    deviceLongitude = JsonNumberField(required=False, min_value=-180, max_value=180)
    ipAddress = IpAddressField(required=False, max_length=45)
    deviceIdentifier = _text(200)
    vpnUsed = JsonBooleanField(required=False)
    operatingSystem = _text(200)
    deviceMaker = _text(200)
    deviceModel = _text(200)
    deviceYear = _text(10)
    appVersion = _text(50)


# --- payment details, one shape per method ------------------------------------------------


class NameSerializer(Strict):
    firstName = _text(200)
    middleName = _text(200)
    lastName = _text(200)


class CardExpirySerializer(Strict):
    month = serializers.IntegerField(min_value=1, max_value=12)
    year = serializers.IntegerField(min_value=1900, max_value=9999)


class MoneySerializer(Strict):
    amountValue = AmountField()
    amountCurrency = CurrencyField()


class PostalAddressSerializer(Strict):
    addressLines = serializers.ListField(child=_required_text(500), max_length=10, required=False)
    postcode = _text(50)
    city = _text(200)
    state = _text(200)
    country = _text(200)


def _tags():
    return UserTagSerializer(many=True, required=False, max_length=MAX_LIST)


def _method(value: str):
    return serializers.ChoiceField(choices=[value], help_text=f"Always {value} here.")


class _PaymentDetails(Strict):
    # How the payment instrument is identified for velocity and blocked-list rules.
    identifier_fields: tuple[str, ...] = ()

    @classmethod
    def identifier(cls, attrs: dict) -> str:
        parts = [str(attrs.get(name, "")).strip() for name in cls.identifier_fields]
        if not any(parts):
            return ""
        return f"{attrs['method']}:{'/'.join(parts)}".upper().replace(" ", "")[:200]


class CardDetailsSerializer(_PaymentDetails):
    method = _method("CARD")
    cardFingerprint = _text(200)
    cardIssuedCountry = CountryCodeField(required=False)
    transactionReferenceField = _text(200)
    _3dsDone = JsonBooleanField(required=False)
    nameOnCard = NameSerializer(required=False)
    cardExpiry = CardExpirySerializer(required=False)
    cardLast4Digits = serializers.RegexField(r"^[0-9]{4}$", required=False)
    cardBrand = _text(50)
    cardFunding = serializers.ChoiceField(choices=["CREDIT", "DEBIT", "PREPAID"], required=False)
    cardAuthenticated = JsonBooleanField(required=False)
    cardType = serializers.ChoiceField(choices=["VIRTUAL", "PHYSICAL"], required=False)
    paymentChannel = _text(100)
    merchantDetails = serializers.DictField(required=False)
    tags = _tags()
    identifier_fields = ("cardFingerprint",)

    def get_fields(self):
        fields = super().get_fields()
        fields["3dsDone"] = fields.pop("_3dsDone")
        return fields


class GenericBankAccountDetailsSerializer(_PaymentDetails):
    method = _method("GENERIC_BANK_ACCOUNT")
    accountNumber = _text(100)
    accountType = _text(100)
    bankName = _text(200)
    bankCode = _text(50)
    country = CountryCodeField(required=False)
    name = _text(200)
    bankAddress = PostalAddressSerializer(required=False)
    emailId = _text(254)
    specialInstructions = _text(1000)
    paymentChannel = _text(100)
    tags = _tags()
    identifier_fields = ("bankCode", "accountNumber")


class IbanDetailsSerializer(_PaymentDetails):
    method = _method("IBAN")
    BIC = serializers.RegexField(r"^[A-Za-z]{6}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?$", required=False)
    bankName = _text(200)
    bankAddress = PostalAddressSerializer(required=False)
    country = CountryCodeField(required=False)
    IBAN = serializers.RegexField(r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{10,36}$", required=False)
    name = _text(200)
    emailId = _text(254)
    bankBranchCode = _text(50)
    paymentChannel = _text(100)
    tags = _tags()
    identifier_fields = ("IBAN",)


class AchDetailsSerializer(_PaymentDetails):
    method = _method("ACH")
    routingNumber = serializers.RegexField(r"^[0-9]{9}$", required=False)
    accountNumber = _text(100)
    bankName = _text(200)
    name = _text(200)
    bankAddress = PostalAddressSerializer(required=False)
    beneficiaryName = _text(200)
    emailId = _text(254)
    tags = _tags()
    identifier_fields = ("routingNumber", "accountNumber")


class SwiftDetailsSerializer(_PaymentDetails):
    method = _method("SWIFT")
    swiftCode = serializers.RegexField(r"^[A-Za-z]{6}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?$", required=False)
    accountNumber = _text(100)
    accountType = _text(100)
    bankName = _text(200)
    name = _text(200)
    bankAddress = PostalAddressSerializer(required=False)
    specialInstructions = _text(1000)
    emailId = _text(254)
    tags = _tags()
    identifier_fields = ("swiftCode", "accountNumber")


class MpesaDetailsSerializer(_PaymentDetails):
    method = _method("MPESA")
    businessShortCode = _text(50)
    transactionType = serializers.ChoiceField(
        choices=[
            "CustomerPayBillOnline",
            "CustomerBuyGoodsOnline",
            "SalaryPayment",
            "BusinessPayment",
            "PromotionPayment",
        ],
        required=False,
    )
    phoneNumber = _text(50)
    emailId = _text(254)
    tags = _tags()
    identifier_fields = ("phoneNumber",)


class UpiDetailsSerializer(_PaymentDetails):
    method = _method("UPI")
    upiID = _text(200)
    bankProvider = _text(200)
    interfaceProvider = _text(200)
    name = _text(200)
    emailId = _text(254)
    tags = _tags()
    identifier_fields = ("upiID",)


class WalletDetailsSerializer(_PaymentDetails):
    method = _method("WALLET")
    walletType = _text(100)
    walletId = _text(200)
    paymentChannel = _text(100)
    name = _text(200)
    emailId = _text(254)
    walletPhoneNumber = _text(50)
    walletBalance = MoneySerializer(required=False)
    tags = _tags()
    identifier_fields = ("walletId",)


class CheckDetailsSerializer(_PaymentDetails):
    method = _method("CHECK")
    checkNumber = _text(100)
    checkIdentifier = _text(200)
    name = _text(200)
    deliveryStatus = serializers.ChoiceField(
        choices=["COMPLETED", "PENDING", "IN_TRANSIT", "CANCELLED", "RETURNED"], required=False
    )
    etaTimestamp = EpochMillisField(required=False)
    shippingAddress = PostalAddressSerializer(required=False)
    emailId = _text(254)
    tags = _tags()
    identifier_fields = ("checkIdentifier",)


class CashDetailsSerializer(_PaymentDetails):
    method = _method("CASH")
    identifier = _text(200)
    name = _text(200)
    address = PostalAddressSerializer(required=False)
    emailId = _text(254)
    tags = _tags()
    identifier_fields = ("identifier",)


PAYMENT_DETAILS = {
    PaymentMethod.CARD: CardDetailsSerializer,
    PaymentMethod.GENERIC_BANK_ACCOUNT: GenericBankAccountDetailsSerializer,
    PaymentMethod.IBAN: IbanDetailsSerializer,
    PaymentMethod.ACH: AchDetailsSerializer,
    PaymentMethod.SWIFT: SwiftDetailsSerializer,
    PaymentMethod.MPESA: MpesaDetailsSerializer,
    PaymentMethod.UPI: UpiDetailsSerializer,
    PaymentMethod.WALLET: WalletDetailsSerializer,
    PaymentMethod.CHECK: CheckDetailsSerializer,
    PaymentMethod.CASH: CashDetailsSerializer,
}

PAYMENT_DETAILS_SCHEMA = PolymorphicProxySerializer(
    component_name="PaymentDetails",
    serializers=list(PAYMENT_DETAILS.values()),
    resource_type_field_name="method",
    many=False,
)


@extend_schema_field(PAYMENT_DETAILS_SCHEMA)
class PaymentDetailsField(serializers.Field):
    """`{method, ...}`: validated by the serializer of its method. Answers
    `{"details": {...}, "method": ..., "identifier": "METHOD:value"}`."""

    default_error_messages = {
        "invalid": "Expected an object with a `method`.",
        "method": "Expected one of: {methods}.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        method = data.get("method")
        if not isinstance(method, str) or method not in PAYMENT_DETAILS:
            raise serializers.ValidationError(
                {"method": [self.error_messages["method"].format(methods=", ".join(PAYMENT_DETAILS))]}
            )
        serializer = PAYMENT_DETAILS[method]
        details = _plain(dict(validated(serializer, data)))
        for key, value in details.items():
            if hasattr(value, "alpha2"):
                details[key] = value.alpha2
        if "etaTimestamp" in details:
            details["etaTimestamp"] = data["etaTimestamp"]
        return {"method": method, "details": details, "identifier": serializer.identifier(details)}

    def to_representation(self, value):
        return value


class TransactionSerializer(Strict):
    """`POST /api/transactions` (seed 004 "Verify a Transaction")."""

    type = serializers.ChoiceField(choices=TransactionType.choices)
    transactionId = _identifier(max_length=200)
    timestamp = EpochMillisField()
    transactionState = serializers.ChoiceField(choices=TransactionState.choices, required=False)
    originUserId = _identifier(required=False)
    destinationUserId = _identifier(required=False)
    productType = _text(200)
    originAmountDetails = AmountDetailsSerializer(required=False)
    destinationAmountDetails = AmountDetailsSerializer(required=False)
    originPaymentDetails = PaymentDetailsField(required=False)
    destinationPaymentDetails = PaymentDetailsField(required=False)
    reference = _text(500)
    promotionCodeUsed = JsonBooleanField(required=False)
    relatedTransactionIds = serializers.ListField(
        child=_identifier(max_length=200), max_length=MAX_LIST, required=False
    )
    originDeviceData = DeviceDataSerializer(required=False)
    destinationDeviceData = DeviceDataSerializer(required=False)
    tags = _tags()

    def to_fields(self) -> dict:
        """The validated body as Transaction model fields (users as references, resolved by the service)."""
        return transaction_fields(self.validated_data)


def transaction_fields(attrs: dict) -> dict:
    """A validated `TransactionSerializer` body as Transaction model fields (users as references,
    resolved by the service)."""
    fields = {
        "transaction_id": attrs["transactionId"],
        "type": attrs["type"],
        "timestamp": attrs["timestamp"],
        # Seed 004: a transaction posted without a state is CREATED.
        "transaction_state": attrs.get("transactionState", TransactionState.CREATED),
        "origin_user_ref": attrs.get("originUserId", ""),
        "destination_user_ref": attrs.get("destinationUserId", ""),
        "product_type": attrs.get("productType", ""),
        "reference": attrs.get("reference", ""),
        "promotion_code_used": attrs.get("promotionCodeUsed"),
        "related_transaction_ids": list(attrs.get("relatedTransactionIds", [])),
        "tags": _plain(attrs.get("tags", [])),
        "origin_device_data": _plain(attrs.get("originDeviceData", {})),
        "destination_device_data": _plain(attrs.get("destinationDeviceData", {})),
    }
    for side in ("origin", "destination"):
        amount = attrs.get(f"{side}AmountDetails")
        if amount:
            fields[f"{side}_amount"] = amount["transactionAmount"]
            fields[f"{side}_currency"] = amount["transactionCurrency"]
            fields[f"{side}_country"] = amount["country"].alpha2 if amount.get("country") else ""
        payment = attrs.get(f"{side}PaymentDetails")
        if payment:
            fields[f"{side}_payment_method"] = payment["method"]
            fields[f"{side}_payment_details"] = payment["details"]
            fields[f"{side}_payment_identifier"] = payment["identifier"]
    return fields


class TransactionUpdatableAttributesSerializer(Strict):
    """`updatedTransactionAttributes`: the state, and what may change after the fact."""

    transactionState = serializers.ChoiceField(choices=TransactionState.choices)
    originAmountDetails = AmountDetailsSerializer(required=False)
    destinationAmountDetails = AmountDetailsSerializer(required=False)
    originPaymentDetails = PaymentDetailsField(required=False)
    destinationPaymentDetails = PaymentDetailsField(required=False)
    productType = _text(200)
    reference = _text(500)
    promotionCodeUsed = JsonBooleanField(required=False)
    relatedTransactionIds = serializers.ListField(
        child=_identifier(max_length=200), max_length=MAX_LIST, required=False
    )
    originDeviceData = DeviceDataSerializer(required=False)
    destinationDeviceData = DeviceDataSerializer(required=False)
    tags = _tags()


class TransactionEventSerializer(Strict):
    """`POST /api/events/transaction` (seed 004 "Create a Transaction Event")."""

    timestamp = EpochMillisField()
    transactionId = _identifier(max_length=200)
    eventId = _identifier(max_length=200, required=False)
    eventDescription = _text(5000)
    reason = _text(500)
    updatedTransactionAttributes = TransactionUpdatableAttributesSerializer()
    metaData = DeviceDataSerializer(required=False)
