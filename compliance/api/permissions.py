"""The API's permission check: Django permissions held through roles (groups), cached per user.

Reading a user's permissions costs two queries (their own, their groups'), on every request of
every endpoint. They change rarely, so each process keeps the set it read per user, tagged with a
generation counter kept in the shared cache: any change to who holds which permission (a user's
groups or own permissions, a group's permissions, a group, permission or user created or deleted)
bumps the counter, at once and again after the change commits, and every process reads afresh on
its next request. A set is also read afresh when older than PERMISSIONS_CACHE_MAX_AGE_SECONDS, which
bounds how long a change could go unseen if the cache itself was unreachable when it was made.
Whether the user is active or a superuser is read with the credential on every request, never
cached. Without the shared cache (down), nothing is cached: every request reads the database.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.permissions import BasePermission

logger = logging.getLogger(__name__)

GENERATION_KEY = "api:permissions:generation"
PERMISSIONS_CACHE_MAX_AGE_SECONDS = 60.0
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# user pk -> (generation, permissions, read at)
_held: dict[int, tuple[object, frozenset[str], float]] = {}
_UNREACHABLE = object()


def _generation():
    try:
        return cache.get(GENERATION_KEY)
    except Exception:
        logger.warning("Permission cache generation unreadable; reading permissions afresh", exc_info=True)
        return _UNREACHABLE


def _bump() -> None:
    _held.clear()
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("Could not announce a permission change through the cache", exc_info=True)


def permissions_changed(**kwargs) -> None:
    """Receiver: someone's permissions may have changed. Announced now (this process and the
    ones that read before the commit) and after the commit (the ones that read in between)."""
    _bump()
    transaction.on_commit(_bump, using=kwargs.get("using"), robust=True)


def held_permissions(user) -> frozenset[str]:
    """Every permission the user holds ("app_label.codename"), as Django's ModelBackend reads them."""
    generation = _generation()
    if generation is _UNREACHABLE:
        return frozenset(user.get_all_permissions())
    now = time.monotonic()
    entry = _held.get(user.pk)
    if entry is not None and entry[0] == generation and now - entry[2] < PERMISSIONS_CACHE_MAX_AGE_SECONDS:
        return entry[1]
    permissions = frozenset(user.get_all_permissions())
    _held[user.pk] = (generation, permissions, now)
    return permissions


def has_permissions(user, required: list[str]) -> bool:
    """`user.has_perms(required)`, with the user's permissions read through the per-process cache."""
    if list(settings.AUTHENTICATION_BACKENDS) != [MODEL_BACKEND]:
        return user.has_perms(required)  # another backend may decide differently: ask it
    if not required:
        return True
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    held = held_permissions(user)
    return all(permission in held for permission in required)


def _user_saved(created=False, **kwargs) -> None:
    # A new user may take the id of a deleted one (SQLite); whether a user is active or a
    # superuser is never cached, so other saves change nothing here.
    if created:
        permissions_changed(**kwargs)


def _connect() -> None:
    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            permissions_changed, sender=through, dispatch_uid=f"api-permissions-m2m-{through}"
        )
    for model in (Group, Permission):
        post_save.connect(permissions_changed, sender=model, dispatch_uid=f"api-permissions-saved-{model}")
    for model in (Group, Permission, user_model):
        post_delete.connect(
            permissions_changed, sender=model, dispatch_uid=f"api-permissions-deleted-{model}"
        )
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="api-permissions-user-saved")


_connect()


class RolePermissions(BasePermission):
    """Authenticated, and holding the Django permissions the view needs for the method.

    A view names its permissions in `required_permissions = {"GET": ["app.view_x"], ...}`
    or computes them in `get_required_permissions(request)`; otherwise the model
    permissions of its queryset apply, with reads needing `view_*` (DRF's own
    DjangoModelPermissions lets any authenticated user read). Roles are groups holding
    these permissions (compliance.roles). Failing here is 401 without credentials, 403 with.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        return has_permissions(user, self.required_permissions(request, view))

    def required_permissions(self, request, view) -> list[str]:
        if hasattr(view, "get_required_permissions"):
            return list(view.get_required_permissions(request))
        declared = getattr(view, "required_permissions", None)
        if declared is not None:
            if request.method in ("HEAD", "OPTIONS") and request.method not in declared:
                return list(declared.get("GET", []))
            if request.method not in declared:
                # A method the view does not declare is never allowed by accident.
                return ["compliance.no_such_permission"]
            return list(declared[request.method])
        queryset = getattr(view, "queryset", None)
        if queryset is None and hasattr(view, "get_queryset"):
            queryset = view.get_queryset()
        if queryset is None:
            return ["compliance.no_such_permission"]
        model = queryset.model
        kwargs = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return [
            perm % kwargs for perm in self.perms_map.get(request.method, ["compliance.no_such_permission"])
        ]
