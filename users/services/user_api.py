"""Seed 004 users and user events, written onto the one customer model through the customer services.

A seed 004 *user* is a `Customer` (`userId` = `external_ref`): an individual is a person
(type 1), an entity an organisation (type 2). Its legal documents are ID cards, its contact
details are addresses and communication means, its shareholders and directors are person
customers linked by stakes and director roles. Every write here goes through
`users.services.customers` and `users.services.kyc`, so each change is validated, audited
and locked as any other customer write; this module only decides *what* to write.

One request is one transaction and leaves at most one new risk trail per customer: the
services are called with `rescore=False` and the customers touched are scored once at the
end, so the onboarding score (IRS) of a new user sees its complete file.

Merge semantics (a POST of an existing `userId` and an event's `updatedAttributes` alike):
the properties sent are written, at any depth; the properties not sent keep their values
(the customer may hold data written through the seed 003 API that seed 004 cannot
express). A list sent replaces that list; rows already equal to a sent item are kept, so
their ids stay and re-posting the same user writes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError, ConflictError
from compliance.models import AuditTrail
from compliance.reference.models import AssociationRole, CustomerStatus, CustomerType, IncorporationType
from users.lists import BY_PATH
from users.models import CommunicationMeans, Customer, CustomerAssociation, RiskTrail, Stake, UserEvent
from users.models.customers import ORGANISATION, PERSON
from users.services import customers as customer_services
from users.services import kyc as kyc_services
from users.services.common import lock_customer
from users.services.risk import customer_risk_refresh

ACTIVE = 1  # CustomerStatus of a user created through seed 004
PROSPECT = 2  # CustomerStatus of a shareholder or director we only know as such
DIRECTOR = 1  # AssociationRole

# Communication means types: seed 004 contact list -> (type of new rows, types the list covers).
# A mobile number (type 3, seed 003 only) is one of the user's `contactNumbers`.
PHONE, FAX, EMAIL, WEBSITE, MOBILE = 1, 2, 4, 5, 3
CONTACT_TYPES: dict[int, tuple[int, ...]] = {
    EMAIL: (EMAIL,),
    PHONE: (PHONE, MOBILE),
    FAX: (FAX,),
    WEBSITE: (WEBSITE,),
}

# legalEntityType (free text in seed 004) -> IncorporationType id, which feeds the Entity Type risk.
# Spelling is normalised first (upper case, spaces and hyphens as underscores).
INCORPORATION_TYPES = {
    **dict.fromkeys(("LLC", "LTD", "LIMITED", "PRIVATE_LIMITED", "PRIVATE_LIMITED_COMPANY", "GMBH", "BV"), 1),
    **dict.fromkeys(("PLC", "PUBLIC_LIMITED", "PUBLIC_LIMITED_COMPANY", "AG", "SA", "CORPORATION", "INC"), 2),
    **dict.fromkeys(("PARTNERSHIP", "GENERAL_PARTNERSHIP"), 3),
    **dict.fromkeys(("LP", "LIMITED_PARTNERSHIP"), 4),
    **dict.fromkeys(("LLP", "LIMITED_LIABILITY_PARTNERSHIP"), 5),
    "TRUST": 6,
    "FOUNDATION": 7,
    **dict.fromkeys(("SOLE_PROPRIETORSHIP", "SOLE_PROPRIETOR", "SOLE_TRADER"), 8),
    "BRANCH": 9,
    **dict.fromkeys(("NON_PROFIT", "NONPROFIT", "NPO", "NGO", "ASSOCIATION", "CHARITY"), 10),
    **dict.fromkeys(("COOPERATIVE", "COOP"), 11),
    **dict.fromkeys(("GOVERNMENT", "STATE_OWNED", "PUBLIC_BODY"), 12),
}
OTHER_INCORPORATION_TYPE = 13

# IdCardType ids and how a seed 004 `documentType` of a card created elsewhere is answered.
ID_CARD_TYPE_NAMES = {
    1: "passport",
    2: "national_id",
    3: "driving_licence",
    4: "residence_permit",
    5: "other",
}


def id_card_type_for(document_type: str) -> int:
    """`documentType` as sent -> IdCardType id: passport 1, national id / id card 2, driving
    licence 3, residence permit 4, anything else 5 (Other)."""
    text = " ".join(document_type.lower().replace("_", " ").replace("-", " ").split())
    if "passport" in text:
        return 1
    if "driv" in text and ("licen" in text or "permit" in text):
        return 3
    if "residen" in text:
        return 4
    if (
        text in {"id", "nid", "national id"}
        or "id card" in text
        or "identity" in text
        or "national id" in text
    ):
        return 2
    return 5


def incorporation_type_for(legal_entity_type: str) -> int | None:
    if not legal_entity_type:
        return None
    key = "_".join(legal_entity_type.upper().replace("-", " ").replace(".", "").split())
    return INCORPORATION_TYPES.get(key, OTHER_INCORPORATION_TYPE)


ID_CARD_KEY = (
    "id_card_type_id",
    "number",
    "issued_date",
    "expiration_date",
    "issued_country_id",
    "document_type_name",
    "tags",
)
ADDRESS_KEY = ("street_name", "postcode", "city", "state", "country_id", "address_type", "tags")
_UNSET = object()


@dataclasses.dataclass
class AssociateData:
    """A shareholder or director of an entity user: a person customer, identified by its own
    `userId` or, without one, by its position in the list (`{entity}-SH{n}`, `{entity}-DIR{n}`)."""

    user_id: str | None
    fields: dict
    percentage: Decimal | object | None = _UNSET  # _UNSET: not sent, keep the stake's percentage


@dataclasses.dataclass
class UserData:
    """What a seed 004 user body asks to write, in model terms (built by the API serializers).

    `None` (and a missing key of `contacts`) means "not sent: keep". Rows are model field
    values with foreign keys as `<name>_id`; the ID card type and the incorporation type are
    derived here from `document_type_name` and `legal_entity_type`.
    """

    user_id: str
    fields: dict = dataclasses.field(default_factory=dict)
    id_cards: list[dict] | None = None
    addresses: list[dict] | None = None
    contacts: dict[int, list[str]] = dataclasses.field(default_factory=dict)  # type of new rows -> values
    shareholders: list[AssociateData] | None = None
    directors: list[AssociateData] | None = None


@dataclasses.dataclass
class EventData:
    user_id: str
    timestamp: datetime
    event_id: str | None = None
    reason: str = ""
    description: str = ""
    attributes: UserData | None = None
    raw_attributes: dict = dataclasses.field(default_factory=dict)
    digest: str = ""


@dataclasses.dataclass(frozen=True)
class UpsertResult:
    customer: Customer
    created: bool


@dataclasses.dataclass(frozen=True)
class EventResult:
    event: UserEvent
    customer: Customer
    replayed: bool


def payload_digest(payload) -> str:
    """sha256 of the canonical JSON of a request body: equal bodies, equal digests, whatever
    the key order or spacing."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _kind_name(customer_type_id: int) -> str:
    return "an individual" if customer_type_id == PERSON else "an entity"


