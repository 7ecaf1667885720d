"""Signing secrets: generated, encrypted at rest (Fernet), and used to sign each attempt."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils import timezone

from compliance.models import WebhookSubscription

SECRET_PREFIX = "whsec_"  # noqa: S105  (a label, not a secret)


def generate_secret() -> str:
    """A new signing secret: 256 random bits, url-safe. The whole string is the HMAC key."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _fernet() -> MultiFernet:
    # The first key encrypts; every key decrypts (rotation of WEBHOOK_SECRETS_KEY).
    return MultiFernet([Fernet(key) for key in settings.WEBHOOK_SECRETS_KEY])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise RuntimeError(
            "A webhook secret cannot be decrypted: WEBHOOK_SECRETS_KEY lost the key it was encrypted with"
        ) from None


def signing_secrets(subscription: WebhookSubscription, *, now=None) -> list[str]:
    """The secrets that sign a request now: the current one, then the previous one during
    the grace period after a rotation."""
    now = now or timezone.now()
    keys = [decrypt(subscription.secret_encrypted)]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret_encrypted and expires and expires > now:
        keys.append(decrypt(subscription.previous_secret_encrypted))
    return keys


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256 of `{timestamp}.{body}` under the secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(keys: list[str], timestamp: int, body: bytes) -> str:
    return " ".join(f"v1={sign(key, timestamp, body)}" for key in keys)
