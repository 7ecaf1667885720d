"""Seed 003 bodies: `main`/`details` of a customer, the rows of each KYC list, risk, reviews, trails.

Property names are the seed's (`idCountryResidence`, `full_name`...); each maps onto a
model field through `source`. Unknown properties are refused (StrictFieldsMixin), ids of
reference tables must name an active row (LookupField).
"""

from rest_framework import serializers

from compliance.api.serializers import BlankAsNullCharField, LookupField, StrictFieldsMixin
from compliance.models import StaffUser
from compliance.reference import models as ref
from users import models as m
from users.models.customers import PERSON


class Strict(StrictFieldsMixin, serializers.Serializer):
    pass


def _country(**kwargs):
    return LookupField(ref.Country, allow_null=True, required=False, **kwargs)


class StaffUserField(LookupField):
    """`idUserResponsibleOfficer`: the id of an active staff user."""

    default_error_messages = {
        **LookupField.default_error_messages,
        "does_not_exist": "Unknown staff user id {pk_value}.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", StaffUser.objects.filter(is_active=True))
        super().__init__(**kwargs)


# --- main and details ------------------------------------------------------------------


class MainSerializer(Strict):
    idCustomer = serializers.IntegerField(source="pk", read_only=True)
    idUserLastModified = serializers.IntegerField(
        source="last_modified_by_id", read_only=True, allow_null=True
    )
    idInternalCustomer = serializers.CharField(source="external_ref", max_length=100)
    relationshipStartDate = serializers.DateField(
        source="relationship_start_date", allow_null=True, required=False
    )
    relationshipEndDate = serializers.DateField(
        source="relationship_end_date", allow_null=True, required=False
    )
    referralAgent = BlankAsNullCharField(source="referral_agent", max_length=200)
    otherInfo = BlankAsNullCharField(source="other_info")
    idCustomerStatus = LookupField(ref.CustomerStatus, source="status")
    idCustomerType = LookupField(ref.CustomerType, source="customer_type")
    idUserResponsibleOfficer = StaffUserField(source="responsible_officer", allow_null=True, required=False)
    idUser = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    printName = serializers.CharField(source="external_ref", read_only=True)

    def validate(self, attrs):
        start = attrs.get("relationship_start_date", getattr(self.instance, "relationship_start_date", None))
        end = attrs.get("relationship_end_date", getattr(self.instance, "relationship_end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"relationshipEndDate": ["The relationship cannot end before it starts."]}
            )
        return attrs


class PersonDetailsSerializer(Strict):
    idCustomer = serializers.IntegerField(source="pk", read_only=True)
    firstName = BlankAsNullCharField(source="first_name", max_length=100)
    middleName = BlankAsNullCharField(source="middle_name", max_length=100)
    maidenName = BlankAsNullCharField(source="maiden_name", max_length=100)
    lastName = BlankAsNullCharField(source="last_name", max_length=100)
    dateBirth = serializers.DateField(source="date_birth", allow_null=True, required=False)
    nonFaceToFace = serializers.BooleanField(source="non_face_to_face", required=False)
    idCountryNationality = _country(source="country_nationality")
    idCountryBirth = _country(source="country_birth")
    idCountryResidence = _country(source="country_residence")
    idGender = LookupField(ref.Gender, source="gender", allow_null=True, required=False)
    idMaritalStatus = LookupField(ref.MaritalStatus, source="marital_status", allow_null=True, required=False)
    profession = BlankAsNullCharField(max_length=200)


class OrganisationDetailsSerializer(Strict):
    idCustomer = serializers.IntegerField(source="pk", read_only=True)
    registeredName = BlankAsNullCharField(source="registered_name", max_length=300)
    tradeName = BlankAsNullCharField(source="trade_name", max_length=300)
    registrationNo = BlankAsNullCharField(source="registration_no", max_length=100)
    dateIncorporation = serializers.DateField(source="date_incorporation", allow_null=True, required=False)
    idIncorporationType = LookupField(
        ref.IncorporationType, source="incorporation_type", allow_null=True, required=False
    )
    idCountryIncorporation = _country(source="country_incorporation")
    idCountryDomiciliary = _country(source="country_domiciliary")
    idCountryActivity = _country(source="country_activity")
    mainBusinessActivity = BlankAsNullCharField(source="main_business_activity", max_length=300)
    taxIdentifier = BlankAsNullCharField(source="tax_identifier", max_length=100)


class CustomerWriteSerializer(Strict):
    """`{"main": {...}, "details": {...}}`; `details` is a person's or an organisation's
    by `idCustomerType`."""

    main = serializers.DictField(help_text="MainSerializer's properties.")
    details = serializers.DictField(required=False, help_text="A person's or an organisation's details.")

    def __init__(self, *args, customer: m.Customer | None = None, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        partial = self.customer is not None
        main = MainSerializer(data=attrs["main"], partial=partial, instance=self.customer)
        errors = {}
        if not main.is_valid():
            errors["main"] = main.errors
        type_id = self.customer.customer_type_id if partial else None
        if not partial:
            # Validate details even when main has other errors, so one answer names them all.
            raw_type = attrs["main"].get("idCustomerType")
            customer_type = main.validated_data.get("customer_type") if not errors else None
            if customer_type is not None:
                type_id = customer_type.pk
            elif raw_type in (1, 2) and "idCustomerType" not in errors.get("main", {}):
                type_id = raw_type
        if type_id is None:
            if "main" not in errors:
                errors["main"] = {"idCustomerType": ["This field is required."]}
            raise serializers.ValidationError(errors)
        details_class = PersonDetailsSerializer if type_id == PERSON else OrganisationDetailsSerializer
        details = details_class(data=attrs.get("details", {}), partial=partial)
        if not details.is_valid():
            errors["details"] = details.errors
        if errors:
            raise serializers.ValidationError(errors)
        return {**main.validated_data, **details.validated_data}


def _details_schema(partial: bool):
    from drf_spectacular.utils import PolymorphicProxySerializer

    return PolymorphicProxySerializer(
        component_name="PatchedCustomerDetails" if partial else "CustomerDetails",
        serializers=[
            PersonDetailsSerializer(partial=partial),
            OrganisationDetailsSerializer(partial=partial),
        ],
        resource_type_field_name=None,
        required=False,
    )


class CustomerCreateSchema(serializers.Serializer):
    """The documented shape of `POST /api/customer` (validation is CustomerWriteSerializer's)."""

    main = MainSerializer()
    details = _details_schema(partial=False)


class CustomerUpdateSchema(serializers.Serializer):
    """The documented shape of `PUT /api/customer/{ref}`: any subset of main and details."""

    main = MainSerializer(partial=True, required=False)
    details = _details_schema(partial=True)


class CustomerDocumentSerializer(serializers.Serializer):
    """Schema of GET /api/customer/{ref}: `singles`, `lists`, `checkedLists` (built by the selector)."""

    singles = serializers.DictField()
    lists = serializers.DictField()
    checkedLists = serializers.DictField()


class WriteResultSerializer(serializers.Serializer):
    idAuditTrail = serializers.IntegerField()
    idRiskTrail = serializers.IntegerField(allow_null=True)


# --- KYC list rows ---------------------------------------------------------------------


class KycRowSerializer(StrictFieldsMixin, serializers.Serializer):
    """A row of a KYC list: its seed id (`idAddress`...), fields, and `id` (the same number)."""

    id_name = ""
    with_customer_id = True

    def to_representation(self, instance):
        data = {self.id_name: instance.pk}
        if self.with_customer_id:
            data["idCustomer"] = instance.customer_id
        data.update(super().to_representation(instance))
        data["id"] = instance.pk
        return data


class IdCardSerializer(KycRowSerializer):
    id_name = "idIdCard"
    idIdCardType = LookupField(ref.IdCardType, source="id_card_type")
    number = serializers.CharField(max_length=100)
    filename = serializers.CharField(max_length=255, allow_null=True, allow_blank=True, required=False)
    copy = serializers.BooleanField(required=False)
    expirationDate = serializers.DateField(source="expiration_date", allow_null=True, required=False)


class AddressSerializer(KycRowSerializer):
    id_name = "idAddress"
    idCountry = _country(source="country")
    streetName = serializers.CharField(source="street_name", max_length=500, allow_blank=True, required=False)
    postcode = serializers.CharField(max_length=30, allow_blank=True, required=False)
    city = serializers.CharField(max_length=200, allow_blank=True, required=False)
    filename = serializers.CharField(max_length=255, allow_null=True, allow_blank=True, required=False)
    verified = serializers.BooleanField(required=False)


class CommunicationMeansSerializer(KycRowSerializer):
    id_name = "idCommunicationMeans"
    idCommunicationMeansType = LookupField(ref.CommunicationMeansType, source="communication_means_type")
    value = serializers.CharField(max_length=300)


class WealthSerializer(KycRowSerializer):
    id_name = "idWealth"
    idWealthScale = LookupField(ref.WealthScale, source="wealth_scale")
    idWealthStatus = LookupField(ref.WealthStatus, source="wealth_status")
    source = serializers.CharField(max_length=300, allow_blank=True, required=False)


class AnnualIncomeSerializer(KycRowSerializer):
    id_name = "idAnnualIncome"
    source = serializers.CharField(max_length=300, allow_blank=True, required=False)
    idAnnualIncomeScale = LookupField(ref.AnnualIncomeScale, source="annual_income_scale")
    idAnnualIncomeStatus = LookupField(ref.AnnualIncomeStatus, source="annual_income_status")


class FundSerializer(KycRowSerializer):
    id_name = "idFund"
    with_customer_id = False
    idFundType = LookupField(ref.FundType, source="fund_type")
    idCountry = _country(source="country")
    comments = serializers.CharField(allow_blank=True, required=False)
    counterpartName = serializers.CharField(source="counterpart_name", max_length=300)


class FinancialStatementSerializer(KycRowSerializer):
    id_name = "idStatement"
    with_customer_id = False
    idStatementType = LookupField(ref.StatementType, source="statement_type")
    year = serializers.IntegerField(min_value=1800, max_value=2200)
    income = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, required=False, coerce_to_string=False
    )
    expenses = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, required=False, coerce_to_string=False
    )
    copy = serializers.BooleanField(required=False)


