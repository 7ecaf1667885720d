"""What every customer write shares: the result it answers, locking, cleaning, the audit row."""

from __future__ import annotations

import dataclasses

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from compliance import events
from compliance.audit import Actor, snapshot
from compliance.errors import ApplicationError, NotFoundError
from users.models import Customer
from users.services.risk import _actor_user

CUSTOMER_SNAPSHOT_EXCLUDE = (
    "risk_breakdown",
    "risk_contaminators",
    "risk_inputs_digest",
    "risk_calculated_at",
    "checked_documents",
    "checked_activity_risks",
    "checked_behavior_risks",
    "checked_enhanced_checks",
    "executed_rules",
    "hit_rules",
)


@dataclasses.dataclass(frozen=True)
class WriteResult:
    """What seed 003 answers for every write: `{idAuditTrail, idRiskTrail}`."""

    customer: Customer
    audit_id: int
    risk_trail_id: int | None

    def as_response(self) -> dict:
        return {"idAuditTrail": self.audit_id, "idRiskTrail": self.risk_trail_id}


def customer_snapshot(customer: Customer) -> dict:
    return snapshot(customer, exclude=CUSTOMER_SNAPSHOT_EXCLUDE)


def row_snapshot(row: models.Model) -> dict:
    return snapshot(row, exclude=("customer",))


def lock_customer(customer_or_pk) -> Customer:
    """The live customer, its row locked until the transaction ends: writes to one customer
    (and the risk trails they append) happen one after the other."""
    pk = customer_or_pk.pk if isinstance(customer_or_pk, Customer) else customer_or_pk
    try:
        return Customer.objects.select_for_update().get(pk=pk)
    except Customer.DoesNotExist:
        raise NotFoundError("The customer does not exist.") from None


def clean(instance: models.Model, *, prefix: str = "", exclude=None) -> None:
    """`full_clean()` as a 400: field errors keyed `prefix + field`."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors = {}
        for field, messages in exc.message_dict.items():
            key = prefix.rstrip(".") if field == "__all__" else f"{prefix}{field}"
            errors.setdefault(key or "__all__", []).extend(messages)
        raise ApplicationError(errors=errors) from None


def touch(customer: Customer, actor: Actor) -> None:
    customer.updated_at = timezone.now()
    customer.last_modified_by = _actor_user(actor)
    Customer.all_objects.filter(pk=customer.pk).update(
        updated_at=customer.updated_at, last_modified_by=customer.last_modified_by
    )


def status_changes(customer: Customer, *, user_state_before: str, kyc_status_before: str) -> dict:
    """`userStateDetails` / `kycStatusDetails` of what changed on the customer (seed 004 names)."""
    changes = {}
    if customer.user_state != user_state_before:
        changes["userStateDetails"] = {"state": customer.user_state, "reason": customer.user_state_reason}
    if customer.kyc_status != kyc_status_before:
        changes["kycStatusDetails"] = {"status": customer.kyc_status, "reason": customer.kyc_status_reason}
    return changes


def status_triggered_by(actor: Actor) -> str:
    """Who caused a change, as webhooks say it: an integrator's key, a person, or the system."""
    if actor.api_key is not None:
        return "API"
    return "MANUAL" if actor.user is not None else "SYSTEM"


def user_status_publish(*, customer: Customer, cause: str, changes: dict, triggered_by: str) -> None:
    """`user.status_changed` (call inside the write's transaction): the user's state and/or KYC
    status changed; webhooks send it as USER_STATE_UPDATED / IRS_STATUS_UPDATED."""
    events.publish(
        "user.status_changed",
        {"userId": customer.external_ref, "cause": cause, **changes, "triggeredBy": triggered_by},
        aggregate=customer,
    )
