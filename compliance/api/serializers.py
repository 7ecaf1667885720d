from rest_framework import serializers


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})


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