class CountryPresenceSerializer(KycRowSerializer):
    id_name = "idCountryPresence"
    with_customer_id = False
    idCountry = LookupField(ref.Country, source="country")
    year = serializers.IntegerField(min_value=1800, max_value=2200, allow_null=True, required=False)


class ScreeningRiskSerializer(KycRowSerializer):
    id_name = "idScreeningRisk"
    idScreeningRiskType = LookupField(ref.ScreeningRiskType, source="screening_risk_type")
    identifier = serializers.CharField(max_length=100, allow_null=True, allow_blank=True, required=False)
    score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    inspected = serializers.BooleanField(required=False)
    confirmed = serializers.BooleanField(required=False)
    type = serializers.CharField(max_length=100, allow_null=True, allow_blank=True, required=False)
    full_name = serializers.CharField(max_length=300)
    json = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    md5 = serializers.CharField(max_length=32, allow_null=True, allow_blank=True, required=False)
    manual_addition = serializers.BooleanField(required=False)


class DocumentSerializer(KycRowSerializer):
    id_name = "idDocument"
    idDocumentType = LookupField(ref.DocumentType, source="document_type", allow_null=True, required=False)
    filename = serializers.CharField(max_length=255, allow_null=True, allow_blank=True, required=False)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    expirationDate = serializers.DateField(source="expiration_date", allow_null=True, required=False)


