"""After-commit consequences of a monitored transaction that belong to the transactions side.

`transaction.monitored` (published by transactions.services in the write's transaction)
is dispatched by the outbox in a worker; this handler feeds the users' ongoing risk (CRA):
each user of the transaction gets the transaction and the new hits aimed at it counted
on its day, and is re-scored when its hits changed. Alerts and cases (issue 5) and
webhooks subscribe to the same event from their own apps.
"""

from __future__ import annotations

from datetime import datetime

from compliance import events
from compliance.audit import Actor
from transactions.models import RuleAction

ACTION_COUNTERS = {RuleAction.FLAG: "flagged", RuleAction.SUSPEND: "suspended", RuleAction.BLOCK: "blocked"}


@events.subscribe("transaction.monitored", name="transactions.update_customer_activity")
def update_customer_activity(event) -> None:
    from users.services.monitoring import ActivityRecord, monitoring_activity_record

    payload = event.payload
    day = datetime.fromisoformat(payload["timestamp"]).date()
    counts_transaction = payload.get("cause") == "verified"
    records = []
    for direction, key in (("ORIGIN", "originCustomerId"), ("DESTINATION", "destinationCustomerId")):
        customer_id = payload.get(key)
        if not customer_id:
            continue
        counters = {"flagged": 0, "suspended": 0, "blocked": 0}
        for hit in payload.get("newHits", []):
            counter = ACTION_COUNTERS.get(hit["action"])
            if counter and direction in hit.get("hitDirections", ["ORIGIN"]):
                counters[counter] += 1
        if counts_transaction or any(counters.values()):
            records.append(
                ActivityRecord(
                    customer_id=customer_id, day=day, transactions=int(counts_transaction), **counters
                )
            )
    if records:
        monitoring_activity_record(
            actor=Actor.system_actor("transaction monitoring"),
            records=records,
            cause=f"transaction {payload['transactionId']} monitored",
        )
