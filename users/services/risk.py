"""Recalculating customers' risk and recording risk trails; contamination between associates.

`customer_risk_refresh` is the one place a customer's risk fields change. It runs inside
the caller's transaction (a service that changed the customer's data), scores the
customers in bulk, and appends a risk trail for each whose score, level, contaminators
or inputs changed. For the others it answers the latest trail's id, so a write that
changes nothing repeats the previous `idRiskTrail`, as the seed's consecutive answers show.

Contamination is one hop: a customer's contaminators are its direct associates (stakes
and roles, either direction) whose own score is higher than its own; its effective score
is the highest of these. Using own scores (not effective ones) keeps it from chasing its
tail around a cycle of associates.

Reads and writes are a fixed number of statements per call whatever the number of
customers (`load_inputs`, `_write_risk`): the bulk recalculation of every customer
(`risk_recalculate_all`, measured by `make bench-risk`) depends on it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from compliance.audit import Actor
from users.models import Customer, CustomerAssociation, RiskTrail, Stake
from users.risk.inputs import associations_of, id_in, load_inputs
from users.risk.model import RiskModel

logger = logging.getLogger(__name__)

RISK_FIELDS = [
    "risk_score",
    "risk_effective_score",
    "risk_level",
    "risk_breakdown",
    "risk_contaminators",
    "risk_inputs_digest",
    "risk_calculated_at",
    "onboarding_risk_score",
    "onboarding_risk_level",
]
CONTAMINATION_FIELDS = ["risk_contaminators", "risk_effective_score", "risk_level", "risk_calculated_at"]
# What a refresh compares with the new results (the breakdown is not read: it is rewritten).
_STATE_FIELDS = (
    "pk",
    "risk_score",
    "risk_effective_score",
    "risk_level",
    "risk_contaminators",
    "risk_inputs_digest",
    "risk_calculated_at",
    "onboarding_risk_score",
    "onboarding_risk_level",
)
# Rows per UPDATE/INSERT statement on PostgreSQL.
_WRITE_BATCH = 1000


def _actor_user(actor: Actor):
    return actor.api_key.user if actor.api_key is not None else actor.user


def _contamination(customer_ids, own_scores: dict[int, int]) -> dict[int, list[dict]]:
    """Contaminators of each customer: associates scoring higher, highest first."""
    associates = associations_of(customer_ids)
    unknown = {a for group in associates.values() for a in group} - own_scores.keys()
    scores = dict(own_scores)
    if unknown:
        scores.update(
            Customer.objects.filter(id_in("pk", unknown)).values_list("pk", "risk_score").order_by()
        )
    result = {}
    for pk in customer_ids:
        own = scores.get(pk, 0)
        found = [
            {"idCustomer": a, "newCalculatedRisk": scores[a]}
            for a in associates.get(pk, ())
            if a in scores and scores[a] > own
        ]
        result[pk] = (
            sorted(found, key=lambda c: (-c["newCalculatedRisk"], c["idCustomer"])) if found else found
        )
    return result


def _latest_trail_ids(customer_ids) -> dict[int, int]:
    return dict(
        RiskTrail.objects.filter(id_in("customer_id", customer_ids))
        .values("customer_id")
        .annotate(latest=Max("id"))
        .values_list("customer_id", "latest")
        .order_by()
    )


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# A risk trail records the customer's risk as just written: trail field <- customer field.
_TRAIL_SNAPSHOT = {
    "customer_id": "id",
    "score": "risk_score",
    "effective_score": "risk_effective_score",
    "level": "risk_level",
    "breakdown": "risk_breakdown",
    "contaminators": "risk_contaminators",
    "inputs_digest": "risk_inputs_digest",
}


def _write_risk(fields: list[str], rows: list[tuple], *, now, actor: Actor, cause: str) -> dict[int, int]:
    """Set `fields` of customers and append to each a risk trail of its risk as written
    (score, effective score, level, breakdown, contaminators, inputs digest), created at
    `now` by `actor` for `cause`, in ascending customer order; answer each customer's new
    trail id. `rows` are `(pk, *values)` in ascending pk order, JSON values as Python.

    PostgreSQL: one statement per batch, whatever the number of customers: the rows travel
    as one JSON document (`jsonb_to_recordset`), the UPDATE returns the risk it wrote and
    the INSERT of the trails selects from it. Elsewhere (SQLite): an UPDATE by primary key
    per row, the risk read back, `bulk_create`. Either way the columns get the values
    `bulk_update` + `bulk_create` wrote, without their CASE expression per row and field.
    """
    if not rows:
        return {}
    user = _actor_user(actor)
    trail_values = {
        "created_at": now,
        "created_by_id": user.pk if user is not None else None,
        "created_by_label": actor.label[:200],
        "cause": cause[:300],
    }
    customer, trail = Customer._meta, RiskTrail._meta
    qn = connection.ops.quote_name
    table, pk_column = qn(customer.db_table), qn(customer.pk.column)
    columns = [customer.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        return _write_risk_row_by_row(columns, rows, trail_values)

    sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns)
    definition = ", ".join(f"{qn(f.column)} {f.cast_db_type(connection)}" for f in (customer.pk, *columns))
    snapshot = [
        (trail.get_field(name), customer.get_field(source)) for name, source in _TRAIL_SNAPSHOT.items()
    ]
    given = [(trail.get_field(name), value) for name, value in trail_values.items()]
    rest = [
        f for f in trail.concrete_fields if not f.primary_key and f not in {f for f, _ in (*snapshot, *given)}
    ]
    given += [(f, f.get_db_prep_save(f.get_default(), connection)) for f in rest]
    names = [f.column for f in (customer.pk, *columns)]
    sql = (
        f"WITH written AS (UPDATE {table} SET {sets} "  # noqa: S608 (model metadata)
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({definition}) WHERE {table}.{pk_column} = v.{pk_column} "
        f"RETURNING {', '.join(f'{table}.{qn(source.column)}' for _, source in snapshot)}) "
        f"INSERT INTO {qn(trail.db_table)} ({', '.join(qn(f.column) for f, _ in (*snapshot, *given))}) "
        f"SELECT {', '.join(f'written.{qn(source.column)}' for _, source in snapshot)}, "
        f"{', '.join(f'%s::{f.cast_db_type(connection)}' for f, _ in given)} "
        f"FROM written ORDER BY written.{pk_column} "
        f"RETURNING {qn(trail.pk.column)}, {qn(trail.get_field('customer').column)}"
    )
    result = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _WRITE_BATCH):
            batch = rows[start : start + _WRITE_BATCH]
            payload = json.dumps([dict(zip(names, row, strict=True)) for row in batch], default=_json_default)
            cursor.execute(sql, [payload, *(value for _, value in given)])
            result.update((customer_id, pk) for pk, customer_id in cursor.fetchall())
    return result


def _write_risk_row_by_row(columns, rows: list[tuple], trail_values: dict) -> dict[int, int]:
    """`_write_risk` on databases other than PostgreSQL (the embedded SQLite default)."""
    qn = connection.ops.quote_name
    meta = Customer._meta
    adapt = [
        (lambda value, f=f: f.get_db_prep_value(value, connection))
        if f.get_internal_type() in ("DateTimeField", "JSONField")
        else None
        for f in columns
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in columns)} "  # noqa: S608
            f"WHERE {qn(meta.pk.column)} = %s",
            [
                (*(a(value) if a else value for a, value in zip(adapt, row[1:], strict=True)), row[0])
                for row in rows
            ],
        )
    names, sources = list(_TRAIL_SNAPSHOT), ["pk", *list(_TRAIL_SNAPSHOT.values())[1:]]
    written = (
        Customer.all_objects.filter(pk__in=[row[0] for row in rows]).order_by("pk").values_list(*sources)
    )
    created = RiskTrail.objects.bulk_create(
        [RiskTrail(**trail_values, **dict(zip(names, values, strict=True))) for values in written]
    )
    return {trail.customer_id: trail.pk for trail in created}


def customer_risk_refresh(
    *,
    customer_ids: Iterable[int],
    actor: Actor,
    cause: str,
    model: RiskModel | None = None,
    contaminate: bool = True,
) -> dict[int, int]:
    """Re-score customers; answer each one's latest `idRiskTrail` (new or unchanged).

    With `contaminate`, associates of customers whose own score changed are refreshed too
    (their contaminators may have changed): inline for a few, in a worker beyond
    `RISK_CONTAMINATION_INLINE_LIMIT`.
    """
    result, _ = _refresh(
        sorted(set(customer_ids)), actor=actor, cause=cause, model=model, contaminate=contaminate, answer=True
    )
    return result


def _refresh(
    ids: list[int], *, actor: Actor, cause: str, model: RiskModel | None, contaminate: bool, answer: bool
) -> tuple[dict[int, int], int]:
    """`customer_risk_refresh` of sorted, distinct ids; also answers how many trails it
    appended. Without `answer`, the latest trail ids of unchanged customers are not looked
    up (the bulk recalculation only counts)."""
    if not ids:
        return {}, 0
    model = model or RiskModel.load()
    inputs = load_inputs(ids)
    state = {
        row[0]: row
        for row in Customer.all_objects.filter(id_in("pk", ids)).values_list(*_STATE_FIELDS).order_by()
    }
    evaluations = {pk: model.evaluate(inputs[pk]) for pk in ids if pk in inputs}
    contaminators = _contamination(list(evaluations), {pk: e.score for pk, e in evaluations.items()})

    now = timezone.now()
    updates, own_changed = [], []
    for pk, evaluation in evaluations.items():
        _, score, effective_was, level_was, contaminators_were, digest_was, calculated_at, *onboarding = (
            state[pk]
        )
        found = contaminators[pk]
        effective = (
            max(evaluation.score, *(c["newCalculatedRisk"] for c in found)) if found else evaluation.score
        )
        level = model.level_for(effective)
        digest = inputs[pk].digest()
        first = calculated_at is None
        if not first and (
            digest == digest_was
            and evaluation.score == score
            and effective == effective_was
            and level == level_was
            and found == contaminators_were
        ):
            continue
        if evaluation.score != score or first:
            own_changed.append(pk)
        if onboarding[0] is None:
            onboarding = [evaluation.score, evaluation.level]
        updates.append(
            (pk, evaluation.score, effective, level, evaluation.breakdown, found, digest, now, *onboarding)
        )
    created = _write_risk(RISK_FIELDS, updates, now=now, actor=actor, cause=cause)
    result = {}
    if answer:
        result = _latest_trail_ids([pk for pk in ids if pk not in created]) if len(created) < len(ids) else {}
        result.update(created)

    if contaminate and own_changed:
        touched = associations_of(own_changed)
        associate_ids = {a for pk in own_changed for a in touched.get(pk, ())} - set(ids)
        if associate_ids:
            names = ", ".join(str(pk) for pk in own_changed[:5])
            contamination_schedule(
                customer_ids=associate_ids,
                actor=actor,
                cause=f"contamination: risk of customer {names} changed",
            )
    return result, len(created)


def contamination_schedule(*, customer_ids, actor: Actor, cause: str) -> None:
    """Refresh associates' contamination: now when few, after commit in a worker when many."""
    ids = sorted(customer_ids)
    if len(ids) <= settings.RISK_CONTAMINATION_INLINE_LIMIT:
        customer_contamination_refresh(customer_ids=ids, actor=actor, cause=cause)
        return
    from users import tasks

    transaction.on_commit(lambda: tasks.refresh_contamination.delay(ids, cause))


