"""Data of `manage.py bench_case_queue`: customers, cases and alerts loaded with COPY (the users
benchmark's `_Table`), and the analysts who work them. Only for a dedicated benchmark database on
PostgreSQL: `load` empties the customer and case tables first. Deterministic for a given seed.

The book looks like a year of work: about a third of the cases open (each open USER case on its
own customer, as the one-open-case-per-customer constraint wants), the rest closed; priorities
skewed to P3/P4; sources mostly rule hits; open cases 60% assigned among 20 analysts; about three
alerts per case (every case has at least one), closed with their case, created after it.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from cases.models import Alert, AlertEntityType, Case, CaseEntityType, CaseSource, CaseStatus
from compliance import roles
from compliance.models import StaffUser
from users.management import bench_data as users_bench_data
from users.models import Customer

BATCH = 20_000
ANALYSTS = 20
OPEN_SHARE = 0.35
CASE_PREFIX = "C-BENCH"
BENCH_ANALYST = "bench-analyst-00"
OPEN_STATUSES = (
    (CaseStatus.OPEN, 50),
    (CaseStatus.IN_PROGRESS, 25),
    (CaseStatus.ON_HOLD, 15),
    (CaseStatus.REOPENED, 10),
)
PRIORITIES = (("P1", 5), ("P2", 20), ("P3", 40), ("P4", 35))
SOURCES = ((CaseSource.RULE, 70), (CaseSource.SCREENING, 15), (CaseSource.MANUAL, 10), (CaseSource.REVIEW, 5))
RULES = (
    ("R-1", "Transaction amount too high", "FLAG"),
    ("R-2", "Too many transactions in a time window", "FLAG"),
    ("R-3", "Too much money in a time window", "SUSPEND"),
    ("R-5", "Structuring below a threshold", "FLAG"),
    ("R-15", "Custom condition", "BLOCK"),
)
NAMES = ("Smith", "Garcia", "Khan", "Wang", "Petrov", "Martin", "Rossi", "Mensah", "Novak", "Silva")


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def loaded(cases: int, alerts: int) -> bool:
    """Whether exactly this book (`cases` cases, `alerts` alerts of the benchmark) is there."""
    return (
        Case.objects.filter(case_id__startswith=CASE_PREFIX).count() == cases == Case.objects.count()
        and Alert.objects.count() == alerts
    )


def analysts() -> list[StaffUser]:
    """The analysts who work the book (created once; `bench-analyst-00` renders the queue)."""
    group = Group.objects.get(name=roles.ANALYST)
    staff = []
    for number in range(ANALYSTS):
        user, created = StaffUser.objects.get_or_create(
            username=f"bench-analyst-{number:02d}",
            defaults={"is_staff": True, "first_name": "Bench", "last_name": f"Analyst {number:02d}"},
        )
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
        staff.append(user)
    return staff


def truncate() -> None:
    """Empty the cases (and everything hanging on them) and the customers."""
    tables = ", ".join(_qn(model._meta.db_table) for model in (Alert, Case))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    users_bench_data.truncate()


def vacuum_analyze() -> None:
    users_bench_data.vacuum_analyze([m._meta.db_table for m in (Customer, Case, Alert)])


def load(cases: int, alerts: int, seed: int, progress=None) -> dict:
    """Insert customers, `cases` cases (ids 1..cases) and `alerts` alerts; answer counts."""
    if alerts < cases:
        raise ValueError("Every case has at least one alert: --alerts must be >= --cases.")
    truncate()
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    staff = [user.pk for user in analysts()]
    now = timezone.now()
    open_cases = int(cases * OPEN_SHARE)
    customer_count = max(open_cases, cases // 2, 1)

    customer_table = users_bench_data._Table(
        Customer, ["id", "external_ref", "customer_type_id", "status_id", "first_name", "last_name"]
    )
    case_table = users_bench_data._Table(
        Case,
        [
            "id", "case_id", "created_at", "priority", "source", "entity_type", "customer_id", "user_ref",
            "payment_method", "payment_identifier", "payment_details", "creation_reason",
            "status", "status_changed_at", "closed_at", "assignee_id", "updated_at",
        ],
    )  # fmt: skip
    alert_table = users_bench_data._Table(
        Alert,
        [
            "alert_id", "case_id", "created_at", "priority", "entity_type", "transaction_ids",
            "rule_id", "rule_name", "rule_action", "rule_instance_ref", "status", "status_changed_at",
            "closed_at", "updated_at",
        ],
    )  # fmt: skip
    counts = {"customers": 0, "cases": 0, "open": 0, "alerts": 0, "open_alerts": 0}
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg 3: COPY
        for pk in range(1, customer_count + 1):
            customer_table.add(pk, f"QBENCH{pk:08d}", 1, 1, "Case", rng.choice(NAMES))
            if len(customer_table.rows) >= BATCH:
                customer_table.flush(cursor)
        customer_table.flush(cursor)
        counts["customers"] = customer_table.count

        # Which cases are open: a random third, each open USER case on the next unused customer.
        open_ids = set(rng.sample(range(1, cases + 1), open_cases))
        next_customer = 1
        extra = alerts - cases  # beyond the first alert of each case
        per_case_extra = [0] * (cases + 1)
        for _ in range(extra):
            per_case_extra[rng.randint(1, cases)] += 1
        for pk in range(1, cases + 1):
            is_open = pk in open_ids
            # Open work is younger on the whole: most of it from the last 30 days, some old.
            age_days = rng.expovariate(1 / 12) if is_open else rng.uniform(0, 365)
            created = now - timedelta(days=min(age_days, 400), seconds=rng.randint(0, 86_399))
            payment = rng.random() < 0.1
            if payment:
                customer_id, user_ref = None, ""
                method = "IBAN"
                identifier = f"IBAN:BENCH{pk:012d}"
                details = json.dumps({"method": method, "IBAN": identifier[5:]})
            else:
                if is_open:
                    customer_id = next_customer
                    next_customer += 1
                else:
                    customer_id = rng.randint(1, customer_count)
                user_ref = f"QBENCH{customer_id:08d}"
                method, identifier, details = "", "", "{}"
            status = _pick(rng, OPEN_STATUSES) if is_open else CaseStatus.CLOSED
            changed = created + (now - created) * rng.random()
            closed_at = changed if status == CaseStatus.CLOSED else None
            assignee = rng.choice(staff) if (not is_open or rng.random() < 0.6) else None
            priority = _pick(rng, PRIORITIES)
            case_table.add(
                pk, f"{CASE_PREFIX}{pk:08d}", created, priority, _pick(rng, SOURCES),
                CaseEntityType.PAYMENT if payment else CaseEntityType.USER, customer_id, user_ref,
                method, identifier, details, json.dumps({"reasons": ["Rule hit"], "comment": ""}),
                status, changed, closed_at, assignee, changed,
            )  # fmt: skip
            counts["open"] += is_open
            for number in range(1 + per_case_extra[pk]):
                rule_id, rule_name, action = RULES[rng.randrange(len(RULES))]
                alert_created = created + timedelta(minutes=rng.randint(0, 60 * 24 * 3) * number)
                alert_created = min(alert_created, now)
                alert_open = is_open and rng.random() < 0.7
                alert_table.add(
                    f"A-BENCH{pk:08d}-{number}", pk, alert_created, priority,
                    AlertEntityType.TRANSACTION, "[]", rule_id, rule_name, action, str(rng.randint(1, 50)),
                    _pick(rng, OPEN_STATUSES) if alert_open else CaseStatus.CLOSED, alert_created,
                    None if alert_open else changed, alert_created,
                )  # fmt: skip
                counts["open_alerts"] += alert_open
            if len(case_table.rows) >= BATCH:
                case_table.flush(cursor)
                alert_table.flush(cursor)
                if progress:
                    progress(case_table.count)
        if case_table.rows:
            case_table.flush(cursor)
            alert_table.flush(cursor)
            if progress:
                progress(case_table.count)
        for model in (Customer, Case):
            table = model._meta.db_table
            wrapper.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {_qn(table)}))"  # noqa: S608
            )
    counts.update(cases=case_table.count, alerts=alert_table.count)
    vacuum_analyze()
    return counts
