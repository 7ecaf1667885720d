"""Cases, alerts and transactions for the cases tests, through the real services (reusable:
`from tests.cases.conftest import make_case, make_alert, make_transaction`)."""

from __future__ import annotations

import itertools

import pytest

from cases import services
from cases.models import AlertEntityType, CaseEntityType
from compliance import events
from compliance.audit import Actor
from compliance.models import OutboxEvent
from tests.transactions.conftest import body, exchange_rates, instance, seed_users  # noqa: F401  (fixtures)
from tests.users.conftest import create_customer
from transactions import services as transaction_services
from transactions.api.serializers import TransactionSerializer

SYSTEM = Actor.system_actor("tests")
_ids = itertools.count(1)


def make_customer(ref: str | None = None, **fields):
    return create_customer(ref=ref or f"cust-{next(_ids)}", **fields)


def make_case(*, actor: Actor = SYSTEM, customer=None, **fields):
    """An open USER case (of a new customer unless one is given) through `case_create`;
    `fields` are model field names (e.g. `priority="P1"`, `source="RULE"`)."""
    values = {"case_id": f"C-T{next(_ids)}", "priority": "P4", "source": "MANUAL"}
    if fields.get("entity_type") != CaseEntityType.PAYMENT:
        values.update(entity_type=CaseEntityType.USER, customer=customer or make_customer())
    values.update(fields)
    return services.case_create(actor=actor, fields=values)


def make_transaction(**overrides):
    """A verified transaction (seed body with a fresh id) through the real service; its users
    must exist (the `seed_users` fixture)."""
    data = body(**overrides)
    serializer = TransactionSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return transaction_services.transaction_verify(
        actor=SYSTEM, fields=serializer.to_fields(), payload=data
    ).transaction


def make_alert(case, *, actor: Actor = SYSTEM, transactions=(), **fields):
    """An alert in `case` through `alert_create`: SANCTIONS without transactions, TRANSACTION
    with them (Transaction rows, see `make_transaction`)."""
    n = next(_ids)
    values = {
        "case": case,
        "alert_id": f"A-T{n}",
        "priority": "P3",
        "entity_type": AlertEntityType.TRANSACTION if transactions else AlertEntityType.SANCTIONS,
        "transaction_ids": [tx.transaction_id for tx in transactions],
        "rule_id": "R-1",
        "rule_name": "Transaction amount too high",
        "rule_description": "Amount above threshold",
        "rule_action": "FLAG",
        "rule_instance_ref": f"manual-{n}",
    }
    values.update(fields)
    return services.alert_create(actor=actor, fields=values)


def dispatch_pending():
    """Run the outbox dispatch of every pending event here, with the real handlers."""
    for event_id in (
        OutboxEvent.objects.filter(dispatched_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)
    ):
        events.dispatch(event_id)


def published(name: str) -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(name=name).order_by("created_at", "id")]


def actor_of(user) -> Actor:
    return Actor(user=user)


@pytest.fixture
def case_factory(db):
    return make_case


@pytest.fixture
def alert_factory(db):
    return make_alert
