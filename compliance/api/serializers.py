from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers


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
