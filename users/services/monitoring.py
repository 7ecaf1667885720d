"""What transaction monitoring changes on a user: state and KYC status set by a rule hit
(`triggersOnHit`), recorded as a user event so the user's history shows why."""

from __future__ import annotations

import uuid

from django.utils import timezone

from compliance import events
from compliance.audit import Actor, audit_log
from compliance.models import AuditTrail
from users.models import Customer, UserEvent
from users.models.customers import PERSON
from users.services.common import lock_customer
from users.services.user_api import payload_digest


def user_status_apply(
    *,
    actor: Actor,
    customer_id: int,
    cause: str,
    user_state: str = "",
    user_state_reason: str = "",
    kyc_status: str = "",
    kyc_status_reason: str = "",
) -> UserEvent | None:
    """Set a user's state and/or KYC status (call inside the caller's transaction). Records a
    user event and an audit row when something changes; answers None when nothing does."""
    customer = lock_customer(customer_id)
    before = {"userState": customer.user_state, "kycStatus": customer.kyc_status}
    attributes, fields = {}, []
    if user_state and user_state != customer.user_state:
        customer.user_state, customer.user_state_reason = user_state, user_state_reason[:500]
        attributes["userStateDetails"] = {"state": user_state, "reason": user_state_reason}
        fields += ["user_state", "user_state_reason"]
    if kyc_status and kyc_status != customer.kyc_status:
        customer.kyc_status, customer.kyc_status_reason = kyc_status, kyc_status_reason[:500]
        attributes["kycStatusDetails"] = {"status": kyc_status, "reason": kyc_status_reason}
        fields += ["kyc_status", "kyc_status_reason"]
    if not fields:
        return None
    customer.updated_at = timezone.now()
    Customer.all_objects.filter(pk=customer.pk).update(
        **{name: getattr(customer, name) for name in fields}, updated_at=customer.updated_at
    )
    event = UserEvent.objects.create(
        event_id=f"monitoring-{uuid.uuid4().hex}",
        customer=customer,
        kind=UserEvent.Kind.INDIVIDUAL if customer.customer_type_id == PERSON else UserEvent.Kind.ENTITY,
        timestamp=timezone.now(),
        reason=(user_state_reason or kyc_status_reason)[:500],
        event_description=cause,
        updated_attributes=attributes,
        payload_digest=payload_digest(attributes),
    )
    audit_log(
        actor=actor,
        action=AuditTrail.Action.UPDATE,
        instance=customer,
        before=before,
        after={"userState": customer.user_state, "kycStatus": customer.kyc_status, "cause": cause},
    )
    events.publish(
        "user.status_changed",
        {"userId": customer.external_ref, "cause": cause, **attributes},
        aggregate=customer,
    )
    return event
