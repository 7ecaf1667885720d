"""Bearer credentials: login tokens and integrator API keys.

Both are random secrets handed out once and stored only as their SHA-256 digest. A plain
digest (no salt, no slow hash) is right here because the secrets carry 256 bits of
entropy: there is nothing to brute-force, and lookups stay one indexed equality.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessToken(models.Model):
    """A login token from `POST /api/login`, sent as `x-access-token` or `Authorization: Bearer`."""

    PREFIX = "cbt_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"token #{self.pk} of {self.user}"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ApiKey(models.Model):
    """An integrator's API key, sent as `x-api-key`, `api_key` or `Authorization: Bearer`.

    Created in the admin, where the key is shown once; only its digest and its first
    characters (to tell keys apart in lists) are kept. Revoking sets `revoked_at`.
    """

    PREFIX = "cbk_"

    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'core banking, production'.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="The service account whose roles the key acts with (normally in the integrator role).",
    )
    key_prefix = models.CharField(max_length=16, editable=False, db_index=True)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Leave empty for a key that does not expire."
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
