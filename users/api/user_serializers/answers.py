"""Seed 004 answer shapes: the `*OutSerializer`s of users and user events, which are also
their OpenAPI schema. The documents they shape are built in `documents`.
"""

from __future__ import annotations

from rest_framework import serializers

from users.models import RiskLevel


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
