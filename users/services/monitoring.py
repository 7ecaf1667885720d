"""What transaction monitoring changes on a user: state and KYC status set by a rule hit
(`triggersOnHit`), recorded as a user event so the user's history shows why; and the daily
monitoring counts its ongoing risk (CRA) scores."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from compliance.audit import Actor, audit_log
from compliance.models import AuditTrail
from users.models import Customer, MonitoringActivity, UserEvent
from users.models.customers import PERSON
from users.services.common import lock_customer, user_status_publish
from users.services.risk import customer_risk_refresh
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
    user_status_publish(customer=customer, cause=cause, changes=attributes, triggered_by="SYSTEM")
    return event


@dataclasses.dataclass(frozen=True)
class ActivityRecord:
    """What one monitored transaction adds to one customer's day."""

    customer_id: int
    day: datetime.date
    transactions: int = 0
    flagged: int = 0
    suspended: int = 0
    blocked: int = 0


@transaction.atomic
def monitoring_activity_record(*, actor: Actor, records: list[ActivityRecord], cause: str) -> dict[int, int]:
    """Add transaction-monitoring counts to customers' days, then re-score those whose hits
    changed (the Transaction Monitoring factor of their ongoing risk). Answers the latest
    risk trail id of each re-scored customer. Call it once per monitored transaction: the
    outbox runs a handler once per event, which keeps the counts exact."""
    live = set(Customer.objects.filter(pk__in={r.customer_id for r in records}).values_list("pk", flat=True))
    rescore = set()
    for record in records:
        if record.customer_id not in live:
            continue  # deleted since: nothing to score
        row, _ = MonitoringActivity.objects.select_for_update().get_or_create(
            customer_id=record.customer_id, day=record.day
        )
        MonitoringActivity.objects.filter(pk=row.pk).update(
            transactions=F("transactions") + record.transactions,
            flagged=F("flagged") + record.flagged,
            suspended=F("suspended") + record.suspended,
            blocked=F("blocked") + record.blocked,
        )
        if record.flagged or record.suspended or record.blocked:
            rescore.add(record.customer_id)
    if not rescore:
        return {}
    return customer_risk_refresh(customer_ids=rescore, actor=actor, cause=cause)
