"""Creating, changing and deleting customers (seed 003 `main`/`details`, seed 004 users)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError, ConflictError
from compliance.models import AuditTrail
from users.models import Customer
from users.screening.customers import schedule_screening, screening_changed
from users.services.common import (
    WriteResult,
    clean,
    customer_snapshot,
    lock_customer,
    status_changes,
    status_triggered_by,
    user_status_publish,
)
from users.services.risk import _actor_user, customer_risk_refresh

# Fields a person has and an organisation has not, and the reverse. Setting one of the
# other kind is refused rather than stored where no screen shows it.
PERSON_FIELDS = {
    "first_name",
    "middle_name",
    "maiden_name",
    "last_name",
    "date_birth",
    "non_face_to_face",
    "country_nationality",
    "country_birth",
    "country_residence",
    "gender",
    "marital_status",
    "profession",
    "business_industry",
}
ORGANISATION_FIELDS = {
    "registered_name",
    "trade_name",
    "registration_no",
    "date_incorporation",
    "incorporation_type",
    "legal_entity_type",
    "country_incorporation",
    "country_domiciliary",
    "country_activity",
    "tax_identifier",
    "main_business_activity",
    "main_products_services",
    "company_business_industry",
}
FK_FIELDS = [
    "customer_type",
    "status",
    "responsible_officer",
    "created_by",
    "last_modified_by",
    "country_nationality",
    "country_birth",
    "country_residence",
    "gender",
    "marital_status",
    "incorporation_type",
    "country_incorporation",
    "country_domiciliary",
    "country_activity",
]


def _check_kind(customer_type_id: int, fields: dict) -> None:
    from users.models.customers import PERSON

    foreign = ORGANISATION_FIELDS if customer_type_id == PERSON else PERSON_FIELDS
    wrong = sorted(set(fields) & foreign)
    if wrong:
        kind = "a person" if customer_type_id == PERSON else "an organisation"
        raise ApplicationError(errors={f"details.{name}": [f"Does not apply to {kind}."] for name in wrong})


@transaction.atomic
def customer_create(
    *, actor: Actor, fields: dict, cause: str = "customer created", rescore: bool = True
) -> WriteResult:
    """Create a customer from model field values (lookups as instances) and score it.

    `rescore=False` is for composite writes (a seed 004 user with its documents and
    contacts): the caller scores once at the end of its transaction, so the onboarding
    score sees the complete file and one risk trail records it.
    """
    customer_type = fields["customer_type"]
    _check_kind(customer_type.pk, {k: v for k, v in fields.items() if v not in ("", None, False, [])})
    if Customer.objects.filter(external_ref=fields["external_ref"]).exists():
        raise ConflictError(
            "A customer with this internal customer number exists already.",
            errors={"main.idInternalCustomer": ["Already in use."]},
        )
    user = _actor_user(actor)
    customer = Customer(**fields, created_by=user, last_modified_by=user)
    # Lookups were validated by the caller's serializer; skip a query per foreign key.
    clean(customer, exclude=[*FK_FIELDS, "external_ref"])
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ConflictError(
            "A customer with this internal customer number exists already.",
            errors={"main.idInternalCustomer": ["Already in use."]},
        ) from None
    audit = audit_log(
        actor=actor, action=AuditTrail.Action.CREATE, instance=customer, after=customer_snapshot(customer)
    )
    schedule_screening(customer.pk)
    trails = customer_risk_refresh(customer_ids=[customer.pk], actor=actor, cause=cause) if rescore else {}
    return WriteResult(customer, audit.pk, trails.get(customer.pk))


@transaction.atomic
def customer_update(
    *,
    actor: Actor,
    customer: Customer,
    fields: dict,
    cause: str = "customer changed",
    rescore: bool = True,
    triggered_by: str = "",
) -> WriteResult:
    """Change some of a customer's own fields; re-score it (a new trail only if its risk moved).

    `rescore=False`: the caller re-scores once at the end of a composite write (see `customer_create`).
    A change of the user state or KYC status publishes `user.status_changed`; `triggered_by`
    (MANUAL/SYSTEM/API) says who caused it, by default derived from the actor.
    """
    customer = lock_customer(customer)
    if "customer_type" in fields and fields["customer_type"].pk != customer.customer_type_id:
        raise ApplicationError(
            errors={"main.idCustomerType": ["The type of an existing customer cannot change."]}
        )
    new_ref = fields.get("external_ref", customer.external_ref)
    if new_ref != customer.external_ref and Customer.objects.filter(external_ref=new_ref).exists():
        raise ConflictError(errors={"main.idInternalCustomer": ["Already in use."]})
    _check_kind(
        customer.customer_type_id, {k: v for k, v in fields.items() if v not in ("", None, False, [])}
    )
    before = customer_snapshot(customer)
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.updated_at = timezone.now()
    customer.last_modified_by = _actor_user(actor)
    clean(customer, exclude=[*FK_FIELDS, "external_ref"])
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ConflictError(errors={"main.idInternalCustomer": ["Already in use."]}) from None
    after = customer_snapshot(customer)
    audit = audit_log(
        actor=actor, action=AuditTrail.Action.UPDATE, instance=customer, before=before, after=after
    )
    if screening_changed(before, after):
        schedule_screening(customer.pk)
    changes = status_changes(
        customer, user_state_before=before["user_state"], kyc_status_before=before["kyc_status"]
    )
    if changes:
        who = triggered_by or status_triggered_by(actor)
        user_status_publish(customer=customer, cause=cause, changes=changes, triggered_by=who)
    trails = customer_risk_refresh(customer_ids=[customer.pk], actor=actor, cause=cause) if rescore else {}
    return WriteResult(customer, audit.pk, trails.get(customer.pk))


@transaction.atomic
def customer_delete(*, actor: Actor, customer: Customer) -> int:
    """Mark a customer deleted: gone from every read, kept for the record; its associates'
    contamination is settled without it. Answers the audit row's id."""
    from users.risk.inputs import associations_of
    from users.services.risk import contamination_schedule

    customer = lock_customer(customer)
    before = customer_snapshot(customer)
    customer.deleted_at = timezone.now()
    customer.last_modified_by = _actor_user(actor)
    customer.save(update_fields=["deleted_at", "last_modified_by"])
    audit = audit_log(actor=actor, action=AuditTrail.Action.DELETE, instance=customer, before=before)
    associates = associations_of([customer.pk]).get(customer.pk, set())
    if associates:
        contamination_schedule(
            customer_ids=associates, actor=actor, cause=f"contamination: customer {customer.pk} deleted"
        )
    return audit.pk