# --- users -------------------------------------------------------------------------------


@transaction.atomic
def individual_user_upsert(*, actor: Actor, data: UserData) -> UpsertResult:
    """Create the individual user `data.user_id`, or update it if it exists (seed 004 POST)."""
    return _user_upsert(actor=actor, data=data, customer_type_id=PERSON)


@transaction.atomic
def entity_user_upsert(*, actor: Actor, data: UserData) -> UpsertResult:
    """Create the entity user `data.user_id` with its shareholders and directors, or update it."""
    return _user_upsert(actor=actor, data=data, customer_type_id=ORGANISATION)


def _user_upsert(*, actor: Actor, data: UserData, customer_type_id: int) -> UpsertResult:
    existing = Customer.objects.filter(external_ref=data.user_id).first()
    if existing is not None and existing.customer_type_id != customer_type_id:
        raise ConflictError(
            f"User {data.user_id} exists already as {_kind_name(existing.customer_type_id)} user.",
            errors={"userId": [f"Already in use by {_kind_name(existing.customer_type_id)} user."]},
        )
    cause = f"user {data.user_id} posted"
    if existing is None:
        fields = {
            "external_ref": data.user_id,
            "customer_type": CustomerType.objects.get(pk=customer_type_id),
            "status": CustomerStatus.objects.get(pk=ACTIVE),
            **_with_derived(data.fields),
        }
        if fields.get("registered_at") and not fields.get("relationship_start_date"):
            fields["relationship_start_date"] = timezone.localdate(fields["registered_at"])
        customer = customer_services.customer_create(
            actor=actor, fields=fields, cause=cause, rescore=False
        ).customer
        touched = {customer.pk}
        touched |= _apply_lists(actor=actor, customer=customer, data=data, cause=cause)
    else:
        customer = lock_customer(existing)
        touched = _apply(actor=actor, customer=customer, data=data, cause=cause)
    _rescore(actor, touched, cause)
    return UpsertResult(Customer.objects.get(pk=customer.pk), existing is None)