def customer_contamination_refresh(
    *, customer_ids, actor: Actor, cause: str, model: RiskModel | None = None
) -> dict[int, int]:
    """Recompute contaminators and effective level of customers whose own data did not change."""
    ids = sorted(set(customer_ids))
    model = model or RiskModel.load()
    state = list(
        Customer.objects.filter(id_in("pk", ids))
        .order_by("pk")
        .values_list("pk", "risk_score", "risk_effective_score", "risk_contaminators")
    )
    contaminators = _contamination([row[0] for row in state], {row[0]: row[1] for row in state})
    now = timezone.now()
    updates = []
    for pk, score, effective_was, contaminators_were in state:
        found = contaminators[pk]
        effective = max(score, *(c["newCalculatedRisk"] for c in found)) if found else score
        if found == contaminators_were and effective == effective_was:
            continue
        updates.append((pk, found, effective, model.level_for(effective), now))
    return _write_risk(CONTAMINATION_FIELDS, updates, now=now, actor=actor, cause=cause)


def _associated_after(last_pk: int, limit: int) -> list[int]:
    """The first `limit` ids above `last_pk` of customers in a stake or a role (either side),
    deleted ones included: keyset paging, so memory stays flat however many there are."""
    found: set[int] = set()
    for model_cls, column in (
        (Stake, "holder_id"),
        (Stake, "entity_id"),
        (CustomerAssociation, "associate_id"),
        (CustomerAssociation, "customer_id"),
    ):
        found.update(
            model_cls.objects.filter(**{f"{column}__gt": last_pk})
            .order_by(column)
            .values_list(column, flat=True)
            .distinct()[:limit]
        )
    return sorted(found)[:limit]


def risk_recalculate_all(*, actor: Actor, cause: str, chunk_size: int = 1000, progress=None) -> dict:
    """Re-score every live customer, chunk by chunk (memory flat in the number of customers),
    then settle contamination among associated customers. Answers counts."""
    model = RiskModel.load()
    last_pk, scored, trails = 0, 0, 0
    while True:
        chunk = list(
            Customer.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:chunk_size]
        )
        if not chunk:
            break
        with transaction.atomic():
            _, appended = _refresh(
                chunk, actor=actor, cause=cause, model=model, contaminate=False, answer=False
            )
        trails += appended
        scored += len(chunk)
        last_pk = chunk[-1]
        if progress:
            progress(scored)
    # Own scores are now final; settle the effective scores of associated customers.
    contaminated, last_pk = 0, 0
    while chunk := _associated_after(last_pk, chunk_size):
        with transaction.atomic():
            contaminated += len(
                customer_contamination_refresh(customer_ids=chunk, actor=actor, cause=cause, model=model)
            )
        last_pk = chunk[-1]
    return {"customers": scored, "trails": trails + contaminated, "contamination_trails": contaminated}
