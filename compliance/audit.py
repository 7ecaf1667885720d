"""The audit trail's write side: every service records what it changed through `audit_log`."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from compliance import context
from compliance.models import ApiKey, AuditTrail, StaffUser


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who performs a write: a staff user, an API key (acting for its service account), or the system."""

    user: StaffUser | None = None
    api_key: ApiKey | None = None
    remote_addr: str | None = None
    system: str = ""

    @classmethod
    def from_request(cls, request) -> Actor:
        auth = getattr(request, "auth", None)
        user = getattr(request, "user", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            api_key=auth if isinstance(auth, ApiKey) else None,
            remote_addr=client_ip(request),
        )

    @classmethod
    def system_actor(cls, name: str) -> Actor:
        """For writes no person asked for: beat jobs, event handlers, migrations."""
        return cls(system=name)

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"api-key:{self.api_key.key_prefix} ({self.api_key.user.username})"
        if self.user is not None:
            return self.user.username
        return f"system:{self.system or 'unknown'}"


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


def snapshot(instance: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-friendly dict of a model's concrete fields, for `before`/`after`."""
    data = model_to_dict(instance, exclude=list(exclude))
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        if field.name not in data:  # model_to_dict skips non-editable fields
            data[field.name] = field.value_from_object(instance)
    return {key: _jsonable(value) for key, value in data.items()}


def _jsonable(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or None
    return value


def audit_log(
    *,
    actor: Actor,
    action: str,
    instance: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditTrail:
    """Append one audit row. Call it inside the transaction of the write it records."""
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or instance.pk
        object_repr = object_repr or str(instance)
    return AuditTrail.objects.create(
        actor_user=actor.api_key.user if actor.api_key is not None else actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        object_repr=object_repr[:200],
        before=before,
        after=after,
        request_id=context.get_request_id(),
        remote_addr=actor.remote_addr,
    )
