"""Seed 004 request bodies: individual and entity users and user events.

Requests are validated here (unknown properties, wrong types, malformed dates, unknown
countries and bad enum values are 400s naming the property) and turned into
`users.services.user_api.UserData` / `EventData`, in model terms.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from rest_framework import serializers

from compliance.api.serializers import StrictFieldsMixin
from users.api.user_serializers.fields import (
    ADDRESS_LINE,
    MAX_LIST,
    CountryCodeField,
    CountryNameField,
    EntityTypeField,
    EpochMillisDateField,
    EpochMillisField,
    IndividualTypeField,
    IsoDateField,
    JsonBooleanField,
    JsonNumberField,
    TextField,
    _identifier,
    _plain,
    _required_text,
    _strings,
    _text,
)
from users.models import KycStatus, UserState
from users.services.user_api import (
    EMAIL,
    FAX,
    PHONE,
    WEBSITE,
    AssociateData,
    EventData,
    UserData,
    payload_digest,
)


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
