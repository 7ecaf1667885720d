"""After-commit consequences of domain events that belong to cases: alerts and cases from rule hits.

`transaction.monitored` (published by `transactions.services` in the write's transaction)
is dispatched by the outbox in a worker. For each non-shadow hit the evaluation added
(`newHits`), and each side the hit is aimed at (`hitDirections`), the hit goes into the
open case of that side's user, or of its payment instrument when the side has no user
(`cases.services.alert_open_from_rule_hit`); a side with neither is skipped (logged).

Screening hits (issue 6) will subscribe here the same way, calling a sibling service
`alert_open_from_screening_hit` (see the `cases.services` docstring).
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
