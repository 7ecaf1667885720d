"""Data of `manage.py bench_transactions`: historical transactions loaded with COPY, the rule
instances, exchange rates and the integrator key. Only for a dedicated benchmark database on
PostgreSQL: `load` empties the customer and transaction tables first.

The users are the bench-risk customers (users/management/bench_data.py, `BENCH00000001`...);
who pays whom, how much and in what comes from bench_client.Population, which the load
generator draws the new transactions from too, so both see the same heavy users and the same
payment instruments.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from compliance import roles
from compliance.audit import Actor
from compliance.models import ApiKey, OutboxEvent, StaffUser
from transactions.management import bench_client
from transactions.models import ExchangeRate, Transaction, TransactionEvent, TransactionRuleHit
from users.management import bench_data as users_bench_data

BATCH = 50_000
HISTORY_DAYS = 90
HISTORY_PREFIX = "hist-"
QUANTUM = Decimal("0.000001")
ACTOR = Actor.system_actor("bench-transactions")


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def exchange_rates() -> None:
    for code, rate, *_ in bench_client.CURRENCIES:
        if code != "USD":
            ExchangeRate.objects.update_or_create(currency=code, defaults={"rate_to_base": Decimal(rate)})
    from transactions import money

    money.forget_rates()


def loaded(users: int, transactions: int) -> bool:
    """Whether the users and exactly `transactions` historical transactions are there."""
    from users.models import Customer

    if Customer.all_objects.count() != users:
        return False
    history = Transaction.objects.filter(pk__lte=transactions, transaction_id__startswith=HISTORY_PREFIX)
    return (
        history.count() == transactions
        and not Transaction.objects.filter(
            pk=transactions + 1, transaction_id__startswith=HISTORY_PREFIX
        ).exists()
    )


def history_span(transactions: int):
    """(oldest, newest) timestamp of the history."""
    from django.db.models import Max, Min

    row = Transaction.objects.filter(pk__lte=transactions).aggregate(
        oldest=Min("timestamp"), newest=Max("timestamp")
    )
    return row["oldest"], row["newest"]


def forget_live(transactions: int) -> int:
    """Delete what earlier runs posted (transactions after the history, their hits, events,
    outbox rows), so every run starts from the same history. Answers how many transactions."""
    tx, hits, events = (_qn(m._meta.db_table) for m in (Transaction, TransactionRuleHit, TransactionEvent))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {hits} WHERE transaction_id > %s", [transactions])  # noqa: S608
        cursor.execute(f"DELETE FROM {events} WHERE transaction_id > %s", [transactions])  # noqa: S608
        cursor.execute(f"DELETE FROM {tx} WHERE id > %s", [transactions])  # noqa: S608
        deleted = cursor.rowcount
        cursor.execute(f"TRUNCATE {_qn(OutboxEvent._meta.db_table)}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{Transaction._meta.db_table}', 'id'), %s)",
            [max(transactions, 1)],
        )
    return deleted


def vacuum_analyze() -> None:
    users_bench_data.vacuum_analyze(
        [Transaction._meta.db_table, TransactionRuleHit._meta.db_table, OutboxEvent._meta.db_table]
    )


def load(users: int, transactions: int, seed: int, progress=None) -> dict:
    """Empty the customer and transaction tables, load `users` customers (the bench-risk loader)
    and `transactions` historical transactions over the last HISTORY_DAYS days; answer counts."""
    users_bench_data.truncate()  # cascades to the transactions referencing customers
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_qn(Transaction._meta.db_table)} RESTART IDENTITY CASCADE")
    counts = users_bench_data.load(users, seed)
    exchange_rates()
    population = bench_client.Population(users, seed)
    rng = random.Random(seed + 1)  # noqa: S311 (synthetic data)
    rates = {code: Decimal(rate) for code, rate in bench_client.RATES.items()}
    now = timezone.now()
    latest = now - timedelta(minutes=1)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    table = users_bench_data._Table(
        Transaction,
        [
            "id", "transaction_id", "type", "timestamp", "transaction_state",
            "origin_user_id", "destination_user_id", "origin_user_ref", "destination_user_ref",
            "origin_amount", "origin_currency", "origin_country", "origin_amount_base",
            "destination_amount", "destination_currency", "destination_country", "destination_amount_base",
            "origin_payment_method", "destination_payment_method",
            "origin_payment_details", "destination_payment_details",
            "origin_payment_identifier", "destination_payment_identifier",
            "status", "payload_digest", "created_at", "updated_at",
        ],
    )  # fmt: skip
    details_json: dict[str, str] = {}

    def as_json(instrument) -> str:
        text = details_json.get(instrument[2])
        if text is None:
            text = details_json[instrument[2]] = json.dumps(instrument[1])
        return text

    # Activity grows a little towards today (a young product), and follows the hours of the day.
    hour_weights = [0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.2, 1.5, 1.6, 1.6, 1.6]
    hour_weights += [1.7, 1.6, 1.5, 1.5, 1.5, 1.5, 1.6, 1.5, 1.3, 1.0, 0.7, 0.5]
    hour_cumulative = bench_client._cumulative(hour_weights)
    # The plain indexes are dropped during COPY and built once after it, rather than maintained
    # row by row. In one database transaction, so a load that fails or is interrupted leaves
    # the table with its indexes.
    with transaction.atomic(), connection.cursor() as wrapper:
        # Django's foreign keys are deferred to the commit, and PostgreSQL refuses CREATE INDEX
        # on a table with checks pending: check each row as it is copied instead.
        wrapper.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes = _drop_indexes(Transaction._meta.db_table)
        cursor = wrapper.cursor  # psycopg 3 cursor: COPY
        for start in range(1, transactions + 1, BATCH):
            stop = min(start + BATCH, transactions + 1)
            for pk in range(start, stop):
                values = population.draw(rng)
                days_ago = int(HISTORY_DAYS * (1 - math.sqrt(rng.random())))  # recent days busier
                hour = bisect.bisect(hour_cumulative, rng.random() * hour_cumulative[-1])
                timestamp = midnight - timedelta(days=days_ago, seconds=-(hour * 3600 + rng.randrange(3600)))
                if timestamp > latest:  # later today: the same time yesterday
                    timestamp -= timedelta(days=1)
                currency = values["currency"]
                amount = Decimal(values["amount"])
                base = (amount * rates[currency]).quantize(QUANTUM)
                origin, destination = values["origin"], values["destination"]
                origin_instrument = values["origin_instrument"]
                destination_instrument = values["destination_instrument"]
                table.add(
                    pk, f"{HISTORY_PREFIX}{pk:09d}", values["type"], timestamp, "SUCCESSFUL",
                    origin, destination, bench_client.user_ref(origin),
                    bench_client.user_ref(destination) if destination else "",
                    amount, currency, values["origin_country"], base,
                    amount, currency, values["destination_country"], base,
                    origin_instrument[0], destination_instrument[0],
                    as_json(origin_instrument), as_json(destination_instrument),
                    origin_instrument[2], destination_instrument[2],
                    "FLAG" if rng.random() < 0.02 else "ALLOW", f"{pk:064x}", timestamp, timestamp,
                )  # fmt: skip
            table.flush(cursor)
            if progress:
                progress(stop - 1)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{Transaction._meta.db_table}', 'id'), %s)",
            [max(transactions, 1)],
        )
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for statement in indexes:
            cursor.execute(statement)
    vacuum_analyze()
    return {**counts, "transactions": table.count}


def _drop_indexes(table: str) -> list[str]:
    """Drop the table's plain indexes (not those of constraints); answer the statements that
    create them again, exactly as they were."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            [table],
        )
        rows = cursor.fetchall()
        for name, _ in rows:
            cursor.execute(f"DROP INDEX {_qn(name)}")
    return [definition for _, definition in rows]


