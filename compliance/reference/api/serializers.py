"""Read-only shapes of the reference tables, in the API's camelCase."""

from rest_framework import serializers


class LookupTableSerializer(serializers.Serializer):
    """One entry of `GET /api/lookups`: a registered table and where to read it."""

    name = serializers.CharField(help_text="API name of the table, e.g. `genders`.")
    field = serializers.CharField(help_text="Seed field whose ids come from this table, e.g. `idGender`.")
    count = serializers.IntegerField(help_text="Number of rows, active or not.")
    url = serializers.CharField(help_text="Path of the table's rows, e.g. `/api/lookups/genders`.")


class LookupRowSerializer(serializers.Serializer):
    """A row of a plain lookup table."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    isActive = serializers.BooleanField(source="is_active")


class DocumentTypeRowSerializer(LookupRowSerializer):
    """A document type, with whether persons and organisations must provide it."""

    requiredForPerson = serializers.BooleanField(source="required_for_person")
    requiredForOrganisation = serializers.BooleanField(source="required_for_organisation")


class CountrySerializer(serializers.Serializer):
    """An ISO 3166-1 country and the risk points it carries."""

    id = serializers.IntegerField()
    alpha2 = serializers.CharField()
    alpha3 = serializers.CharField()
    numeric = serializers.CharField(help_text="Three digits, leading zeros kept.")
    name = serializers.CharField()
    riskScore = serializers.IntegerField(source="risk_score")
    isActive = serializers.BooleanField(source="is_active")


class AnyLookupRowSerializer(serializers.Serializer):
    """Schema only: the union of the row shapes, since one path serves every table.

    `id`, `name` and `isActive` are always present; `requiredForPerson` and
    `requiredForOrganisation` only for `document-types`; `alpha2`, `alpha3`, `numeric` and
    `riskScore` only for `countries`. (A `oneOf` would be ambiguous: a country row also
    matches the plain row shape.)
    """

    id = serializers.IntegerField()
    name = serializers.CharField()
    isActive = serializers.BooleanField()
    requiredForPerson = serializers.BooleanField(required=False, help_text="document-types only")
    requiredForOrganisation = serializers.BooleanField(required=False, help_text="document-types only")
    alpha2 = serializers.CharField(required=False, help_text="countries only")
    alpha3 = serializers.CharField(required=False, help_text="countries only")
    numeric = serializers.CharField(required=False, help_text="countries only; three digits, zeros kept")
    riskScore = serializers.IntegerField(required=False, help_text="countries only")


class LookupQuerySerializer(serializers.Serializer):
    """Query parameters of `GET /api/lookups/{name}`."""

    # No allow_null: DRF would read `?active=` as null, and an empty value is a client bug
    # worth a 400, not a silent "all rows" (found by the schemathesis fuzz test).
    active = serializers.BooleanField(
        required=False,
        help_text="`true`: only active rows; `false`: only inactive rows; absent: all rows.",
    )
