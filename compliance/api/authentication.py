"""The credentials every endpoint accepts.

| header                         | credential                 | source   |
|--------------------------------|----------------------------|----------|
| `x-access-token`               | login token                | seed 003 |
| `Authorization: Bearer <...>`  | login token or API key     | seed 004 |
| `x-api-key`                    | integrator API key         | seed 002 |
| `api_key`                      | integrator API key         | seed 001 |

A present but unknown, expired or revoked credential is 401 at once; a missing one is 401
through the permission check. Login tokens and keys carry distinct prefixes, so a bearer
value is looked up in one table only.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from compliance.models import AccessToken, ApiKey
from compliance.models.credentials import digest

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _bearer(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value or " " in value:
        raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
    return value


def _one(queryset):
    """The row of a lookup on a unique digest, or None. Unordered: `first()` would order by the
    model's ordering, which costs the ORM more than the query on every authenticated request."""
    return next(iter(queryset.order_by()[:1]), None)


def _touch(model, pk, last_used_at):
    now = timezone.now()
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        model.objects.filter(pk=pk).update(last_used_at=now)


def authenticate_access_token(raw: str):
    token = _one(AccessToken.objects.select_related("user").filter(token_digest=digest(raw)))
    if token is None or token.revoked_at is not None:
        raise exceptions.AuthenticationFailed("The access token is not valid.")
    if token.is_expired:
        raise exceptions.AuthenticationFailed("The access token has expired; log in again.")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("The account is disabled.")
    _touch(AccessToken, token.pk, token.last_used_at)
    return token.user, token


def authenticate_api_key(raw: str):
    key = _one(ApiKey.objects.select_related("user").filter(key_digest=digest(raw)))
    if key is None or key.revoked_at is not None:
        raise exceptions.AuthenticationFailed("The API key is not valid.")
    if not key.is_active:
        raise exceptions.AuthenticationFailed("The API key has expired.")
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed("The API key's account is disabled.")
    _touch(ApiKey, key.pk, key.last_used_at)
    return key.user, key


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`x-access-token: <token>` or `Authorization: Bearer <token or API key>`."""

    def authenticate(self, request):
        raw = request.headers.get("x-access-token")
        if raw:
            return authenticate_access_token(raw.strip())
        raw = _bearer(request)
        if raw is None:
            return None
        if raw.startswith(ApiKey.PREFIX):
            return authenticate_api_key(raw)
        return authenticate_access_token(raw)

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when credentials are missing.
        return 'Bearer realm="api"'


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`x-api-key: <key>` or `api_key: <key>`.

    Note: `api_key` has an underscore, which some servers drop from headers; the shipped
    gunicorn config keeps it (see gunicorn.conf.py). `api-key` works everywhere.
    """

    def authenticate(self, request):
        raw = request.headers.get("x-api-key") or request.META.get("HTTP_API_KEY")
        if not raw:
            return None
        return authenticate_api_key(raw.strip())

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The admin session, so a logged-in analyst can use the API docs; CSRF is enforced."""


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "compliance.api.authentication.AccessTokenAuthentication"
    name = ["accessToken", "bearerAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "x-access-token",
                "description": "Login token from POST /api/login.",
            },
            {"type": "http", "scheme": "bearer", "description": "A login token or an integrator API key."},
        ]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "compliance.api.authentication.ApiKeyAuthentication"
    name = ["apiKey", "apiKeyUnderscore"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "Integrator API key."},
            {"type": "apiKey", "in": "header", "name": "api_key", "description": "Integrator API key."},
        ]


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "compliance.api.authentication.StaffSessionAuthentication"
    name = "adminSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The admin's session (browser use of the API docs); CSRF applies.",
        }
