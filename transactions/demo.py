"""Demo transactions for `make run` (setup_demo): a handful of rule instances and ~50 transactions
between the demo customers (JD001, AC001; users.demo), so a newcomer finds decisions, hits,
evidence and state histories in the admin (Transactions) and the API.

Everything goes through the real paths: rule instances through `rules.services`, transaction
bodies validated by the API's serializers and verified by `transactions.services` (so the
engine judges each one as it would an integrator's), then a few transaction events. Posted in
time order over the last 30 days, with a burst (count velocity), a busy day (sum velocity),
large amounts (threshold) and a VPN session (custom condition).

Idempotent: run again, it adds nothing (the demo transactions exist) and creates only the rule
instances that are missing. Templates not in the rule library (yet) are skipped.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from compliance.audit import Actor
from compliance.errors import ApplicationError
from compliance.models import StaffUser
from transactions import services
from transactions.models import Transaction
from users.models import Customer

PREFIX = "demo-"
PERSON, ORGANISATION = "JD001", "AC001"
PERSON_IBAN = "CY17002001280000001200527600"
ORGANISATION_IBAN = "CY21002001950000357001234567"

# (alias, document) of the demo rule instances; `ruleId` must be in rules.library.REGISTRY.
RULE_INSTANCES = [
    (
        "Demo: large amount",
        {
            "ruleId": "R-1",
            "parameters": {"transactionAmountThreshold": {"EUR": 10000, "USD": 11000, "GBP": 9000}},
            "action": "SUSPEND",
            "casePriority": "P2",
        },
    ),
    (
        "Demo: more than 5 payments an hour",
        {
            "ruleId": "R-2",
            "parameters": {
                "transactionsLimit": 5,
                "timeWindow": {"units": 1, "granularity": "hour"},
                "checkFor": "originUser",
            },
            "action": "FLAG",
        },
    ),
    (
        "Demo: more than EUR 20,000 a day",
        {
            "ruleId": "R-3",
            "parameters": {
                "transactionsAmountThreshold": {"currency": "EUR", "amount": 20000},
                "timeWindow": {"units": 1, "granularity": "day"},
                "checkFor": "originUser",
            },
            "action": "FLAG",
            "casePriority": "P2",
        },
    ),
    (
        "Demo (shadow): trial threshold EUR 5,000",
        {
            "ruleId": "R-1",
            "parameters": {"transactionAmountThreshold": {"EUR": 5000}},
            "action": "FLAG",
            "isShadow": True,
        },
    ),
    (
        "Demo: VPN and EUR 1,000 or more",
        {
            "ruleId": "R-15",
            "parameters": {
                "condition": {
                    "all": [
                        {
                            "attribute": "originAmountDetails.transactionAmount",
                            "operator": "$gte",
                            "value": 1000,
                        },
                        {"attribute": "originDeviceData.vpnUsed", "operator": "$eq", "value": True},
                    ]
                }
            },
            "action": "BLOCK",
            "runOnTransactionEvents": True,
        },
    ),
    # Templates added later in the library, with their default parameters (skipped if absent).
    ("Demo: round amounts", {"ruleId": "R-6", "action": "FLAG"}),
    ("Demo: structuring below EUR 10,000", {"ruleId": "R-5", "action": "FLAG"}),
]


def _rule_instances(actor: Actor, stdout) -> list[str]:
    # The demo seeds both apps: rules sits above transactions, so it is imported here only.
    from rules import services as rule_services
    from rules.library import REGISTRY
    from rules.models import RuleInstance

    created = []
    for alias, document in RULE_INSTANCES:
        if document["ruleId"] not in REGISTRY:
            stdout.write(
                f"  demo rule {alias!r} skipped: template {document['ruleId']} is not in the library"
            )
            continue
        if RuleInstance.objects.filter(rule_name_alias=alias, deleted_at__isnull=True).exists():
            continue
        try:
            rule_services.rule_instance_create(actor=actor, document={**document, "ruleNameAlias": alias})
        except ApplicationError as exc:  # a template whose parameters changed since
            stdout.write(f"  demo rule {alias!r} skipped: {exc.message} {exc.errors}")
            continue
        created.append(alias)
    return created


def _payment(kind: str, owner: str) -> dict:
    if kind == "IBAN":
        return {"method": "IBAN", "IBAN": PERSON_IBAN if owner == PERSON else ORGANISATION_IBAN}
    if kind == "CARD":
        return {"method": "CARD", "cardFingerprint": f"fp-{owner.lower()}-1", "cardIssuedCountry": "CY"}
    return {"method": "WALLET", "walletId": f"wallet-{owner.lower()}", "walletType": "internal"}


def _plan(now) -> list[dict]:
    """The demo bodies, oldest first (a fixed seed: every run plans the same book)."""
    rng = random.Random(20241208)  # noqa: S311  (demo data, not secrets)
    start = now - timedelta(days=30)
    plan = []

    def add(when, origin, amount, currency="EUR", *, kind="IBAN", vpn=False, tx_type="TRANSFER"):
        destination = ORGANISATION if origin == PERSON else PERSON
        plan.append(
            {
                "when": when,
                "type": tx_type,
                "originUserId": origin,
                "destinationUserId": destination,
                "originAmountDetails": {
                    "transactionAmount": amount,
                    "transactionCurrency": currency,
                    "country": "CY",
                },
                "destinationAmountDetails": {
                    "transactionAmount": amount,
                    "transactionCurrency": currency,
                    "country": "CY",
                },
                "originPaymentDetails": _payment(kind, origin),
                "destinationPaymentDetails": _payment("IBAN", destination),
                "originDeviceData": {"ipAddress": f"192.0.2.{rng.randint(2, 250)}", "vpnUsed": vpn},
                "reference": rng.choice(["Invoice", "Rent", "Services", "Consulting fee", "Supplies"]),
                "tags": [{"key": "source", "value": "demo"}],
            }
        )

    # Everyday payments both ways, in a few currencies.
    for day in range(0, 28, 1):
        when = start + timedelta(days=day, hours=rng.randint(8, 18), minutes=rng.randint(0, 59))
        origin = PERSON if day % 3 else ORGANISATION
        currency = rng.choice(["EUR", "EUR", "EUR", "USD", "GBP", "CHF"])
        amount = round(rng.uniform(40, 2500), 2)
        add(when, origin, amount, currency, kind=rng.choice(["IBAN", "CARD", "WALLET"]))
    # A burst: seven card payments within the hour (count velocity).
    burst = start + timedelta(days=12, hours=21)
    for minute in range(0, 56, 8):
        add(burst + timedelta(minutes=minute), PERSON, round(rng.uniform(20, 200), 2), kind="CARD")
    # A busy day for the organisation: four transfers adding up past EUR 20,000 (sum velocity).
    busy = start + timedelta(days=20, hours=9)
    for hour, amount in enumerate((6500, 7200, 4800, 5300)):
        add(busy + timedelta(hours=2 * hour), ORGANISATION, amount)
    # Large single amounts (threshold; the shadow trial sees more), and round ones.
    add(start + timedelta(days=5, hours=11), ORGANISATION, 48000, "USD")
    add(start + timedelta(days=16, hours=15), PERSON, 12500)
    add(start + timedelta(days=24, hours=10), ORGANISATION, 9500, "GBP")
    add(start + timedelta(days=26, hours=14), ORGANISATION, 7000)
    add(start + timedelta(days=25, hours=12), PERSON, 9600)  # three just below 10,000: structuring
    add(start + timedelta(days=27, hours=16), PERSON, 9800)
    add(start + timedelta(days=28, hours=9), PERSON, 9700)
    # A VPN session moving money (custom condition).
    add(start + timedelta(days=22, hours=23), PERSON, 3200, vpn=True, kind="WALLET")
    add(start + timedelta(days=29, hours=1), PERSON, 150, vpn=True, kind="WALLET")
    plan.sort(key=lambda body: body["when"])
    for number, body in enumerate(plan, start=1):
        when = body.pop("when")
        body["transactionId"] = f"{PREFIX}{number:04d}"
        body["timestamp"] = int(when.timestamp() * 1000)
        body["transactionState"] = "CREATED"
    return plan


def _verify(actor: Actor, body: dict) -> Transaction:
    from transactions.api.serializers import TransactionSerializer

    serializer = TransactionSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    return services.transaction_verify(actor=actor, fields=serializer.to_fields(), payload=body).transaction


def _event(actor: Actor, tx: Transaction, state: str, reason: str, offset: timedelta) -> None:
    from transactions.api.serializers import TransactionEventSerializer

    body = {
        "timestamp": int((tx.timestamp + offset).timestamp() * 1000),
        "transactionId": tx.transaction_id,
        "eventId": f"{tx.transaction_id}-{state.lower()}",
        "eventDescription": f"Transaction {state.lower()}",
        "reason": reason,
        "updatedTransactionAttributes": {"transactionState": state},
    }
    serializer = TransactionEventSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    data = {**serializer.validated_data, "raw_attributes": body["updatedTransactionAttributes"]}
    services.transaction_event_create(actor=actor, data=data, payload=body)


def load(stdout) -> None:
    if Transaction.objects.filter(transaction_id__startswith=PREFIX).exists():
        stdout.write("Demo transactions exist already.")
        return
    if Customer.objects.filter(external_ref__in=[PERSON, ORGANISATION]).count() < 2:
        stdout.write("Demo transactions skipped: the demo customers JD001 and AC001 are missing.")
        return
    compliance = StaffUser.objects.filter(username="compliance").first()
    rules_actor = Actor(user=compliance) if compliance else Actor.system_actor("setup_demo")
    integrator = StaffUser.objects.filter(username="integrator").first()
    actor = Actor(user=integrator) if integrator else Actor.system_actor("setup_demo")

    created = _rule_instances(rules_actor, stdout)
    now = timezone.now()
    transactions = [_verify(actor, body) for body in _plan(now)]
    # The lifecycle: allowed ones settle; suspended ones are declined, blocked ones reversed;
    # one settled payment is refunded. The last day's stay CREATED (still in flight).
    for tx in transactions:
        if tx.timestamp > now - timedelta(days=1):
            continue
        if tx.status == "SUSPEND":
            _event(actor, tx, "DECLINED", "Declined after review", timedelta(hours=4))
        elif tx.status == "BLOCK":
            _event(actor, tx, "REVERSED", "Blocked by monitoring", timedelta(minutes=5))
        else:
            _event(actor, tx, "SUCCESSFUL", "Settled", timedelta(minutes=30))
    settled = [
        tx
        for tx in transactions
        if tx.status in ("ALLOW", "FLAG") and tx.timestamp <= now - timedelta(days=3)
    ]
    if settled:
        _event(actor, settled[0], "REFUNDED", "Customer refund", timedelta(days=2))
    decisions = {}
    for tx in Transaction.objects.filter(transaction_id__startswith=PREFIX):
        decisions[tx.status] = decisions.get(tx.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(decisions.items()))
    stdout.write(
        f"  demo transactions: {len(transactions)} ({summary}), rule instances added: {len(created)}"
        " — see /admin/transactions/transaction/"
    )
