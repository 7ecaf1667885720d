"""Rate limits per credential (API key, token's user) or per client address.

Rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from the environment); the
429 answer carries Retry-After. Counters live in the cache: Redis in production, so every
gunicorn worker shares them.
"""

from rest_framework.throttling import SimpleRateThrottle

from compliance.models import ApiKey


class CredentialRateThrottle(SimpleRateThrottle):
    """The general API limit: per API key, per staff user, or per address when anonymous."""

    scope = "credential"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            self.rate = self.THROTTLE_RATES.get("anonymous", self.rate)
            self.num_requests, self.duration = self.parse_rate(self.rate)
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BatchRateThrottle(CredentialRateThrottle):
    """A tighter limit for the batch endpoints, per credential."""

    scope = "batch"


class AnonymousRateThrottle(SimpleRateThrottle):
    """Per client address, for the endpoints that take no credentials (login)."""

    scope = "anonymous"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
