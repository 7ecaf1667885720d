"""After-commit consequences of domain events that belong to cases: alerts and cases from rule
hits and from screening hits.

`transaction.monitored` (published by `transactions.services` in the write's transaction)
is dispatched by the outbox in a worker. For each non-shadow hit the evaluation added
(`newHits`), and each side the hit is aimed at (`hitDirections`), the hit goes into the
open case of that side's user, or of its payment instrument when the side has no user
(`cases.services.alert_open_from_rule_hit`); a side with neither is skipped (logged).

`screening.hit_found` (published by the users app for each new or re-raised screening hit of a
customer, by customer and by ongoing screening) puts the hit into the SANCTIONS alert of its
watchlist source in the customer's open case (`cases.services.alert_open_from_screening_hit`);
`screening.hit_reviewed` applies the analyst's review to the alerts holding the hit: all hits
dismissed closes the alert as "False positive", a confirmation comments the alert, a review
undone reopens an alert its dismissal closed (`cases.services.screening_hit_reviewed`; the
decisions are in `cases.services.screening_hits`). A customer that is gone is skipped (logged).
"""

from __future__ import annotations

import logging

from compliance import events
from compliance.audit import Actor

logger = logging.getLogger(__name__)

DIRECTIONS = ("ORIGIN", "DESTINATION")


@events.subscribe("transaction.monitored", name="cases.open_alerts_from_rule_hits")
def open_alerts_from_rule_hits(event) -> None:
    from cases.services import alert_open_from_rule_hit
    from transactions.models import Transaction

    payload = event.payload
    hits = payload.get("newHits") or []
    if not hits:
        return
    tx = Transaction.objects.filter(transaction_id=payload["transactionId"]).first()
    if tx is None:
        logger.warning("Transaction %s is gone; no alerts for its hits", payload["transactionId"])
        return
    actor = Actor.system_actor("rule hits")
    for hit in hits:
        for direction in hit.get("hitDirections") or ["ORIGIN"]:
            if direction in DIRECTIONS:
                alert_open_from_rule_hit(actor=actor, tx=tx, hit=hit, direction=direction)


def _screened_customer(payload):
    from users.models import Customer

    customer = Customer.all_objects.filter(pk=payload.get("customerId")).first()
    if customer is None:
        logger.warning(
            "Customer %s of screening risk %s is gone; nothing to do",
            payload.get("customerId"),
            payload.get("screeningRiskId"),
        )
    return customer


@events.subscribe("screening.hit_found", name="cases.open_alerts_from_screening_hits")
def open_alerts_from_screening_hits(event) -> None:
    from cases.services import alert_open_from_screening_hit

    customer = _screened_customer(event.payload)
    if customer is not None:
        alert_open_from_screening_hit(
            actor=Actor.system_actor("screening hits"), customer=customer, screening_details=event.payload
        )


@events.subscribe("screening.hit_reviewed", name="cases.apply_screening_reviews")
def apply_screening_reviews(event) -> None:
    from cases.services import screening_hit_reviewed

    customer = _screened_customer(event.payload)
    if customer is not None:
        screening_hit_reviewed(
            actor=Actor.system_actor("screening reviews"), customer=customer, payload=event.payload
        )
