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
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compliance.audit import Actor
from users.models import Customer, RiskTrail
from users.risk.inputs import associations_of, load_inputs
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


def _actor_user(actor: Actor):
    return actor.api_key.user if actor.api_key is not None else actor.user


def _contamination(customer_ids, own_scores: dict[int, int]) -> dict[int, list[dict]]:
    """Contaminators of each customer: associates scoring higher, highest first."""
    associates = associations_of(customer_ids)
    unknown = {a for group in associates.values() for a in group} - own_scores.keys()
    scores = dict(own_scores)
    if unknown:
        scores.update(Customer.objects.filter(pk__in=unknown).values_list("pk", "risk_score"))
    result = {}
    for pk in customer_ids:
        own = scores.get(pk, 0)
        found = [
            {"idCustomer": a, "newCalculatedRisk": scores[a]}
            for a in associates.get(pk, ())
            if a in scores and scores[a] > own
        ]
        result[pk] = sorted(found, key=lambda c: (-c["newCalculatedRisk"], c["idCustomer"]))
    return result


def _latest_trail_ids(customer_ids) -> dict[int, int]:
    return dict(
        RiskTrail.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(latest=Max("id"))
        .values_list("customer_id", "latest")
        .order_by()
    )


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
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    model = model or RiskModel.load()
    inputs = load_inputs(ids)
    customers = {c.pk: c for c in Customer.all_objects.filter(pk__in=ids).only("id", *RISK_FIELDS)}
    evaluations = {pk: model.evaluate(inputs[pk]) for pk in ids if pk in inputs}
    contaminators = _contamination(list(evaluations), {pk: e.score for pk, e in evaluations.items()})

    now = timezone.now()
    user = _actor_user(actor)
    changed, trails, own_changed = [], [], []
    for pk, evaluation in evaluations.items():
        customer = customers[pk]
        found = contaminators[pk]
        effective = max([evaluation.score, *(c["newCalculatedRisk"] for c in found)])
        level = model.level_for(effective)
        digest = inputs[pk].digest()
        first = customer.risk_calculated_at is None
        if not first and (
            digest == customer.risk_inputs_digest
            and evaluation.score == customer.risk_score
            and effective == customer.risk_effective_score
            and level == customer.risk_level
            and found == customer.risk_contaminators
        ):
            continue
        if evaluation.score != customer.risk_score or first:
            own_changed.append(pk)
        customer.risk_score = evaluation.score
        customer.risk_effective_score = effective
        customer.risk_level = level
        customer.risk_breakdown = evaluation.breakdown
        customer.risk_contaminators = found
        customer.risk_inputs_digest = digest
        customer.risk_calculated_at = now
        if customer.onboarding_risk_score is None:
            customer.onboarding_risk_score = evaluation.score
            customer.onboarding_risk_level = evaluation.level
        changed.append(customer)
        trails.append(
            RiskTrail(
                customer_id=pk,
                created_at=now,
                created_by=user,
                created_by_label=actor.label[:200],
                cause=cause[:300],
                score=evaluation.score,
                effective_score=effective,
                level=level,
                breakdown=evaluation.breakdown,
                contaminators=found,
                inputs_digest=digest,
            )
        )
    if changed:
        Customer.all_objects.bulk_update(changed, RISK_FIELDS, batch_size=500)
        RiskTrail.objects.bulk_create(trails, batch_size=500)
    result = _latest_trail_ids([pk for pk in ids if pk not in {c.pk for c in changed}])
    result.update({trail.customer_id: trail.pk for trail in trails})

    if contaminate and own_changed:
        touched = associations_of(own_changed)
        associate_ids = {a for pk in own_changed for a in touched.get(pk, ())} - set(ids)
        if associate_ids:
            names = ", ".join(str(pk) for pk in own_changed[:5])
            contamination_schedule(
                customer_ids=associate_ids, actor=actor, cause=f"contamination: risk of customer {names} changed"
            )
    return result


def contamination_schedule(*, customer_ids, actor: Actor, cause: str) -> None:
    """Refresh associates' contamination: now when few, after commit in a worker when many."""
    ids = sorted(customer_ids)
    if len(ids) <= settings.RISK_CONTAMINATION_INLINE_LIMIT:
        customer_contamination_refresh(customer_ids=ids, actor=actor, cause=cause)
        return
    from users import tasks

    transaction.on_commit(lambda: tasks.refresh_contamination.delay(ids, cause))


def customer_contamination_refresh(*, customer_ids, actor: Actor, cause: str) -> dict[int, int]:
    """Recompute contaminators and effective level of customers whose own data did not change."""
    ids = sorted(set(customer_ids))
    model = RiskModel.load()
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=ids).only("id", *RISK_FIELDS)}
    own = {pk: c.risk_score for pk, c in customers.items()}
    contaminators = _contamination(list(customers), own)
    now = timezone.now()
    user = _actor_user(actor)
    changed, trails = [], []
    for pk, customer in customers.items():
        found = contaminators[pk]
        effective = max([customer.risk_score, *(c["newCalculatedRisk"] for c in found)])
        level = model.level_for(effective)
        if found == customer.risk_contaminators and effective == customer.risk_effective_score:
            continue
        customer.risk_contaminators = found
        customer.risk_effective_score = effective
        customer.risk_level = level
        customer.risk_calculated_at = now
        changed.append(customer)
        trails.append(
            RiskTrail(
                customer_id=pk,
                created_at=now,
                created_by=user,
                created_by_label=actor.label[:200],
                cause=cause[:300],
                score=customer.risk_score,
                effective_score=effective,
                level=level,
                breakdown=customer.risk_breakdown,
                contaminators=found,
                inputs_digest=customer.risk_inputs_digest,
            )
        )
    if changed:
        Customer.all_objects.bulk_update(
            changed, ["risk_contaminators", "risk_effective_score", "risk_level", "risk_calculated_at"]
        )
        RiskTrail.objects.bulk_create(trails)
    return {trail.customer_id: trail.pk for trail in trails}


def risk_recalculate_all(*, actor: Actor, cause: str, chunk_size: int = 1000, progress=None) -> dict:
    """Re-score every live customer, chunk by chunk (memory flat in the number of customers),
    then settle contamination among associated customers. Answers counts."""
    model = RiskModel.load()
    last_pk, scored, trails = 0, 0, 0
    while True:
        chunk = list(Customer.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:chunk_size])
        if not chunk:
            break
        with transaction.atomic():
            before = _latest_trail_ids(chunk)
            result = customer_risk_refresh(
                customer_ids=chunk, actor=actor, cause=cause, model=model, contaminate=False
            )
        trails += sum(1 for pk, trail_id in result.items() if before.get(pk) != trail_id)
        scored += len(chunk)
        last_pk = chunk[-1]
        if progress:
            progress(scored)
    # Own scores are now final; settle the effective scores of associated customers.
    from users.models import CustomerAssociation, Stake

    associated = set()
    for model_cls, a, b in ((Stake, "holder_id", "entity_id"), (CustomerAssociation, "associate_id", "customer_id")):
        for left, right in model_cls.objects.values_list(a, b).iterator(chunk_size=5000):
            associated.update((left, right))
    contaminated = 0
    ordered = sorted(associated)
    for start in range(0, len(ordered), chunk_size):
        with transaction.atomic():
            contaminated += len(
                customer_contamination_refresh(customer_ids=ordered[start : start + chunk_size], actor=actor, cause=cause)
            )
    return {"customers": scored, "trails": trails + contaminated, "contamination_trails": contaminated}
