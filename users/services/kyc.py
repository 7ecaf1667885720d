"""Writes to a customer's KYC lists, checked lists and associations (seed 003 `lists`, `checkedLists`).

Each write locks the customer, records one audit row on the customer (the list, the rows
before and after), and re-scores the customer; association writes re-score both sides.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError, ConflictError, NotFoundError
from compliance.models import AuditTrail
from users.lists import CheckedList, KycList
from users.models import Address, Customer, CustomerAssociation, ScreeningRisk, Stake
from users.models.customers import ORGANISATION
from users.screening.customers import schedule_screening
from users.screening.hits import removal_effects, review_effects, review_status
from users.services.common import WriteResult, clean, lock_customer, row_snapshot, touch
from users.services.risk import customer_risk_refresh


def _require_applies(kyc_list: KycList, customer: Customer) -> None:
    if not kyc_list.applies(customer):
        kind = "persons" if customer.is_organisation else "organisations"
        raise ApplicationError(f"The {kyc_list.label} list applies to {kind} only.")


def _audit(actor, customer, action, *, before=None, after=None) -> int:
    return audit_log(actor=actor, action=action, instance=customer, before=before, after=after).pk


def _finish(
    actor: Actor, customer: Customer, audit_id: int, cause: str, *others: int, rescore: bool = True
) -> WriteResult:
    touch(customer, actor)
    if not rescore:  # a composite write (users.services.user_api) scores once at its end
        return WriteResult(customer, audit_id, None)
    trails = customer_risk_refresh(customer_ids=[customer.pk, *others], actor=actor, cause=cause)
    return WriteResult(customer, audit_id, trails.get(customer.pk))


@transaction.atomic
def kyc_rows_add(
    *, actor: Actor, customer: Customer, kyc_list: KycList, rows: list[dict], rescore: bool = True
) -> WriteResult:
    """Add one or more rows (model field values) to a list of the customer.

    `rescore=False` (here and in the other writes below): the caller re-scores once at the
    end of a composite write, so one request leaves one risk trail.
    """
    customer = lock_customer(customer)
    _require_applies(kyc_list, customer)
    if not rows:
        raise ApplicationError(errors={"": ["Send an array with at least one element."]})
    objects = []
    for index, values in enumerate(rows):
        row = kyc_list.model(customer=customer, **values)
        clean(row, prefix=f"[{index}].", exclude=["customer"])
        objects.append(row)
    created = kyc_list.model.objects.bulk_create(objects)
    if any(row.pk is None for row in created):  # backends without RETURNING
        created = list(kyc_list.model.objects.filter(customer=customer).order_by("-pk")[: len(objects)])[::-1]
    audit_id = _audit(
        actor,
        customer,
        AuditTrail.Action.UPDATE,
        after={kyc_list.key: {"added": [row_snapshot(r) for r in created]}},
    )
    if kyc_list.model is Address and any(row.country_id for row in created):
        schedule_screening(customer.pk)
    return _finish(actor, customer, audit_id, f"{kyc_list.label} added", rescore=rescore)


def _row(kyc_list: KycList, customer: Customer, row_id):
    try:
        return kyc_list.model.objects.select_for_update().get(pk=int(row_id), customer=customer)
    except (kyc_list.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFoundError(f"The customer has no {kyc_list.id_name} {row_id}.") from None


@transaction.atomic
def kyc_row_update(
    *, actor: Actor, customer: Customer, kyc_list: KycList, row_id, changes: dict
) -> WriteResult:
    customer = lock_customer(customer)
    row = _row(kyc_list, customer, row_id)
    before = row_snapshot(row)
    review_before = review_status(row) if kyc_list.model is ScreeningRisk else None
    for name, value in changes.items():
        setattr(row, name, value)
    clean(row, exclude=["customer"])
    row.save()
    extra = {}
    if review_before is not None:  # a hit confirmed / dismissed: pepStatus, screening.hit_reviewed
        extra = review_effects(customer=customer, row=row, before_status=review_before)
    if kyc_list.model is Address and before.get("country") != row.country_id:
        schedule_screening(customer.pk)
    audit_id = _audit(
        actor,
        customer,
        AuditTrail.Action.UPDATE,
        before={kyc_list.key: [before], **extra.get("before", {})},
        after={kyc_list.key: [row_snapshot(row)], **extra.get("after", {})},
    )
    return _finish(actor, customer, audit_id, f"{kyc_list.label} changed")


@transaction.atomic
def kyc_row_delete(
    *, actor: Actor, customer: Customer, kyc_list: KycList, row_id, rescore: bool = True
) -> WriteResult:
    customer = lock_customer(customer)
    row = _row(kyc_list, customer, row_id)
    before = row_snapshot(row)
    extra = removal_effects(customer=customer, row=row) if kyc_list.model is ScreeningRisk else {}
    row.delete()
    if kyc_list.model is Address and before.get("country"):
        schedule_screening(customer.pk)
    audit_id = _audit(
        actor,
        customer,
        AuditTrail.Action.UPDATE,
        before={kyc_list.key: {"removed": [before]}, **extra.get("before", {})},
        after=extra.get("after"),
    )
    return _finish(actor, customer, audit_id, f"{kyc_list.label} removed", rescore=rescore)


@transaction.atomic
def checked_list_change(
    *,
    actor: Actor,
    customer: Customer,
    checked: CheckedList,
    added=(),
    removed=(),
    contents=None,
) -> WriteResult:
    """Tick (`added`) and untick (`removed`) rows of a checked list, or set it to `contents`."""
    customer = lock_customer(customer)
    manager = getattr(customer, checked.field)
    before = sorted(manager.values_list("pk", flat=True))
    overlap = {row.pk for row in added} & {row.pk for row in removed}
    if overlap:
        raise ApplicationError(errors={"added": [f"Ids {sorted(overlap)} are both added and removed."]})
    if contents is not None:
        manager.set(contents)
    else:
        if added:
            manager.add(*added)
        if removed:
            manager.remove(*removed)
    after = sorted(manager.values_list("pk", flat=True))
    audit_id = _audit(
        actor, customer, AuditTrail.Action.UPDATE, before={checked.key: before}, after={checked.key: after}
    )
    return _finish(actor, customer, audit_id, f"{checked.key} changed")


def _other(ref_or_customer) -> Customer:
    if isinstance(ref_or_customer, Customer):
        return ref_or_customer
    try:
        return Customer.objects.get(external_ref=ref_or_customer)
    except Customer.DoesNotExist:
        raise ApplicationError(
            errors={"idInternalCustomer": [f"Unknown customer {ref_or_customer}."]}
        ) from None


@transaction.atomic
def stake_add(
    *, actor: Actor, holder: Customer, entity, percentage=None, rescore: bool = True
) -> WriteResult:
    """`holder` holds `percentage` % of organisation `entity` (a customer or its reference)."""
    holder = lock_customer(holder)
    entity = _other(entity)
    if entity.customer_type_id != ORGANISATION:
        raise ApplicationError(errors={"idInternalCustomer": ["Stakes can only be held in organisations."]})
    stake = Stake(holder=holder, entity=entity, percentage=percentage)
    clean(stake, exclude=["holder", "entity"])
    try:
        with transaction.atomic():
            stake.save()
    except IntegrityError:
        raise ConflictError("This customer already holds a stake in that organisation.") from None
    audit_id = _audit(
        actor, holder, AuditTrail.Action.UPDATE, after={"stakesOut": {"added": [snapshot(stake)]}}
    )
    cause = f"stake in customer {entity.pk} added"
    return _finish(actor, holder, audit_id, cause, entity.pk, rescore=rescore)


@transaction.atomic
def stake_remove(*, actor: Actor, holder: Customer, stake_id, rescore: bool = True) -> WriteResult:
    holder = lock_customer(holder)
    try:
        stake = Stake.objects.get(pk=int(stake_id), holder=holder)
    except (Stake.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFoundError(f"The customer has no idStake {stake_id}.") from None
    before = snapshot(stake)
    entity_id = stake.entity_id
    stake.delete()
    audit_id = _audit(actor, holder, AuditTrail.Action.UPDATE, before={"stakesOut": {"removed": [before]}})
    cause = f"stake in customer {entity_id} removed"
    return _finish(actor, holder, audit_id, cause, entity_id, rescore=rescore)


@transaction.atomic
def association_add(
    *, actor: Actor, associate: Customer, customer, role, rescore: bool = True
) -> WriteResult:
    """`associate` plays `role` (director, signatory...) for `customer` (a customer or its reference)."""
    associate = lock_customer(associate)
    customer = _other(customer)
    association = CustomerAssociation(associate=associate, customer=customer, role=role)
    clean(association, exclude=["associate", "customer", "role"])
    try:
        with transaction.atomic():
            association.save()
    except IntegrityError:
        raise ConflictError("This association exists already.") from None
    audit_id = _audit(
        actor, associate, AuditTrail.Action.UPDATE, after={"rolesOut": {"added": [snapshot(association)]}}
    )
    return _finish(
        actor, associate, audit_id, f"role for customer {customer.pk} added", customer.pk, rescore=rescore
    )


@transaction.atomic
def association_remove(
    *, actor: Actor, associate: Customer, association_id, rescore: bool = True
) -> WriteResult:
    associate = lock_customer(associate)
    try:
        association = CustomerAssociation.objects.get(pk=int(association_id), associate=associate)
    except (CustomerAssociation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFoundError(f"The customer has no idCustomerAssociation {association_id}.") from None
    before = snapshot(association)
    other = association.customer_id
    association.delete()
    audit_id = _audit(actor, associate, AuditTrail.Action.UPDATE, before={"rolesOut": {"removed": [before]}})
    return _finish(actor, associate, audit_id, f"role for customer {other} removed", other, rescore=rescore)


@transaction.atomic
def stakes_add(*, actor: Actor, holder: Customer, stakes: list[dict]) -> WriteResult:
    """Add several stakes (`{"entity": ..., "percentage": ...}`) at once: all or none, scored once."""
    if not stakes:
        raise ApplicationError(errors={"": ["Send an array with at least one element."]})
    results = [
        stake_add(
            actor=actor, holder=holder, entity=s["entity"], percentage=s.get("percentage"), rescore=False
        )
        for s in stakes
    ]
    entities = [_other(s["entity"]).pk for s in stakes]
    trails = customer_risk_refresh(customer_ids=[holder.pk, *entities], actor=actor, cause="stakes added")
    return WriteResult(results[-1].customer, results[-1].audit_id, trails.get(holder.pk))


@transaction.atomic
def associations_add(*, actor: Actor, associate: Customer, roles: list[dict]) -> WriteResult:
    """Add several roles (`{"customer": ..., "role": ...}`) at once: all or none, scored once."""
    if not roles:
        raise ApplicationError(errors={"": ["Send an array with at least one element."]})
    results = [
        association_add(
            actor=actor, associate=associate, customer=r["customer"], role=r["role"], rescore=False
        )
        for r in roles
    ]
    others = [_other(r["customer"]).pk for r in roles]
    trails = customer_risk_refresh(customer_ids=[associate.pk, *others], actor=actor, cause="roles added")
    return WriteResult(results[-1].customer, results[-1].audit_id, trails.get(associate.pk))
