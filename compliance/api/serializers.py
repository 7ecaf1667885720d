import re

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

# NUL and lone UTF-16 surrogates (JSON "\ud800" without its pair): valid JSON, but PostgreSQL
# cannot store them (jsonb refuses NUL, UTF-8 cannot encode a lone surrogate).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text_path(value, path: str = "") -> str | None:
    """The path of the first text (key or value) of a JSON value that PostgreSQL cannot store,
    or None: stored documents are checked with it so such text is a 400, not a 500."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(str(key)):
                return f"{path}.{key!r}" if path else repr(key)
            found = unstorable_text_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_text_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class CredentialField(serializers.CharField):
    """Any string is a well-formed credential; one that cannot match is a 401 from the
    login service, not a 400 (DRF's CharField would refuse NUL characters)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class LoginSerializer(serializers.Serializer):
    username = CredentialField(max_length=150)
    password = CredentialField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})


class LoginResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    token = serializers.CharField(help_text="Send as `x-access-token` or `Authorization: Bearer`.")
    expiresAt = serializers.DateTimeField()


class ComponentHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["up", "down", "eager"])
    latencyMs = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    database = ComponentHealthSerializer()
    broker = ComponentHealthSerializer()


class StrictFieldsMixin:
    """Refuse properties the serializer does not know (400 naming each), rather than drop them.

    An integrator who misspells `idCountryResidense` must hear about it: silently ignoring
    it would lose the data they meant to send.
    """

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {str(key): ["Unknown property."] for key in data if key not in known}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # One answer names every problem: the unknown properties and the invalid ones.
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class LookupField(serializers.PrimaryKeyRelatedField):
    """A reference id (`idGender`, `idCountry`...): must name an active row of its table.

    Answers the id; accepts it as an integer (or digit string). The message names the id,
    and the property name comes from the error body.
    """

    default_error_messages = {
        "required": "This field is required.",
        "does_not_exist": "Unknown id {pk_value}.",
        "incorrect_type": "Expected an integer id, got {data_type}.",
    }

    def __init__(self, model=None, **kwargs):
        if model is not None and "queryset" not in kwargs and not kwargs.get("read_only"):
            queryset = model._default_manager.all()
            if any(f.name == "is_active" for f in model._meta.fields):
                queryset = queryset.filter(is_active=True)
            kwargs["queryset"] = queryset
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not data.isdigit()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, int) and not 0 <= data <= 2_147_483_647:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class BlankAsNullCharField(serializers.CharField):
    """A text stored as '' when absent, exchanged as null (seed 003: `"tradeName": null`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return "" if data is None else super().to_internal_value(data)

    def to_representation(self, value):
        return value or None

    def validate_empty_values(self, data):
        if data is None:
            return (True, "")
        return super().validate_empty_values(data)