def _apply(*, actor: Actor, customer: Customer, data: UserData, cause: str) -> set[int]:
    """Write `data` onto an existing customer; answers the ids of the customers written to."""
    touched = set()
    changes = _changed_fields(customer, _with_derived(data.fields))
    if "registered_at" in changes and customer.relationship_start_date is None:
        changes["relationship_start_date"] = timezone.localdate(changes["registered_at"])
    if changes:
        customer_services.customer_update(
            actor=actor, customer=customer, fields=changes, cause=cause, rescore=False, triggered_by="API"
        )
        touched.add(customer.pk)
    return touched | _apply_lists(actor=actor, customer=customer, data=data, cause=cause)


def _apply_lists(*, actor: Actor, customer: Customer, data: UserData, cause: str) -> set[int]:
    """Bring the customer's KYC lists and associates in line with `data`; answers the ids of
    the customers written to."""
    written = False
    if data.id_cards is not None:
        if not customer.is_person and data.id_cards:
            raise ApplicationError(
                errors={"legalDocuments": ["Identity documents belong to individual users."]}
            )
        if customer.is_person:
            plan = _plan(list(customer.id_cards.all()), _id_card_rows(data.id_cards), ID_CARD_KEY)
            written |= _write(actor, customer, "id-card", *plan)
    if data.addresses is not None:
        plan = _plan(list(customer.addresses.all()), data.addresses, ADDRESS_KEY)
        written |= _write(actor, customer, "addresses", *plan)
    if data.contacts:
        # One list in the model: emails, phones, faxes and websites change in one write.
        means = list(CommunicationMeans.objects.filter(customer=customer))
        stale, missing = [], []
        for new_type, values in data.contacts.items():
            rows = [row for row in means if row.communication_means_type_id in CONTACT_TYPES[new_type]]
            wanted = [{"communication_means_type_id": new_type, "value": value} for value in values]
            list_stale, list_missing = _plan(rows, wanted, ("value",))
            stale += list_stale
            missing += list_missing
        written |= _write(actor, customer, "communication-means", stale, missing)
    touched = {customer.pk} if written else set()
    if data.shareholders is not None:
        touched |= _sync_shareholders(actor, customer, data.shareholders, cause)
    if data.directors is not None:
        touched |= _sync_directors(actor, customer, data.directors, cause)
    return touched


def _with_derived(fields: dict) -> dict:
    """`fields` plus what follows from them: the incorporation type of a legal entity type."""
    if "legal_entity_type" not in fields:
        return fields
    type_id = incorporation_type_for(fields["legal_entity_type"])
    incorporation_type = IncorporationType.objects.get(pk=type_id) if type_id else None
    return {**fields, "incorporation_type": incorporation_type}


def _id_card_rows(documents: list[dict]) -> list[dict]:
    return [
        {**document, "id_card_type_id": id_card_type_for(document["document_type_name"])}
        for document in documents
    ]


def _changed_fields(customer: Customer, fields: dict) -> dict:
    """The fields whose value differs from the customer's (foreign keys compared by id)."""
    changed = {}
    for name, value in fields.items():
        field = customer._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            current, new = getattr(customer, field.attname), (value.pk if value is not None else None)
        else:
            current, new = getattr(customer, name), value
        if current != new:
            changed[name] = value
    return changed


def _row_key(source, names) -> str:
    get = source.get if isinstance(source, dict) else lambda name: getattr(source, name)
    return json.dumps([get(name) for name in names], sort_keys=True, default=str)


def _plan(rows: list, wanted: list[dict], key) -> tuple[list, list[dict]]:
    """What makes `rows` (a KYC list, or part of one) hold exactly `wanted`: the rows to
    remove and the rows to add. Rows equal to a wanted item stay, keeping their ids."""
    available: dict[str, list] = {}
    for row in rows:
        available.setdefault(_row_key(row, key), []).append(row)
    missing = []
    for values in wanted:
        kept = available.get(_row_key(values, key))
        if kept:
            kept.pop(0)
        else:
            missing.append(values)
    return [row for group in available.values() for row in group], missing


