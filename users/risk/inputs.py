"""What the risk factors read, loaded for many customers in a fixed number of queries.

`RiskInputs` holds only what scoring depends on, so its digest tells whether a write
changed the inputs of the risk (a new address street name does not; an unverified
address does).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from datetime import date, timedelta

from django.db import connection
from django.db.models import F, Lookup, Q
from django.utils import timezone

from users import models as m


class _AnyOf(Lookup):
    """`column = ANY(%s::<type>[])` on PostgreSQL; the right-hand side is the array's text
    (`{1,2,3}`), one parameter however many ids there are."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{self.lhs.output_field.cast_db_type(connection)}[])", (*lhs_params, self.rhs)


def id_in(field: str, ids) -> Q:
    """A filter `field IN ids` (integer ids). On PostgreSQL `field = ANY(array)`: one
    parameter instead of one per id, so the SQL of a chunk of a thousand customers stays
    short and cheap to build, send and plan; elsewhere the ordinary `__in` lookup."""
    if connection.vendor == "postgresql":
        return Q(_AnyOf(F(field), "{%s}" % ",".join(str(int(pk)) for pk in ids)))  # noqa: UP031
    return Q(**{f"{field}__in": ids})


@dataclasses.dataclass
class RiskInputs:
    customer_id: int
    customer_type: int
    non_face_to_face: bool = False
    referred: bool = False
    relationship_start_date: date | None = None
    # Person: nationality, birth, residence; organisation: incorporation, domiciliary, activity.
    main_countries: list[int] = dataclasses.field(default_factory=list)
    incorporation_type: int | None = None
    id_cards: list[tuple[str | None, bool]] = dataclasses.field(default_factory=list)  # (expiry ISO, copy)
    addresses: list[tuple[int | None, bool]] = dataclasses.field(default_factory=list)  # (country, verified)
    communication_types: list[int] = dataclasses.field(default_factory=list)
    wealth: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (scale, status)
    income: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (scale, status)
    fund_countries: list[int | None] = dataclasses.field(default_factory=list)
    statements: list[tuple[int, bool]] = dataclasses.field(default_factory=list)  # (year, copy)
    presence_countries: list[int] = dataclasses.field(default_factory=list)
    screening: list[tuple[int, int, bool, bool]] = dataclasses.field(
        default_factory=list
    )  # (list type, score, inspected, confirmed)
    documents: list[int] = dataclasses.field(default_factory=list)  # checked or on file
    activity_risks: list[int] = dataclasses.field(default_factory=list)
    behavior_risks: list[int] = dataclasses.field(default_factory=list)
    enhanced_checks: list[int] = dataclasses.field(default_factory=list)
    # Transaction monitoring, per day: (day ISO, flagged, suspended, blocked) for days with hits.
    monitoring: list[tuple[str, int, int, int]] = dataclasses.field(default_factory=list)

    @property
    def is_person(self) -> bool:
        return self.customer_type == m.customers.PERSON

    def digest(self) -> str:
        """MD5 of the canonical JSON of every field, lists sorted by `repr`: stored with the
        risk, so it must never change for the same inputs (it is `dataclasses.asdict` +
        `json.dumps(sort_keys=True)`, without the deep copy `asdict` makes)."""
        data = {}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            data[name] = sorted(value, key=repr) if isinstance(value, list) else value
        raw = _DIGEST_ENCODER.encode(data)
        return hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()


# Monitoring days older than this are not read (the factor's window is at most a year).
MONITORING_HORIZON_DAYS = 366

_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(RiskInputs))
_DIGEST_ENCODER = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))


_CUSTOMER_FIELDS = (
    "id",
    "customer_type_id",
    "non_face_to_face",
    "referral_agent",
    "relationship_start_date",
    "country_nationality_id",
    "country_birth_id",
    "country_residence_id",
    "country_incorporation_id",
    "country_domiciliary_id",
    "country_activity_id",
    "incorporation_type_id",
)


