"""Platform writes: logging in, issuing and revoking credentials.

Each service runs in one transaction and records the audit trail in it.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, Throttled

from compliance.audit import Actor, audit_log
from compliance.models import AccessToken, ApiKey, AuditTrail, StaffUser
from compliance.models.credentials import digest

# --- failed-login throttling --------------------------------------------------------------


def _failure_keys(username: str, remote_addr: str | None) -> list[str]:
    # Usernames are hashed so the cache never holds what someone typed into the login form.
    user_key = "login-fail:user:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()
    keys = [user_key]
    if remote_addr:
        keys.append(f"login-fail:addr:{remote_addr}")
    return keys


def _check_login_throttle(keys: list[str]) -> None:
    limit, window = settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW
    for key in keys:
        count = cache.get(key) or 0
        if count >= limit:
            started = cache.get(key + ":t") or time.time()
            wait = max(1, int(window - (time.time() - started)) + 1)
            raise Throttled(wait=wait, detail=f"Too many failed logins; try again in {wait} seconds.")


def _record_login_failure(keys: list[str]) -> None:
    window = settings.LOGIN_FAILURE_WINDOW
    for key in keys:
        # add() only sets a missing key, so the window starts at the first failure.
        cache.add(key + ":t", time.time(), timeout=window)
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=window)


def login(*, username: str, password: str, remote_addr: str | None) -> tuple[AccessToken, str]:
    """Check the password and issue a login token; answers it and its raw secret (shown once).

    Failures count per username and per client address; past the limit the login is
    refused with 429 before the password is even checked, so guessing is slowed down
    whether the attacker varies the password or the account.
    """
    keys = _failure_keys(username, remote_addr)
    _check_login_throttle(keys)
    # No account name or password holds a NUL, and the database cannot even compare one.
    has_nul = "\x00" in username or "\x00" in password
    user = None if has_nul else authenticate(username=username, password=password)
    if user is None or not user.is_active:
        _record_login_failure(keys)
        with transaction.atomic():
            audit_log(
                actor=Actor(remote_addr=remote_addr, system="login"),
                action=AuditTrail.Action.LOGIN_FAILED,
                object_type="compliance.staffuser",
                object_repr=username.replace("\x00", "\ufffd")[:200],
            )
        raise AuthenticationFailed("The username/password do not match.")
    cache.delete(keys[0])
    cache.delete(keys[0] + ":t")
    return _access_token_create(user=user, remote_addr=remote_addr)


def access_token_issue(*, user: StaffUser, remote_addr: str | None = None) -> str:
    """Issue a login token for a user (the raw secret, shown once)."""
    return _access_token_create(user=user, remote_addr=remote_addr)[1]


def _access_token_create(*, user: StaffUser, remote_addr: str | None) -> tuple[AccessToken, str]:
    raw = AccessToken.generate()
    now = timezone.now()
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=user,
            token_digest=digest(raw),
            created_at=now,
            expires_at=now + settings.ACCESS_TOKEN_TTL,
            client_ip=remote_addr,
        )
        StaffUser.objects.filter(pk=user.pk).update(last_login=now)
        audit_log(
            actor=Actor(user=user, remote_addr=remote_addr),
            action=AuditTrail.Action.LOGIN,
            instance=token,
            after={"user": user.pk, "expires_at": token.expires_at.isoformat()},
        )
    return token, raw


def access_token_revoke(*, token: AccessToken, actor: Actor) -> None:
    with transaction.atomic():
        if AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            audit_log(actor=actor, action=AuditTrail.Action.REVOKE, instance=token)


def access_tokens_purge_expired(*, older_than=None) -> int:
    """Delete tokens that expired more than a day ago (they can no longer authenticate)."""
    cutoff = timezone.now() - (older_than or timedelta(days=1))
    with transaction.atomic():
        deleted, _ = AccessToken.objects.filter(expires_at__lt=cutoff).delete()
        if deleted:
            audit_log(
                actor=Actor.system_actor("token-cleanup"),
                action=AuditTrail.Action.DELETE,
                object_type="compliance.accesstoken",
                after={"deleted": deleted, "expired_before": cutoff.isoformat()},
            )
    return deleted


def api_key_create(*, name: str, user: StaffUser, actor: Actor, expires_at=None) -> tuple[ApiKey, str]:
    """Create an integrator key; answers the key and its raw secret, which is never stored."""
    raw = ApiKey.generate()
    with transaction.atomic():
        key = ApiKey(
            name=name,
            user=user,
            key_prefix=raw[: len(ApiKey.PREFIX) + 6],
            key_digest=digest(raw),
            created_by=actor.user,
            expires_at=expires_at,
        )
        key.full_clean()
        key.save()
        audit_log(
            actor=actor,
            action=AuditTrail.Action.CREATE,
            instance=key,
            after={
                "name": name,
                "user": user.pk,
                "key_prefix": key.key_prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return key, raw


def api_key_update(*, key: ApiKey, name: str, expires_at, actor: Actor) -> ApiKey:
    """Rename a key or change its expiry; the secret and the owner never change."""
    with transaction.atomic():
        current = ApiKey.objects.select_for_update().get(pk=key.pk)
        before = {"name": current.name, "expires_at": current.expires_at}
        current.name, current.expires_at = name, expires_at
        current.full_clean()
        current.save(update_fields=["name", "expires_at"])
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=current,
            before=before,
            after={"name": name, "expires_at": expires_at},
        )
    return current


def api_key_revoke(*, key: ApiKey, actor: Actor) -> bool:
    """Revoke a key at once; answers False when it was already revoked."""
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit_log(actor=actor, action=AuditTrail.Action.REVOKE, instance=key)
    return bool(revoked)