def _write(actor: Actor, customer: Customer, list_path: str, stale: list, missing: list[dict]) -> bool:
    """Carry out a `_plan` through the KYC services; answers whether anything was written."""
    kyc_list = BY_PATH[list_path]
    for row in stale:
        kyc_services.kyc_row_delete(
            actor=actor, customer=customer, kyc_list=kyc_list, row_id=row.pk, rescore=False
        )
    if missing:
        kyc_services.kyc_rows_add(
            actor=actor, customer=customer, kyc_list=kyc_list, rows=missing, rescore=False
        )
    return bool(stale or missing)


# --- shareholders and directors -------------------------------------------------------------


def _associate_person(
    actor: Actor, entity: Customer, associate: AssociateData, ref: str, prop: str, cause: str
) -> tuple[Customer, bool]:
    """The person customer behind a shareholder or director, created or brought up to date."""
    if ref == entity.external_ref:
        raise ApplicationError(
            errors={f"{prop}.userId": ["An entity cannot be its own shareholder or director."]}
        )
    person = Customer.objects.filter(external_ref=ref).first()
    if person is None:
        fields = {
            "external_ref": ref,
            "customer_type": CustomerType.objects.get(pk=PERSON),
            "status": CustomerStatus.objects.get(pk=PROSPECT),
            **associate.fields,
        }
        result = customer_services.customer_create(actor=actor, fields=fields, cause=cause, rescore=False)
        return result.customer, True
    if not person.is_person:
        raise ApplicationError(errors={f"{prop}.userId": [f"User {ref} is an entity, not an individual."]})
    changes = _changed_fields(person, associate.fields)
    if changes:
        customer_services.customer_update(
            actor=actor, customer=person, fields=changes, cause=cause, rescore=False
        )
    return person, bool(changes)


def _position_ref(entity_ref: str, tail: str) -> str:
    """`{entity}-SH{n}`; when that is too long for a reference, the entity's reference is
    shortened and made unique again by a digest of it (same entity, same reference)."""
    ref = entity_ref + tail
    if len(ref) <= 100:
        return ref
    digest = hashlib.sha256(entity_ref.encode()).hexdigest()[:8]
    return f"{entity_ref[: 100 - len(tail) - 9]}~{digest}{tail}"


def _associates(
    actor, entity, associates, list_name, suffix, cause
) -> tuple[list[tuple[Customer, AssociateData]], set]:
    persons, touched, seen = [], set(), set()
    for index, associate in enumerate(associates):
        ref = associate.user_id or _position_ref(entity.external_ref, f"-{suffix}{index + 1}")
        prop = f"{list_name}[{index}]"
        if ref in seen:
            raise ApplicationError(errors={f"{prop}.userId": [f"User {ref} is listed twice."]})
        seen.add(ref)
        person, written = _associate_person(actor, entity, associate, ref, prop, cause)
        if written:
            touched.add(person.pk)
        persons.append((person, associate))
    return persons, touched


def _sync_shareholders(
    actor: Actor, entity: Customer, shareholders: list[AssociateData], cause: str
) -> set[int]:
    """The entity's stakes held by persons become exactly the listed ones. Stakes held by
    organisations (seed 003 only) are not expressible here and are left alone."""
    persons, touched = _associates(actor, entity, shareholders, "shareHolders", "SH", cause)
    stakes = {
        stake.holder_id: stake
        for stake in Stake.objects.filter(
            entity=entity, holder__customer_type_id=PERSON, holder__deleted_at__isnull=True
        )
    }
    listed = set()
    for person, associate in persons:
        listed.add(person.pk)
        stake = stakes.get(person.pk)
        percentage = associate.percentage
        if stake is not None and (percentage is _UNSET or stake.percentage == percentage):
            continue
        if stake is not None:  # no stake_update service: a changed percentage is a new stake
            kyc_services.stake_remove(actor=actor, holder=person, stake_id=stake.pk, rescore=False)
        kyc_services.stake_add(
            actor=actor,
            holder=person,
            entity=entity,
            percentage=None if percentage is _UNSET else percentage,
            rescore=False,
        )
        touched |= {person.pk, entity.pk}
    for holder_id, stake in stakes.items():
        if holder_id not in listed:
            holder = Customer.objects.get(pk=holder_id)
            kyc_services.stake_remove(actor=actor, holder=holder, stake_id=stake.pk, rescore=False)
            touched |= {holder_id, entity.pk}
    return touched