# --- rule instances and the integrator -------------------------------------------------------

HOUR = {"units": 1, "granularity": "hour"}
DAY = {"units": 1, "granularity": "day"}
# The instances every run activates first: the three velocity rules the issue names, an
# amount threshold and a custom condition.
CORE_INSTANCES = [
    {
        "ruleId": "R-2",
        "ruleNameAlias": "More than 10 transactions of a user in an hour",
        "parameters": {"transactionsLimit": 10, "timeWindow": HOUR, "checkFor": "originUser"},
    },
    {
        "ruleId": "R-3",
        "ruleNameAlias": "More than 15,000 EUR sent by a user in a day",
        "parameters": {
            "transactionsAmountThreshold": {"currency": "EUR", "amount": 15000},
            "timeWindow": DAY,
            "checkFor": "originUser",
        },
    },
    {
        "ruleId": "R-2",
        "ruleNameAlias": "More than 20 transactions of a payment instrument in a day",
        "parameters": {"transactionsLimit": 20, "timeWindow": DAY, "checkFor": "originPayment"},
    },
    {
        "ruleId": "R-1",
        "ruleNameAlias": "Large transaction",
        "parameters": {"transactionAmountThreshold": {"EUR": 10000, "USD": 10000, "GBP": 8500}},
    },
    {"ruleId": "R-15", "ruleNameAlias": "Large amount through a VPN"},
]
# Used when the library has fewer other templates than needed to reach the count.
FALLBACK_INSTANCES = [
    {
        "ruleId": "R-1",
        "ruleNameAlias": "Large transaction in Asian currencies",
        "parameters": {"transactionAmountThreshold": {"PHP": 500000, "INR": 800000, "JPY": 1500000}},
    },
    {
        "ruleId": "R-15",
        "ruleNameAlias": "Large withdrawal",
        "parameters": {
            "condition": {
                "all": [
                    {"attribute": "type", "operator": "$eq", "value": "WITHDRAWAL"},
                    {"attribute": "originAmountDetails.transactionAmount", "operator": "$gte", "value": 5000},
                ]
            }
        },
    },
    {
        "ruleId": "R-15",
        "ruleNameAlias": "High-risk destination country",
        "parameters": {
            "condition": {
                "attribute": "destinationAmountDetails.country",
                "operator": "$in",
                "value": ["IR", "KP", "MM", "SY", "YE", "AF"],
            }
        },
    },
    {
        "ruleId": "R-1",
        "ruleNameAlias": "Card payment above 5,000",
        "filters": {},
        "parameters": {"transactionAmountThreshold": {"EUR": 5000, "USD": 5000, "GBP": 4500, "CHF": 5000}},
    },
    {
        "ruleId": "R-15",
        "ruleNameAlias": "Refund of a large amount",
        "parameters": {
            "condition": {
                "all": [
                    {"attribute": "type", "operator": "$eq", "value": "REFUND"},
                    {"attribute": "originAmountDetails.transactionAmount", "operator": "$gt", "value": 2000},
                ]
            }
        },
    },
]