def load_inputs(customer_ids) -> dict[int, RiskInputs]:
    """Inputs of every listed customer (deleted ones included: callers decide), in 17 queries."""
    ids = list(customer_ids)
    if not ids:
        return {}
    inputs: dict[int, RiskInputs] = {}
    for row in m.Customer.all_objects.filter(id_in("pk", ids)).values_list(*_CUSTOMER_FIELDS):
        (pk, ctype, nftf, referral, start, nat, birth, res, inc, dom, act, inc_type) = row
        person = ctype == m.customers.PERSON
        inputs[pk] = RiskInputs(
            customer_id=pk,
            customer_type=ctype,
            non_face_to_face=nftf,
            referred=bool(referral and referral.strip()),
            relationship_start_date=start,
            main_countries=[c for c in ((nat, birth, res) if person else (inc, dom, act)) if c],
            incorporation_type=inc_type,
        )

    def rows(model, *fields):
        return model.objects.filter(id_in("customer_id", ids)).values_list("customer_id", *fields).order_by()

    for cid, expiry, copy in rows(m.IdCard, "expiration_date", "copy"):
        inputs[cid].id_cards.append((expiry.isoformat() if expiry else None, copy))
    for cid, country, verified in rows(m.Address, "country_id", "verified"):
        inputs[cid].addresses.append((country, verified))
    for cid, kind in rows(m.CommunicationMeans, "communication_means_type_id"):
        inputs[cid].communication_types.append(kind)
    for cid, scale, status in rows(m.Wealth, "wealth_scale_id", "wealth_status_id"):
        inputs[cid].wealth.append((scale, status))
    for cid, scale, status in rows(m.AnnualIncome, "annual_income_scale_id", "annual_income_status_id"):
        inputs[cid].income.append((scale, status))
    for cid, country in rows(m.Fund, "country_id"):
        inputs[cid].fund_countries.append(country)
    for cid, year, copy in rows(m.FinancialStatement, "year", "copy"):
        inputs[cid].statements.append((year, copy))
    for cid, country in rows(m.CountryPresence, "country_id"):
        inputs[cid].presence_countries.append(country)
    for cid, kind, score, inspected, confirmed in rows(
        m.ScreeningRisk, "screening_risk_type_id", "score", "inspected", "confirmed"
    ):
        inputs[cid].screening.append((kind, score, inspected, confirmed))
    for cid, kind in rows(m.Document, "document_type_id"):
        if kind is not None:
            inputs[cid].documents.append(kind)

    checked = (
        ("checked_documents", "documenttype_id", "documents"),
        ("checked_activity_risks", "activityrisk_id", "activity_risks"),
        ("checked_behavior_risks", "behaviorrisk_id", "behavior_risks"),
        ("checked_enhanced_checks", "enhancedcheck_id", "enhanced_checks"),
    )
    for field, column, attribute in checked:
        through = m.Customer._meta.get_field(field).remote_field.through
        for cid, value in through.objects.filter(id_in("customer_id", ids)).values_list(
            "customer_id", column
        ):
            getattr(inputs[cid], attribute).append(value)
    horizon = timezone.localdate() - timedelta(days=MONITORING_HORIZON_DAYS)
    for cid, day, flagged, suspended, blocked in (
        rows(m.MonitoringActivity, "day", "flagged", "suspended", "blocked")
        .filter(day__gte=horizon)
        .exclude(flagged=0, suspended=0, blocked=0)
    ):
        inputs[cid].monitoring.append((day.isoformat(), flagged, suspended, blocked))
    for item in inputs.values():
        item.documents = sorted(set(item.documents))
    return inputs


def associations_of(customer_ids) -> dict[int, set[int]]:
    """Every associate (stake or role, either direction) of each listed customer, in 2 queries."""
    ids = list(customer_ids)
    found: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return found
    wanted = set(ids)
    for model, a, b in (
        (m.Stake, "holder_id", "entity_id"),
        (m.CustomerAssociation, "associate_id", "customer_id"),
    ):
        query = id_in(a, ids) | id_in(b, ids)
        for left, right in model.objects.filter(query).values_list(a, b).order_by():
            if left in wanted:
                found[left].add(right)
            if right in wanted:
                found[right].add(left)
    return found