def _sync_directors(actor: Actor, entity: Customer, directors: list[AssociateData], cause: str) -> set[int]:
    """The entity's director roles held by persons become exactly the listed ones."""
    persons, touched = _associates(actor, entity, directors, "directors", "DIR", cause)
    roles = {
        association.associate_id: association
        for association in CustomerAssociation.objects.filter(
            customer=entity,
            role_id=DIRECTOR,
            associate__customer_type_id=PERSON,
            associate__deleted_at__isnull=True,
        )
    }
    role = None
    listed = set()
    for person, _associate in persons:
        listed.add(person.pk)
        if person.pk in roles:
            continue
        role = role or AssociationRole.objects.get(pk=DIRECTOR)
        kyc_services.association_add(actor=actor, associate=person, customer=entity, role=role, rescore=False)
        touched |= {person.pk, entity.pk}
    for associate_id, association in roles.items():
        if associate_id not in listed:
            associate = Customer.objects.get(pk=associate_id)
            kyc_services.association_remove(
                actor=actor, associate=associate, association_id=association.pk, rescore=False
            )
            touched |= {associate_id, entity.pk}
    return touched


def _rescore(actor: Actor, customer_ids: set[int], cause: str) -> dict[int, int]:
    if not customer_ids:
        return {}
    return customer_risk_refresh(customer_ids=customer_ids, actor=actor, cause=cause)


# --- user events -----------------------------------------------------------------------------


@transaction.atomic
def user_event_apply(*, actor: Actor, kind: str, data: EventData) -> EventResult:
    """Record a seed 004 user event and apply its `updatedAttributes` to the user (merge semantics).

    Idempotent on `eventId`: the same event posted again (same body, same kind) answers the
    recorded event without applying it again; another body under a used `eventId` is a 409.
    An event without `eventId` gets a generated one and cannot be replayed.
    """
    customer_type_id = PERSON if kind == UserEvent.Kind.INDIVIDUAL else ORGANISATION
    customer = Customer.objects.filter(external_ref=data.user_id).first()
    if customer is None:
        raise ApplicationError(errors={"userId": [f"Unknown user {data.user_id}."]})
    if customer.customer_type_id != customer_type_id:
        raise ApplicationError(
            errors={"userId": [f"User {data.user_id} is {_kind_name(customer.customer_type_id)} user."]}
        )
    # Events of one user are applied one after the other, replays included.
    customer = lock_customer(customer)
    if data.event_id:
        replay = _replay(data, kind)
        if replay is not None:
            return EventResult(replay, customer, True)
    event = UserEvent(
        event_id=data.event_id or uuid.uuid4().hex,
        customer=customer,
        kind=kind,
        timestamp=data.timestamp,
        reason=data.reason,
        event_description=data.description,
        updated_attributes=data.raw_attributes,
        payload_digest=data.digest,
    )
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # Another request recorded this eventId for another user meanwhile (same user: we hold its lock).
        replay = _replay(data, kind)
        if replay is not None:
            return EventResult(replay, customer, True)
        raise ConflictError(errors={"eventId": ["Already used by another event."]}) from None
    cause = f"user event {event.event_id}"
    touched = set()
    if data.attributes is not None:
        touched = _apply(actor=actor, customer=customer, data=data.attributes, cause=cause)
    trails = _rescore(actor, touched, cause)
    trail_id = trails.get(customer.pk) or (
        RiskTrail.objects.filter(customer=customer).order_by("-id").values_list("id", flat=True).first()
    )
    if trail_id is not None:
        event.risk_trail_id = trail_id
        event.save(update_fields=["risk_trail"])
    audit_log(actor=actor, action=AuditTrail.Action.CREATE, instance=event, after=snapshot(event))
    return EventResult(event, Customer.objects.get(pk=customer.pk), False)


def _replay(data: EventData, kind: str) -> UserEvent | None:
    stored = UserEvent.objects.filter(event_id=data.event_id).first()
    if stored is None:
        return None
    if stored.payload_digest != data.digest or stored.kind != kind:
        raise ConflictError(
            f"Event {data.event_id} was recorded with another body.",
            errors={"eventId": ["Already used by another event."]},
        )
    return stored
