"""Rate limits per credential (API key, token's user) or per client address.

Rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from the environment); the
429 answer carries Retry-After. Counters live in the cache: Redis in production, so every
gunicorn worker shares them.

On Redis a limit is a sliding window estimated from two fixed-window counters (this window's
and the previous one's, weighted by how much of it still overlaps the last `duration`
seconds): one round trip and a few bytes per request, however busy the credential. DRF's own
throttle keeps the timestamp of every request of the last `duration` seconds in one cache
value, read, unpickled, re-pickled and written back whole by every request — at the default
6000/min, up to 6000 timestamps per request of a busy integrator (issue 4 benchmark). A refused
request is not counted. Without Redis (the embedded default) DRF's throttle runs unchanged.
"""

from __future__ import annotations

import math

from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from compliance.models import ApiKey

_clients: dict = {}


def _redis(cache):
    """The cache's Redis client, made once per process (one per call costs more than the call)."""
    if not isinstance(cache, RedisCache):
        return None
    client = _clients.get(cache._cache)
    if client is None:
        client = _clients[cache._cache] = cache._cache.get_client(write=True)
    return client


class WindowCounterThrottle(SimpleRateThrottle):
    """SimpleRateThrottle counting in two fixed windows on Redis (see the module's docstring)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        client = _redis(self._backend())
        if client is None:
            return super().allow_request(request, view)
        window, self.elapsed = divmod(self.timer(), self.duration)
        base = self._backend().make_key(self.key)
        current = f"{base}:{int(window)}"
        with client.pipeline(transaction=False) as pipe:
            pipe.incr(current)
            pipe.expire(current, 2 * self.duration)
            pipe.get(f"{base}:{int(window) - 1}")
            self.count, _, previous = pipe.execute()
        self.previous = int(previous or 0)
        if self.previous * (self.duration - self.elapsed) / self.duration + self.count <= self.num_requests:
            return True
        client.decr(current)
        self.count -= 1
        return False

    def _backend(self):
        cache = self.cache
        # django.core.cache.cache is a proxy of this thread's backend.
        return cache._connections[cache._alias] if hasattr(cache, "_alias") else cache

    def wait(self):
        if not hasattr(self, "previous"):
            return super().wait()
        remaining = self.duration - self.elapsed
        if self.count >= self.num_requests or not self.previous:
            return max(remaining, 1)
        # Until the previous window's weight has dropped enough for one more request.
        spare = self.num_requests - self.count - 1
        return max(math.ceil(remaining - spare * self.duration / self.previous), 1)


class CredentialRateThrottle(WindowCounterThrottle):
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


class AnonymousRateThrottle(WindowCounterThrottle):
    """Per client address, for the endpoints that take no credentials (login)."""

    scope = "anonymous"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