def rule_instances(count: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Deactivate every instance, then create `count` active ones through rules.services: the
    core ones, then one per other template of the library (its default parameters), then the
    fallbacks. Answers (rule id, name) of each created and (rule id, reason) of each skipped."""
    from compliance.errors import ApplicationError
    from rules import services
    from rules.engine.runner import bump_generation
    from rules.library import REGISTRY
    from rules.models import RuleInstance

    RuleInstance.all_objects.update(status=RuleInstance.Status.INACTIVE)
    bump_generation()
    used = {document["ruleId"] for document in CORE_INSTANCES + FALLBACK_INSTANCES}
    others = [
        {"ruleId": rule_id, "ruleNameAlias": f"{REGISTRY[rule_id].name} (default parameters)"}
        for rule_id in sorted(
            REGISTRY, key=lambda rule_id: int(rule_id.split("-")[1]) if "-" in rule_id else 0
        )
        if rule_id not in used
    ]
    created, skipped = [], []
    for document in CORE_INSTANCES + others + FALLBACK_INSTANCES:
        if len(created) >= count:
            break
        try:
            instance = services.rule_instance_create(actor=ACTOR, document=document)
        except ApplicationError as error:  # a template whose defaults need data we do not have
            skipped.append((document["ruleId"], str(getattr(error, "errors", error))))
            continue
        created.append((instance.rule_id, instance.rule_name_alias or REGISTRY[instance.rule_id].name))
    return created, skipped


def integrator_key() -> str:
    """A new API key of the benchmark's service account (integrator role); answers the raw key."""
    from compliance import services

    account, _ = StaffUser.objects.get_or_create(
        username="bench-integrator", defaults={"first_name": "Bench", "last_name": "Integrator"}
    )
    account.set_unusable_password()
    account.save()
    account.groups.add(Group.objects.get(name=roles.INTEGRATOR))
    ApiKey.objects.filter(user=account, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _, raw = services.api_key_create(name="bench-transactions", user=account, actor=ACTOR)
    return raw


def live_summary(transactions: int) -> dict:
    """What the run's posted transactions were decided, and which instances hit them."""
    from django.db.models import Count

    posted = Transaction.objects.filter(pk__gt=transactions)
    statuses = dict(posted.values_list("status").annotate(n=Count("id")).order_by())
    with_errors = posted.exclude(rule_errors=[]).count()
    sample_error = posted.exclude(rule_errors=[]).values_list("rule_errors", flat=True).first()
    hits = dict(
        TransactionRuleHit.objects.filter(transaction_id__gt=transactions)
        .values_list("rule_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    executed = posted.values_list("executed_rules", flat=True).first() or []
    return {
        "posted": sum(statuses.values()),
        "statuses": statuses,
        "with_rule_errors": with_errors,
        "sample_rule_error": sample_error,
        "hits_by_rule": hits,
        "executed_per_transaction": len(executed),
    }