class CustomerEventSerializer(KycRowSerializer):
    id_name = "idEvent"
    eventDate = serializers.DateField(source="event_date")
    description = serializers.CharField()


ROW_SERIALIZERS: dict[str, type[KycRowSerializer]] = {
    "id-card": IdCardSerializer,
    "addresses": AddressSerializer,
    "communication-means": CommunicationMeansSerializer,
    "wealth": WealthSerializer,
    "annual-income": AnnualIncomeSerializer,
    "counterparty": FundSerializer,
    "financial-statement": FinancialStatementSerializer,
    "country-presence": CountryPresenceSerializer,
    "screening-risks": ScreeningRiskSerializer,
    "documents": DocumentSerializer,
    "events": CustomerEventSerializer,
}


# --- associations ----------------------------------------------------------------------


class CustomerRefField(serializers.SlugRelatedField):
    """Another live customer, named by its `idInternalCustomer`."""

    default_error_messages = {
        "does_not_exist": "Unknown customer {value}.",
        "invalid": "Expected an internal customer number.",
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="external_ref", queryset=m.Customer.objects.all(), **kwargs)


class StakeSerializer(StrictFieldsMixin, serializers.Serializer):
    """A stake the customer holds in an organisation (`stakesOut`) or holds in it (`stakesIn`)."""

    idStake = serializers.IntegerField(source="pk", read_only=True)
    idCustomer = serializers.IntegerField(source="holder_id", read_only=True)
    idCustomerEntity = serializers.IntegerField(source="entity_id", read_only=True)
    idInternalCustomer = CustomerRefField(
        source="entity", help_text="The organisation's internal customer number."
    )
    percentage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        allow_null=True,
        required=False,
        coerce_to_string=False,
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["id"] = instance.pk
        return data


