"""Seed 004 bodies: individual and entity users, user events, and the documents answered for them.

Requests are validated here (unknown properties, wrong types, malformed dates, unknown
countries and bad enum values are 400s naming the property) and turned into
`users.services.user_api.UserData`, in model terms. Answers are built from the customer by
`individual_user_document` / `entity_user_document` / `user_event_document` and shaped by
the `*OutSerializer`s, which are also their OpenAPI schema.

Conventions of seed 004 kept here: timestamps are epoch milliseconds (`createdTimestamp`,
`documentIssuedDate`...), `dateOfBirth`/`dateOfRegistration` are `YYYY-MM-DD`, countries of
people and companies are ISO alpha-2 codes, the country of an address is a name (an alpha-2
or alpha-3 code is accepted too) and is answered as the name.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.serializers import StrictFieldsMixin
from compliance.reference.models import Country
from users.models import Customer, KycStatus, RiskLevel, UserEvent, UserState
from users.services.user_api import (
    DIRECTOR,
    EMAIL,
    FAX,
    ID_CARD_TYPE_NAMES,
    MOBILE,
    PHONE,
    WEBSITE,
    AssociateData,
    EventData,
    UserData,
    payload_digest,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The range of Python's datetime (years 1 to 9999), in epoch milliseconds.
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999

MAX_LIST = 100  # items in any list of a user body: generous, and bounds the work of one request


def millis(value: datetime | date | None) -> int | None:
    """Epoch milliseconds, exactly (no float rounding); a date is its midnight UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return (value - EPOCH) // timedelta(milliseconds=1)


def iso_millis(value: datetime) -> str:
    """`2024-12-08T08:33:45.467Z`, as seed 004's `updatedAt`."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- fields --------------------------------------------------------------------------------


# Request schemas are exact enough that a body they allow is accepted (the API fuzz test
# holds us to it): ranges, patterns and country lists are in the schema, not only in code.
EPOCH_MILLIS_SCHEMA = {"type": "integer", "format": "int64", "minimum": MIN_MS, "maximum": MAX_MS}
# Text without NUL (PostgreSQL cannot store it), and text with something besides blanks.
NO_NUL = RegexValidator(r"^[^\x00]*$", "Null characters are not allowed.")
NOT_BLANK = RegexValidator(r"^[^\x00]*[^\x00\s][^\x00]*$", "This field may not be blank.")
ADDRESS_LINE = RegexValidator(r"^[^\x00\r\n]*$", "A line must not contain a line break.")


def _iso_countries() -> list[dict]:
    """The ISO 3166-1 table the reference data was loaded from: for the schema, which is built
    without a database."""
    path = Path(__file__).resolve().parents[2] / "compliance" / "reference" / "data" / "countries.json"
    return json.loads(path.read_text(encoding="utf-8"))["countries"]


_COUNTRIES = _iso_countries()
ALPHA2_PATTERN = "^(" + "|".join(sorted(c["alpha2"] for c in _COUNTRIES)) + ")$"
COUNTRY_NAME_PATTERN = "^(" + "|".join(re.escape(c["name"]) for c in _COUNTRIES) + ")$"


@extend_schema_field(EPOCH_MILLIS_SCHEMA)
class EpochMillisField(serializers.Field):
    """A point in time as epoch milliseconds; an aware UTC datetime inside."""

    default_error_messages = {
        "invalid": "Expected epoch milliseconds (an integer), got {data_type}.",
        "range": "Out of range.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):  # 1.0 too: the schema says integer
            self.fail("invalid", data_type=type(data).__name__)
        if not MIN_MS <= data <= MAX_MS:
            self.fail("range")
        return EPOCH + timedelta(milliseconds=data)

    def to_representation(self, value):
        return millis(value)


@extend_schema_field(EPOCH_MILLIS_SCHEMA)
class EpochMillisDateField(EpochMillisField):
    """A day sent as epoch milliseconds (`documentIssuedDate`): stored as its UTC date,
    answered as that day's midnight UTC."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).date()


def _country_index(field) -> dict[str, dict[str, Country]]:
    """Active countries by alpha-2, alpha-3 and lower-case name, loaded once per request body."""
    root = field.root
    index = getattr(root, "_country_index", None)
    if index is None:
        index = {"alpha2": {}, "alpha3": {}, "name": {}}
        for country in Country.objects.filter(is_active=True):
            index["alpha2"][country.alpha2] = country
            index["alpha3"][country.alpha3] = country
            index["name"][country.name.lower()] = country
        root._country_index = index
    return index


@extend_schema_field({"type": "string", "pattern": ALPHA2_PATTERN, "example": "DE"})
class CountryCodeField(serializers.Field):
    """An ISO 3166-1 alpha-2 code (any case) of an active country; answered upper case."""

    default_error_messages = {
        "invalid": "Expected an ISO 3166-1 alpha-2 country code, got {data_type}.",
        "unknown": "Unknown country code '{code}'.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", data_type=type(data).__name__)
        country = _country_index(self)["alpha2"].get(data.upper()) if len(data) == 2 else None
        if country is None:
            self.fail("unknown", code=data[:10])
        return country

    def to_representation(self, value):
        return value.alpha2


