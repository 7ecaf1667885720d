from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import health, services
from compliance.api.schema import ERROR_COMPONENT
from compliance.api.serializers import HealthSerializer, LoginResponseSerializer, LoginSerializer
from compliance.api.throttling import AnonymousRateThrottle
from compliance.audit import client_ip

ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}


class LoginView(APIView):
    """Seed 003 "Authentication": exchange a username and password for a login token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonymousRateThrottle]

    def get_authenticate_header(self, request):
        # Wrong username/password is 401 (seed 003), which DRF gives only with a challenge.
        return 'Bearer realm="api"'

    @extend_schema(
        operation_id="login",
        request=LoginSerializer,
        responses={
            200: LoginResponseSerializer,
            401: OpenApiResponse(ERROR_REF, description="The username/password do not match."),
        },
        auth=[],
        tags=["authentication"],
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.login(
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
            remote_addr=client_ip(request),
        )
        return Response({"success": True, "token": raw, "expiresAt": token.expires_at})


class HealthView(APIView):
    """Seed 004 "Health Check": 200 when the database and the broker answer, 503 otherwise."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        operation_id="health",
        responses={200: HealthSerializer, 503: HealthSerializer},
        auth=[],
        tags=["health"],
    )
    def get(self, request):
        ok, body = health.health()
        return Response(body, status=status.HTTP_200_OK if ok else status.HTTP_503_SERVICE_UNAVAILABLE)