class AssociationSerializer(StrictFieldsMixin, serializers.Serializer):
    """A role the customer plays for another (`rolesOut`) or another plays for it (`rolesIn`)."""

    idCustomerAssociation = serializers.IntegerField(source="pk", read_only=True)
    idCustomer = serializers.IntegerField(source="associate_id", read_only=True)
    idCustomerAssociated = serializers.IntegerField(source="customer_id", read_only=True)
    idInternalCustomer = CustomerRefField(
        source="customer", help_text="Internal number of the customer served."
    )
    idAssociationRole = LookupField(ref.AssociationRole, source="role")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["id"] = instance.pk
        return data


# --- checked lists ---------------------------------------------------------------------


class CheckedListChangeSerializer(Strict):
    """Tick and untick (`added`, `removed`), or replace the whole list (`contents`)."""

    added = serializers.ListField(child=serializers.IntegerField(min_value=0), required=False, max_length=500)
    removed = serializers.ListField(
        child=serializers.IntegerField(min_value=0), required=False, max_length=500
    )
    contents = serializers.ListField(
        child=serializers.IntegerField(min_value=0), required=False, max_length=500
    )

    def __init__(self, *args, lookup_model=None, **kwargs):
        self.lookup_model = lookup_model
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        if "contents" in attrs and ("added" in attrs or "removed" in attrs):
            raise serializers.ValidationError("Send either `contents`, or `added`/`removed`, not both.")
        if not attrs:
            raise serializers.ValidationError("Send `added`/`removed` or `contents`.")
        wanted = {pk for values in attrs.values() for pk in values}
        rows = {row.pk: row for row in self.lookup_model.objects.filter(pk__in=wanted)}
        errors = {}
        for key, values in attrs.items():
            unknown = [pk for pk in values if pk not in rows]
            inactive = [pk for pk in values if pk in rows and not rows[pk].is_active and key != "removed"]
            if unknown or inactive:
                errors[key] = [f"Unknown id {pk}." for pk in unknown] + [
                    f"Id {pk} is inactive." for pk in inactive
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return {key: [rows[pk] for pk in values] for key, values in attrs.items()}


# --- risk, reviews, trails -------------------------------------------------------------


class RiskFactorScoreSerializer(serializers.Serializer):
    name = serializers.CharField()
    score = serializers.IntegerField()


class RiskCategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    contents = RiskFactorScoreSerializer(many=True)
    score = serializers.IntegerField()


class ContaminatorSerializer(serializers.Serializer):
    idCustomer = serializers.IntegerField()
    newCalculatedRisk = serializers.IntegerField()


class RiskTotalsSerializer(serializers.Serializer):
    screening = RiskCategorySerializer()
    kyc = RiskCategorySerializer()
    economicProfile = RiskCategorySerializer()
    countries = RiskCategorySerializer()
    general = RiskCategorySerializer()


class GlobalRiskSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    effectiveScore = serializers.IntegerField()
    riskLevel = serializers.CharField()
    idRiskType = serializers.IntegerField(allow_null=True)


class CustomerRiskSerializer(serializers.Serializer):
    totals = RiskTotalsSerializer()
    contaminators = ContaminatorSerializer(many=True)
    # `global` is a Python keyword; the field is renamed in to_representation.
    global_ = GlobalRiskSerializer()

    def get_fields(self):
        fields = super().get_fields()
        fields["global"] = fields.pop("global_")
        return fields


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    idReview = serializers.IntegerField(source="pk")
    createdDate = serializers.DateTimeField(source="created_date", allow_null=True)
    scheduledDate = serializers.DateField(source="scheduled_date")
    reviewedDate = serializers.DateField(source="reviewed_date", allow_null=True)
    reviewed = serializers.BooleanField()
    comments = serializers.CharField(allow_null=True)
    idCustomer = serializers.IntegerField(source="customer_id")
    idUserScheduler = serializers.IntegerField(source="scheduler_id", allow_null=True)
    idUserReviewer = serializers.IntegerField(source="reviewer_id", allow_null=True)
    userReviewerName = serializers.CharField(source="reviewer.username", allow_null=True, default=None)


class RiskTrailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    idRiskTrail = serializers.IntegerField(source="pk")
    reviewed = serializers.BooleanField()
    reviewedDate = serializers.DateTimeField(source="reviewed_date", allow_null=True)
    comments = serializers.CharField(allow_null=True)
    idCustomer = serializers.IntegerField(source="customer_id")
    idRiskType = serializers.IntegerField(source="risk_type_id", allow_null=True)
    idUserReviewer = serializers.IntegerField(source="reviewer_id", allow_null=True)
    userReviewerName = serializers.CharField(source="reviewer.username", allow_null=True, default=None)
    idApprovalStatus = serializers.IntegerField(source="approval_status_id", allow_null=True)
    approvalStatusName = serializers.CharField(source="approval_status.name", allow_null=True, default=None)
    # Beyond the seed: what the trail recorded.
    createdDate = serializers.DateTimeField(source="created_at")
    idUserCreator = serializers.IntegerField(source="created_by_id", allow_null=True)
    cause = serializers.CharField()
    score = serializers.IntegerField()
    effectiveScore = serializers.IntegerField(source="effective_score")
    riskLevel = serializers.CharField(source="level")


class RiskTrailReviewSerializer(Strict):
    idApprovalStatus = LookupField(ref.ApprovalStatus, source="approval_status")
    idRiskType = LookupField(ref.RiskType, source="risk_type")
    comments = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=5000)


class ReviewIdSerializer(serializers.Serializer):
    idReview = serializers.IntegerField()


# --- the customer list (beyond the seed) -------------------------------------------------


class CustomerListItemSerializer(serializers.Serializer):
    idCustomer = serializers.IntegerField(source="pk")
    idInternalCustomer = serializers.CharField(source="external_ref")
    idCustomerType = serializers.IntegerField(source="customer_type_id")
    idCustomerStatus = serializers.IntegerField(source="status_id")
    name = serializers.CharField(source="display_name")
    riskScore = serializers.IntegerField(source="risk_score")
    effectiveRiskScore = serializers.IntegerField(source="risk_effective_score")
    riskLevel = serializers.CharField(source="risk_level")
    nextReviewDate = serializers.DateField(source="next_review_date", allow_null=True)
    idCountryNationality = serializers.IntegerField(source="country_nationality_id", allow_null=True)
    idCountryResidence = serializers.IntegerField(source="country_residence_id", allow_null=True)
    idCountryIncorporation = serializers.IntegerField(source="country_incorporation_id", allow_null=True)
    updatedAt = serializers.DateTimeField(source="updated_at")