@extend_schema_field(
    {
        "type": "string",
        "pattern": COUNTRY_NAME_PATTERN,
        "example": "Germany",
        "description": "ISO 3166-1 English short name, any case; alpha-2 and alpha-3 codes are accepted too.",
    }
)
class CountryNameField(serializers.Field):
    """A country name, or an alpha-2 / alpha-3 code, any case; answered as the name."""

    default_error_messages = {
        "invalid": "Expected a country name or ISO code, got {data_type}.",
        "unknown": "Unknown country '{name}'.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", data_type=type(data).__name__)
        index = _country_index(self)
        text = data.strip()
        country = index["name"].get(text.lower())
        if country is None and len(text) == 2:
            country = index["alpha2"].get(text.upper())
        if country is None and len(text) == 3:
            country = index["alpha3"].get(text.upper())
        if country is None:
            self.fail("unknown", name=data[:100])
        return country

    def to_representation(self, value):
        return value.name


class TextField(serializers.CharField):
    """A JSON string, kept as sent (not trimmed: the schema's lengths and patterns hold for
    what is stored); DRF's CharField would also take numbers."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JsonBooleanField(serializers.BooleanField):
    """`true` or `false` only (DRF's BooleanField also takes "yes", 1...)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=str(data)[:20])
        return data


class JsonNumberField(serializers.FloatField):
    """A JSON number only (DRF's FloatField also takes numeric strings)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class IsoDateField(serializers.DateField):
    """`YYYY-MM-DD` only (Python's ISO parser also takes `20240101` and week dates)."""

    def to_internal_value(self, value):
        if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


def _strings(max_length=200):
    """A list of short texts (`sourceOfFunds`, `businessIndustry`...): free text in seed 004."""
    return serializers.ListField(child=_required_text(max_length), max_length=MAX_LIST, required=False)


def _text(max_length, **kwargs):
    """Optional text, may be blank."""
    kwargs.setdefault("required", False)
    return TextField(max_length=max_length, allow_blank=True, validators=[NO_NUL], **kwargs)


def _required_text(max_length, **kwargs):
    """Text with something in it (surrounding blanks are trimmed)."""
    return TextField(max_length=max_length, validators=[NOT_BLANK], **kwargs)


def _identifier(**kwargs):
    """A `userId` or `eventId`: kept exactly as sent, not blank."""
    return TextField(max_length=100, validators=[NOT_BLANK], **kwargs)


class _Constant(serializers.Field):
    """`userType`: the one value the path allows. A pattern rather than an enum in the schema,
    so the two kinds' values do not collide as enum names."""

    value = ""

    def to_internal_value(self, data):
        if data != self.value:
            raise serializers.ValidationError(f"Must be {self.value} here.")
        return data


@extend_schema_field({"type": "string", "pattern": "^INDIVIDUAL$", "example": "INDIVIDUAL"})
class IndividualTypeField(_Constant):
    value = "INDIVIDUAL"


@extend_schema_field({"type": "string", "pattern": "^ENTITY$", "example": "ENTITY"})
class EntityTypeField(_Constant):
    value = "ENTITY"


def _plain(value):
    """Validated data without OrderedDicts, for JSON fields and digests."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- request bodies ----------------------------------------------------------------------------


class Strict(StrictFieldsMixin, serializers.Serializer):
    pass


class UserTagSerializer(Strict):
    key = _required_text(200)
    value = _text(1000, required=True)


def _tags():
    return UserTagSerializer(many=True, required=False, max_length=MAX_LIST)


class UserNameSerializer(Strict):
    firstName = _text(100)
    middleName = _text(100)
    lastName = _text(100)


class UserDetailsSerializer(Strict):
    name = UserNameSerializer(required=False)
    dateOfBirth = IsoDateField(required=False, allow_null=True)
    countryOfResidence = CountryCodeField(required=False, allow_null=True)
    countryOfNationality = CountryCodeField(required=False, allow_null=True)


class UserShareholderDetailsSerializer(UserDetailsSerializer):
    userCategory = serializers.ChoiceField(
        choices=["INDIVIDUAL"], required=False, help_text="Shareholders and directors are individuals."
    )


class UserLegalDocumentSerializer(Strict):
    documentType = _required_text(100, help_text="passport, national_id, driving_licence...")
    documentNumber = _required_text(100)
    documentIssuedDate = EpochMillisDateField(required=False, allow_null=True)
    documentExpirationDate = EpochMillisDateField(required=False, allow_null=True)
    documentIssuedCountry = CountryCodeField(required=False, allow_null=True)
    tags = _tags()


class UserAddressSerializer(Strict):
    # At most 5 lines of 99 characters: they are kept as one text of at most 500.
    addressLines = serializers.ListField(
        child=TextField(max_length=99, allow_blank=True, validators=[ADDRESS_LINE]), max_length=5
    )
    postcode = _text(30)
    city = _text(200)
    state = _text(200)
    country = CountryNameField(required=False, allow_null=True)
    addressType = _text(50)
    tags = _tags()


class UserContactDetailsSerializer(Strict):
    emailIds = _strings(300)
    contactNumbers = _strings(300)
    faxNumbers = _strings(300)
    websites = _strings(300)
    addresses = UserAddressSerializer(many=True, required=False, max_length=MAX_LIST)


class UserEmploymentDetailsSerializer(Strict):
    businessIndustry = _strings()


class UserStateDetailsSerializer(Strict):
    """`{state, reason}`. Seed 004's own event sample sends `status` for `state`: it is accepted
    as `state` (and named in errors as sent), though the schema shows `state` only."""

    state = serializers.ChoiceField(choices=UserState.choices)
    reason = _text(500)

    def to_internal_value(self, data):
        if not (isinstance(data, dict) and "status" in data):
            return super().to_internal_value(data)
        if "state" in data:
            raise serializers.ValidationError({"status": ["Send `state` or its alias `status`, not both."]})
        data = {("state" if key == "status" else key): value for key, value in data.items()}
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and "state" in detail:
                detail = {("status" if key == "state" else key): value for key, value in detail.items()}
            raise serializers.ValidationError(detail) from None


class UserKycStatusDetailsSerializer(Strict):
    status = serializers.ChoiceField(choices=KycStatus.choices)
    reason = _text(500)


class UserPepStatusSerializer(Strict):
    isPepHit = JsonBooleanField()
    pepCountry = CountryCodeField(required=False, allow_null=True)
    pepRank = _text(50)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value.get("pepCountry") is not None:
            value["pepCountry"] = value["pepCountry"].alpha2
        return value


class UserCompanyGeneralDetailsSerializer(Strict):
    legalName = _required_text(300)
    businessIndustry = _strings()
    mainProductsServicesSold = _strings()


class UserLegalEntitySerializer(Strict):
    companyGeneralDetails = UserCompanyGeneralDetailsSerializer()


class UserCompanyRegistrationDetailsSerializer(Strict):
    registrationIdentifier = _text(100)
    registrationCountry = CountryCodeField(required=False, allow_null=True)
    taxResidenceCountry = CountryCodeField(required=False, allow_null=True)
    taxIdentifier = _text(100)
    legalEntityType = _text(
        100, help_text="LLC, LTD, PLC, TRUST, FOUNDATION, SOLE_PROPRIETORSHIP, NON_PROFIT..."
    )
    dateOfRegistration = IsoDateField(required=False, allow_null=True)


class UserAssociatePersonSerializer(Strict):
    """A shareholder or director: an individual, kept as a person customer of its own."""

    userId = _identifier(
        required=False,
        help_text="Its own user id; without one it is `{entity userId}-SH{n}` (`-DIR{n}` for directors).",
    )
    generalDetails = UserShareholderDetailsSerializer(required=False)
    ownershipPercentage = JsonNumberField(
        min_value=0.01, max_value=100, required=False, allow_null=True, help_text="Kept to 2 decimals."
    )

    def validate_ownershipPercentage(self, value):
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class _UserSerializer(Strict):
    """What individual and entity users share; `to_user_data()` maps it onto the model."""

    userId = _identifier()
    createdTimestamp = EpochMillisField(help_text="When the user registered, epoch milliseconds.")
    contactDetails = UserContactDetailsSerializer(required=False)
    reasonForAccountOpening = _strings()
    sourceOfFunds = _strings()
    tags = _tags()
    pepStatus = UserPepStatusSerializer(many=True, required=False, max_length=MAX_LIST)
    userStateDetails = UserStateDetailsSerializer(required=False)
    kycStatusDetails = UserKycStatusDetailsSerializer(required=False)

    def to_user_data(self, attrs: dict | None = None, *, user_id: str | None = None) -> UserData:
        """The validated body (this serializer's, or `attrs` when it is nested) in model terms."""
        attrs = self.validated_data if attrs is None else attrs
        data = UserData(user_id=user_id or attrs["userId"])
        fields = data.fields
        if "createdTimestamp" in attrs:
            fields["registered_at"] = attrs["createdTimestamp"]
        for prop, field in (
            ("reasonForAccountOpening", "reason_for_account_opening"),
            ("sourceOfFunds", "source_of_funds"),
            ("tags", "tags"),
            ("pepStatus", "pep_status"),
        ):
            if prop in attrs:
                fields[field] = _plain(attrs[prop])
        if "userStateDetails" in attrs:
            fields["user_state"] = attrs["userStateDetails"]["state"]
            fields["user_state_reason"] = attrs["userStateDetails"].get("reason", "")
        if "kycStatusDetails" in attrs:
            fields["kyc_status"] = attrs["kycStatusDetails"]["status"]
            fields["kyc_status_reason"] = attrs["kycStatusDetails"].get("reason", "")
        contacts = attrs.get("contactDetails", {})
        contact_lists = (
            ("emailIds", EMAIL),
            ("contactNumbers", PHONE),
            ("faxNumbers", FAX),
            ("websites", WEBSITE),
        )
        for prop, means_type in contact_lists:
            if prop in contacts:
                data.contacts[means_type] = list(contacts[prop])
        if "addresses" in contacts:
            data.addresses = [_address_row(address) for address in contacts["addresses"]]
        self.map_kind(attrs, data)
        return data

    def map_kind(self, attrs, data: UserData) -> None:
        raise NotImplementedError


def _person_fields(details: dict) -> dict:
    fields = {}
    for prop, field in (
        ("firstName", "first_name"),
        ("middleName", "middle_name"),
        ("lastName", "last_name"),
    ):
        if prop in details.get("name", {}):
            fields[field] = details["name"][prop]
    for prop, field in (
        ("dateOfBirth", "date_birth"),
        ("countryOfResidence", "country_residence"),
        ("countryOfNationality", "country_nationality"),
    ):
        if prop in details:
            fields[field] = details[prop]
    return fields


def _address_row(address: dict) -> dict:
    return {
        "street_name": "\n".join(address["addressLines"]),
        "postcode": address.get("postcode", ""),
        "city": address.get("city", ""),
        "state": address.get("state", ""),
        "country_id": address["country"].pk if address.get("country") else None,
        "address_type": address.get("addressType", ""),
        "tags": _plain(address.get("tags", [])),
    }


def _id_card_row(document: dict) -> dict:
    country = document.get("documentIssuedCountry")
    return {
        "document_type_name": document["documentType"],
        "number": document["documentNumber"],
        "issued_date": document.get("documentIssuedDate"),
        "expiration_date": document.get("documentExpirationDate"),
        "issued_country_id": country.pk if country else None,
        "tags": _plain(document.get("tags", [])),
    }


class IndividualUserSerializer(_UserSerializer):
    """`POST /api/individual/users`."""

    userType = IndividualTypeField(required=False)
    userDetails = UserDetailsSerializer(required=False)
    legalDocuments = UserLegalDocumentSerializer(many=True, required=False, max_length=MAX_LIST)
    employmentDetails = UserEmploymentDetailsSerializer(required=False)

    def map_kind(self, attrs, data: UserData) -> None:
        data.fields.update(_person_fields(attrs.get("userDetails", {})))
        if "businessIndustry" in attrs.get("employmentDetails", {}):
            data.fields["business_industry"] = list(attrs["employmentDetails"]["businessIndustry"])
        if "legalDocuments" in attrs:
            data.id_cards = [_id_card_row(document) for document in attrs["legalDocuments"]]


class EntityUserSerializer(_UserSerializer):
    """`POST /api/entity/users`. Identity documents (`legalDocuments`) belong to individuals:
    an entity's are refused (its company documents are filed through `/api/customer/{ref}/documents`)."""

    userType = EntityTypeField(required=False)
    legalEntity = UserLegalEntitySerializer()
    companyRegistrationDetails = UserCompanyRegistrationDetailsSerializer(required=False)
    shareHolders = UserAssociatePersonSerializer(many=True, required=False, max_length=MAX_LIST)
    directors = UserAssociatePersonSerializer(many=True, required=False, max_length=MAX_LIST)

    def to_internal_value(self, data):
        if isinstance(data, dict) and "legalDocuments" in data:
            if data["legalDocuments"] != []:  # what GET answers for an entity is accepted back
                raise serializers.ValidationError(
                    {
                        "legalDocuments": [
                            "Identity documents belong to individual users; file an entity's "
                            "documents through /api/customer/{userId}/documents."
                        ]
                    }
                )
            data = {key: value for key, value in data.items() if key != "legalDocuments"}
        return super().to_internal_value(data)

    def map_kind(self, attrs, data: UserData) -> None:
        general = attrs.get("legalEntity", {}).get("companyGeneralDetails", {})
        for prop, field in (
            ("legalName", "registered_name"),
            ("businessIndustry", "company_business_industry"),
            ("mainProductsServicesSold", "main_products_services"),
        ):
            if prop in general:
                data.fields[field] = _plain(general[prop])
        registration = attrs.get("companyRegistrationDetails", {})
        for prop, field in (
            ("registrationIdentifier", "registration_no"),
            ("registrationCountry", "country_incorporation"),
            ("taxResidenceCountry", "country_domiciliary"),
            ("taxIdentifier", "tax_identifier"),
            ("dateOfRegistration", "date_incorporation"),
        ):
            if prop in registration:
                data.fields[field] = registration[prop]
        if "legalEntityType" in registration:
            data.fields["legal_entity_type"] = registration["legalEntityType"]
        for prop, attr in (("shareHolders", "shareholders"), ("directors", "directors")):
            if prop in attrs:
                setattr(data, attr, [_associate(item) for item in attrs[prop]])


def _associate(item: dict) -> AssociateData:
    associate = AssociateData(
        user_id=item.get("userId"), fields=_person_fields(item.get("generalDetails", {}))
    )
    if "ownershipPercentage" in item:
        associate.percentage = item["ownershipPercentage"]
    return associate


# Event attributes: the same bodies, every property optional (the event changes what it sends).


class _AttributesMixin:
    """An event's attributes: every property optional. A `userId` (seed 002 sends one) must be
    the event's; it is accepted though not in the schema, where it could only disagree."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and "userId" in data:
            event_user_id = self.parent.initial_data.get("userId") if self.parent is not None else None
            if data["userId"] != event_user_id:
                raise serializers.ValidationError({"userId": ["Differs from the event's userId."]})
            data = {key: value for key, value in data.items() if key != "userId"}
        return super().to_internal_value(data)


class IndividualUserAttributesSerializer(_AttributesMixin, IndividualUserSerializer):
    userId = None
    createdTimestamp = EpochMillisField(required=False)


class UserCompanyGeneralDetailsAttributesSerializer(UserCompanyGeneralDetailsSerializer):
    legalName = serializers.CharField(max_length=300, required=False)


class UserLegalEntityAttributesSerializer(UserLegalEntitySerializer):
    companyGeneralDetails = UserCompanyGeneralDetailsAttributesSerializer(required=False)


class EntityUserAttributesSerializer(_AttributesMixin, EntityUserSerializer):
    userId = None
    createdTimestamp = EpochMillisField(required=False)
    legalEntity = UserLegalEntityAttributesSerializer(required=False)


class _UserEventSerializer(Strict):
    """`POST /api/events/{individual|entity}/user`. The attributes come as `updatedAttributes`
    (seed 004) or under seed 002's name for the kind (`alias`): accepted, named as sent in
    errors, not in the schema (one name for one thing there)."""

    alias = ""

    timestamp = EpochMillisField(help_text="When the event happened, epoch milliseconds.")
    userId = _identifier()
    eventId = _identifier(required=False, help_text="Generated (uuid4 hex) when absent.")
    reason = _text(500)
    eventDescription = _text(5000)

    def to_internal_value(self, data):
        if not (isinstance(data, dict) and self.alias in data):
            return super().to_internal_value(data)
        if "updatedAttributes" in data:
            raise serializers.ValidationError(
                {self.alias: ["Send the attributes once, as `updatedAttributes`."]}
            )
        renamed = {("updatedAttributes" if key == self.alias else key): value for key, value in data.items()}
        try:
            return super().to_internal_value(renamed)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict):
                detail = {
                    (self.alias if key == "updatedAttributes" else key): value
                    for key, value in detail.items()
                }
            raise serializers.ValidationError(detail) from None

    def to_event_data(self) -> EventData:
        attrs = self.validated_data
        attributes, raw = None, {}
        if "updatedAttributes" in attrs:
            nested = self.fields["updatedAttributes"]
            attributes = nested.to_user_data(attrs["updatedAttributes"], user_id=attrs["userId"])
            raw = _plain(self.initial_data.get("updatedAttributes", self.initial_data.get(self.alias)))
        return EventData(
            user_id=attrs["userId"],
            timestamp=attrs["timestamp"],
            event_id=attrs.get("eventId"),
            reason=attrs.get("reason", ""),
            description=attrs.get("eventDescription", ""),
            attributes=attributes,
            raw_attributes=raw,
            digest=payload_digest(self.initial_data),
        )


class IndividualUserEventSerializer(_UserEventSerializer):
    alias = "updatedConsumerUserAttributes"

    updatedAttributes = IndividualUserAttributesSerializer(
        required=False, help_text="Also accepted as `updatedConsumerUserAttributes` (seed 002)."
    )


class EntityUserEventSerializer(_UserEventSerializer):
    alias = "updatedBusinessUserAttributes"

    updatedAttributes = EntityUserAttributesSerializer(
        required=False, help_text="Also accepted as `updatedBusinessUserAttributes` (seed 002)."
    )


# --- answers ---------------------------------------------------------------------------------


class UserTagOutSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_blank=True)


class UserAddressTagOutSerializer(UserTagOutSerializer):
    _id = serializers.CharField()
    id = serializers.CharField()


class UserAddressOutSerializer(serializers.Serializer):
    addressLines = serializers.ListField(child=serializers.CharField())
    postcode = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    state = serializers.CharField(required=False)
    country = serializers.CharField(required=False)
    addressType = serializers.CharField(required=False)
    tags = UserAddressTagOutSerializer(many=True)
    _id = serializers.CharField()
    id = serializers.CharField()


class UserContactDetailsOutSerializer(serializers.Serializer):
    emailIds = serializers.ListField(child=serializers.CharField())
    contactNumbers = serializers.ListField(child=serializers.CharField())
    websites = serializers.ListField(child=serializers.CharField())
    addresses = UserAddressOutSerializer(many=True)
    faxNumbers = serializers.ListField(child=serializers.CharField())


class UserNameOutSerializer(serializers.Serializer):
    firstName = serializers.CharField(required=False)
    middleName = serializers.CharField(required=False)
    lastName = serializers.CharField(required=False)


class UserDetailsOutSerializer(serializers.Serializer):
    name = UserNameOutSerializer()
    dateOfBirth = serializers.DateField(required=False)
    countryOfResidence = serializers.CharField(required=False)
    countryOfNationality = serializers.CharField(required=False)


class UserShareholderDetailsOutSerializer(UserDetailsOutSerializer):
    userCategory = serializers.CharField()


class UserCompanyGeneralDetailsOutSerializer(serializers.Serializer):
    legalName = serializers.CharField(required=False)
    businessIndustry = serializers.ListField(child=serializers.CharField())
    mainProductsServicesSold = serializers.ListField(child=serializers.CharField())


class UserLegalEntityOutSerializer(serializers.Serializer):
    companyGeneralDetails = UserCompanyGeneralDetailsOutSerializer()


class UserEmploymentDetailsOutSerializer(serializers.Serializer):
    businessIndustry = serializers.ListField(child=serializers.CharField())


# Enumerations are plain strings in answers: each choice set has one name in the schema, on the request side.


class UserStateDetailsOutSerializer(serializers.Serializer):
    state = serializers.CharField(
        help_text="UNACCEPTABLE, TERMINATED, ACTIVE, DORMANT, CREATED, SUSPEND, BLOCKED"
    )
    reason = serializers.CharField(allow_blank=True)


class UserKycStatusDetailsOutSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="SUCCESSFUL, FAILED, NOT_STARTED, IN_PROGRESS, EXPIRED, NEW...")
    reason = serializers.CharField(allow_blank=True)


class UserLegalDocumentOutSerializer(serializers.Serializer):
    documentType = serializers.CharField()
    documentNumber = serializers.CharField()
    documentIssuedDate = serializers.IntegerField(required=False)
    documentExpirationDate = serializers.IntegerField(required=False)
    documentIssuedCountry = serializers.CharField(required=False)
    tags = UserTagOutSerializer(many=True)


class UserPepStatusOutSerializer(serializers.Serializer):
    isPepHit = serializers.BooleanField()
    pepCountry = serializers.CharField(required=False, allow_null=True)
    pepRank = serializers.CharField(required=False, allow_blank=True)


RISK_LEVELS = ", ".join(RiskLevel.values)


class UserRiskScoreDetailsOutSerializer(serializers.Serializer):
    irsRiskScore = serializers.IntegerField(
        allow_null=True, help_text="Onboarding score (IRS, seed 002 KYC)."
    )
    irsRiskLevel = serializers.CharField(allow_null=True, help_text=RISK_LEVELS)
    orsRiskScore = serializers.IntegerField(help_text="Ongoing effective score (ORS, seed 002 CRA).")
    orsRiskLevel = serializers.CharField(help_text=RISK_LEVELS)


class UserCompanyRegistrationDetailsOutSerializer(serializers.Serializer):
    registrationIdentifier = serializers.CharField(required=False)
    registrationCountry = serializers.CharField(required=False)
    taxResidenceCountry = serializers.CharField(required=False)
    taxIdentifier = serializers.CharField(required=False)
    legalEntityType = serializers.CharField(required=False)
    dateOfRegistration = serializers.DateField(required=False)


class UserAssociatePersonOutSerializer(serializers.Serializer):
    userId = serializers.CharField()
    generalDetails = UserShareholderDetailsOutSerializer()
    ownershipPercentage = serializers.FloatField(required=False)


def _rules():
    return serializers.ListField(child=serializers.DictField())


class _UserOutSerializer(serializers.Serializer):
    legalEntity = UserLegalEntityOutSerializer()
    contactDetails = UserContactDetailsOutSerializer()
    employmentDetails = UserEmploymentDetailsOutSerializer()
    userStateDetails = UserStateDetailsOutSerializer()
    kycStatusDetails = UserKycStatusDetailsOutSerializer()
    userId = serializers.CharField()
    createdTimestamp = serializers.IntegerField()
    updatedTimestamp = serializers.IntegerField()
    legalDocuments = UserLegalDocumentOutSerializer(many=True)
    reasonForAccountOpening = serializers.ListField(child=serializers.CharField())
    sourceOfFunds = serializers.ListField(child=serializers.CharField())
    tags = UserTagOutSerializer(many=True)
    pepStatus = UserPepStatusOutSerializer(many=True)
    updatedAt = serializers.CharField(help_text="ISO 8601, UTC, milliseconds.")
    executedRules = _rules()
    hitRules = _rules()
    riskScoreDetails = UserRiskScoreDetailsOutSerializer()


class IndividualUserOutSerializer(_UserOutSerializer):
    userDetails = UserDetailsOutSerializer()
    userType = serializers.CharField(help_text="INDIVIDUAL")


class EntityUserOutSerializer(_UserOutSerializer):
    userType = serializers.CharField(help_text="ENTITY")
    companyRegistrationDetails = UserCompanyRegistrationDetailsOutSerializer(required=False)
    shareHolders = UserAssociatePersonOutSerializer(many=True)
    directors = UserAssociatePersonOutSerializer(many=True)


class IndividualUserEventResultSerializer(IndividualUserOutSerializer):
    eventId = serializers.CharField()


class EntityUserEventResultSerializer(EntityUserOutSerializer):
    eventId = serializers.CharField()


class UserEventOutSerializer(serializers.Serializer):
    updatedAttributes = serializers.DictField(
        help_text="The attributes as sent, completed with the empty lists and objects of a user body."
    )
    timestamp = serializers.IntegerField()
    eventId = serializers.CharField()
    userId = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    eventDescription = serializers.CharField(allow_blank=True)
    updatedAt = serializers.CharField()
    tags = serializers.ListField(child=serializers.DictField())
    pepStatus = serializers.ListField(child=serializers.DictField())
    legalDocuments = serializers.ListField(child=serializers.DictField())
    executedRules = _rules()
    hitRules = _rules()
    riskScoreDetails = UserRiskScoreDetailsOutSerializer()


# --- building the answers --------------------------------------------------------------------


def _drop_empty(data: dict) -> dict:
    return {key: value for key, value in data.items() if value not in ("", None)}


def _name(customer: Customer) -> dict:
    return _drop_empty(
        {"firstName": customer.first_name, "middleName": customer.middle_name, "lastName": customer.last_name}
    )


def _person_details(customer: Customer) -> dict:
    return _drop_empty(
        {
            "name": _name(customer),
            "dateOfBirth": customer.date_birth,
            "countryOfResidence": customer.country_residence.alpha2 if customer.country_residence else None,
            "countryOfNationality": customer.country_nationality.alpha2
            if customer.country_nationality
            else None,
        }
    )


def _address(address) -> dict:
    ref = str(address.pk)
    data = _drop_empty(
        {
            "addressLines": address.street_name.split("\n") if address.street_name else [],
            "postcode": address.postcode,
            "city": address.city,
            "state": address.state,
            "country": address.country.name if address.country else None,
            "addressType": address.address_type,
        }
    )
    data["addressLines"] = data.get("addressLines", [])
    # Tags have no rows of their own: their id is the address's and their position.
    data["tags"] = [
        {**tag, "_id": f"{ref}-{i}", "id": f"{ref}-{i}"} for i, tag in enumerate(address.tags or [])
    ]
    data["_id"] = data["id"] = ref
    return data


def _contact_details(customer: Customer) -> dict:
    by_type: dict[int, list[str]] = {}
    for means in customer.communication_means.all():
        means_type = (
            PHONE if means.communication_means_type_id == MOBILE else means.communication_means_type_id
        )
        by_type.setdefault(means_type, []).append(means.value)
    return {
        "emailIds": by_type.get(EMAIL, []),
        "contactNumbers": by_type.get(PHONE, []),
        "websites": by_type.get(WEBSITE, []),
        "addresses": [_address(address) for address in customer.addresses.all()],
        "faxNumbers": by_type.get(FAX, []),
    }


def _legal_document(card) -> dict:
    return _drop_empty(
        {
            "documentType": card.document_type_name or ID_CARD_TYPE_NAMES.get(card.id_card_type_id, "other"),
            "documentNumber": card.number,
            "documentIssuedDate": millis(card.issued_date),
            "documentExpirationDate": millis(card.expiration_date),
            "documentIssuedCountry": card.issued_country.alpha2 if card.issued_country else None,
        }
    ) | {"tags": list(card.tags or [])}


def risk_score_details(customer: Customer, *, ors_score=None, ors_level=None) -> dict:
    return {
        "irsRiskScore": customer.onboarding_risk_score,
        "irsRiskLevel": customer.onboarding_risk_level or None,
        "orsRiskScore": customer.risk_effective_score if ors_score is None else ors_score,
        "orsRiskLevel": customer.risk_level if ors_level is None else ors_level,
    }


def _user_common(customer: Customer) -> dict:
    return {
        "contactDetails": _contact_details(customer),
        "userStateDetails": {"state": customer.user_state, "reason": customer.user_state_reason},
        "kycStatusDetails": {"status": customer.kyc_status, "reason": customer.kyc_status_reason},
        "userId": customer.external_ref,
        "createdTimestamp": millis(customer.registered_at),
        "updatedTimestamp": millis(customer.updated_at),
        "reasonForAccountOpening": customer.reason_for_account_opening or [],
        "sourceOfFunds": customer.source_of_funds or [],
        "tags": customer.tags or [],
        "pepStatus": customer.pep_status or [],
        "updatedAt": iso_millis(customer.updated_at),
        "executedRules": customer.executed_rules or [],
        "hitRules": customer.hit_rules or [],
        "riskScoreDetails": risk_score_details(customer),
    }


def individual_user_document(customer: Customer, **extra) -> dict:
    """The seed 004 individual user of a person customer (its id cards, addresses, contacts prefetched)."""
    data = {
        "legalEntity": {"companyGeneralDetails": {"businessIndustry": [], "mainProductsServicesSold": []}},
        "userDetails": _person_details(customer),
        "employmentDetails": {"businessIndustry": customer.business_industry or []},
        "userType": "INDIVIDUAL",
        "legalDocuments": [_legal_document(card) for card in customer.id_cards.all()],
        **_user_common(customer),
        **extra,
    }
    serializer = IndividualUserEventResultSerializer if "eventId" in extra else IndividualUserOutSerializer
    return serializer(data).data


def _associate_document(person: Customer, percentage=None) -> dict:
    data = {
        "userId": person.external_ref,
        "generalDetails": _person_details(person) | {"userCategory": "INDIVIDUAL"},
    }
    if percentage is not None:
        data["ownershipPercentage"] = float(percentage)
    return data


def entity_user_document(customer: Customer, **extra) -> dict:
    """The seed 004 entity user of an organisation customer, with its person shareholders and directors."""
    general = {
        "legalName": customer.registered_name or None,
        "businessIndustry": customer.company_business_industry or [],
        "mainProductsServicesSold": customer.main_products_services or [],
    }
    registration = _drop_empty(
        {
            "registrationIdentifier": customer.registration_no,
            "registrationCountry": customer.country_incorporation.alpha2
            if customer.country_incorporation
            else None,
            "taxResidenceCountry": customer.country_domiciliary.alpha2
            if customer.country_domiciliary
            else None,
            "taxIdentifier": customer.tax_identifier,
            "legalEntityType": customer.legal_entity_type,
            "dateOfRegistration": customer.date_incorporation,
        }
    )
    data = {
        "legalEntity": {"companyGeneralDetails": _drop_empty(general)},
        "employmentDetails": {"businessIndustry": []},
        "userType": "ENTITY",
        "legalDocuments": [],
        **_user_common(customer),
        "shareHolders": [
            _associate_document(stake.holder, stake.percentage)
            for stake in customer.stakes_in.all()
            if stake.holder.is_person and stake.holder.deleted_at is None
        ],
        "directors": [
            _associate_document(association.associate)
            for association in customer.roles_in.all()
            if association.role_id == DIRECTOR
            and association.associate.is_person
            and association.associate.deleted_at is None
        ],
        **extra,
    }
    if registration:
        data["companyRegistrationDetails"] = registration
    serializer = EntityUserEventResultSerializer if "eventId" in extra else EntityUserOutSerializer
    return serializer(data).data


def _attributes_with_defaults(attributes: dict, kind: str) -> dict:
    """An event's attributes as sent, completed as seed 004's "Retrieve a User Event" shows them."""
    sent = dict(attributes)
    legal_entity = dict(sent.pop("legalEntity", None) or {})
    general = {
        "businessIndustry": [],
        "mainProductsServicesSold": [],
        **(legal_entity.get("companyGeneralDetails") or {}),
    }
    contacts = {
        "emailIds": [],
        "contactNumbers": [],
        "faxNumbers": [],
        "websites": [],
        "addresses": [],
        **(sent.pop("contactDetails", None) or {}),
    }
    employment = {"businessIndustry": [], **(sent.pop("employmentDetails", None) or {})}
    data = {
        "legalEntity": {**legal_entity, "companyGeneralDetails": general},
        "contactDetails": contacts,
        "employmentDetails": employment,
    }
    if "userStateDetails" in sent:
        state = sent.pop("userStateDetails")
        data["userStateDetails"] = {
            "state": state.get("state") or state.get("status"),
            "reason": state.get("reason", ""),
        }
    if "kycStatusDetails" in sent:
        kyc = sent.pop("kycStatusDetails")
        data["kycStatusDetails"] = {"status": kyc.get("status"), "reason": kyc.get("reason", "")}
    data.update(sent)
    data["legalDocuments"] = [
        {**document, "tags": document.get("tags", [])} for document in sent.get("legalDocuments", [])
    ]
    for key in ("reasonForAccountOpening", "sourceOfFunds", "pepStatus", "tags"):
        data.setdefault(key, [])
    data["userType"] = kind
    return data


def user_event_document(event: UserEvent) -> dict:
    """Seed 004 "Retrieve a User Event": the event, its attributes, and the user's risk as the
    event left it (its risk trail) next to the user's rule results."""
    customer = event.customer
    attributes = _attributes_with_defaults(event.updated_attributes or {}, event.kind)
    trail = event.risk_trail
    data = {
        "updatedAttributes": attributes,
        "timestamp": millis(event.timestamp),
        "eventId": event.event_id,
        "userId": customer.external_ref,
        "reason": event.reason,
        "eventDescription": event.event_description,
        "updatedAt": iso_millis(event.created_at),
        "tags": attributes["tags"],
        "pepStatus": attributes["pepStatus"],
        "legalDocuments": attributes["legalDocuments"],
        "executedRules": customer.executed_rules or [],
        "hitRules": customer.hit_rules or [],
        "riskScoreDetails": risk_score_details(
            customer,
            ors_score=trail.effective_score if trail else None,
            ors_level=trail.level if trail else None,
        ),
    }
    return UserEventOutSerializer(data).data
