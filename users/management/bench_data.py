"""Synthetic customers with realistic KYC lists for `manage.py bench_risk`, loaded with COPY.

Only for a dedicated benchmark database on PostgreSQL: `load` empties the customer tables
first. Rows are generated and copied a batch of customers at a time, so the loader's memory
does not grow with the number of customers. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import JSONField
from django.utils import timezone

from compliance.reference.models import AssociationRole, Country, DocumentType
from users import models as m

BATCH = 5000
# One association (stake or role) per this many customers: about 5% of customers are associated.
ASSOCIATION_EVERY = 40
HOME_COUNTRIES = ("GB", "DE", "FR", "NL", "BE", "LU", "IE", "ES", "IT", "CY", "MT", "AT")

FIRST_NAMES = (
    "John",
    "Maria",
    "Ahmed",
    "Li",
    "Olga",
    "Pierre",
    "Anna",
    "Kwame",
    "Sofia",
    "Ivan",
    "Emma",
    "Yuki",
)
LAST_NAMES = (
    "Smith",
    "Garcia",
    "Khan",
    "Wang",
    "Petrov",
    "Martin",
    "Rossi",
    "Mensah",
    "Novak",
    "Müller",
    "Silva",
)
PROFESSIONS = ("Engineer", "Teacher", "Lawyer", "Doctor", "Trader", "Retired", "Student", "Consultant", "")
COMPANY_WORDS = ("Global", "Trading", "Holdings", "Capital", "Logistics", "Software", "Imports", "Partners")
STREETS = (
    "High Street",
    "Main Road",
    "Station Road",
    "Rue de la Paix",
    "Hauptstraße",
    "Via Roma",
    "Harbour Way",
)
CITIES = ("London", "Paris", "Berlin", "Nicosia", "Dublin", "Madrid", "Rome", "Luxembourg", "Valletta")


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


class _Table:
    """Rows for one model's table: the `given` columns from each row, every other column its
    model default (computed once). The primary key is left to the database unless given."""

    def __init__(self, model, given: list[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in given and not f.primary_key]
        defaults = []
        for f in rest:
            value = f.get_default()
            if isinstance(f, JSONField):
                value = json.dumps(value)
            elif isinstance(value, str):
                value = str(value)  # TextChoices members as plain text
            if value is None and not f.null:
                raise ValueError(f"{model._meta.db_table}.{f.column} needs a value")
            defaults.append(value)
        self.table = model._meta.db_table
        self.columns = [fields[name].column for name in given] + [f.column for f in rest]
        self.defaults = tuple(defaults)
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, *values) -> None:
        self.rows.append(values)

    def flush(self, cursor) -> None:
        if not self.rows:
            return
        columns = ", ".join(_qn(c) for c in self.columns)
        defaults = self.defaults
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {_qn(self.table)} ({columns}) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row + defaults)
        else:  # SQLite: only to compare implementations on the embedded default, not benchmarked
            placeholders = ", ".join(["%s"] * len(self.columns))
            with connection.cursor() as django_cursor:
                django_cursor.executemany(
                    f"INSERT INTO {_qn(self.table)} ({columns}) VALUES ({placeholders})",  # noqa: S608
                    [_sqlite_row(row + defaults) for row in self.rows],
                )
        self.count += len(self.rows)
        self.rows = []


def _sqlite_row(row: tuple) -> tuple:
    """Dates and datetimes as Django's SQLite backend stores them (datetimes in naive UTC)."""
    return tuple(
        connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, datetime)
        else connection.ops.adapt_datefield_value(value)
        if isinstance(value, date)
        else value
        for value in row
    )


def _through(field_name: str, column: str) -> _Table:
    return _Table(m.Customer._meta.get_field(field_name).remote_field.through, ["customer_id", column])


def truncate() -> None:
    """Empty the customers and everything that references them (benchmark database only)."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_qn(m.Customer._meta.db_table)} RESTART IDENTITY CASCADE")


def reset_risk() -> None:
    """Forget every calculated risk, so the next recalculation scores from scratch."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_qn(m.RiskTrail._meta.db_table)} RESTART IDENTITY CASCADE")
    m.Customer.all_objects.update(
        risk_score=0,
        risk_effective_score=0,
        risk_level=m.RiskLevel.MEDIUM,
        risk_breakdown={},
        risk_contaminators=[],
        risk_inputs_digest="",
        risk_calculated_at=None,
        onboarding_risk_score=None,
        onboarding_risk_level="",
    )
    vacuum_analyze([m.Customer._meta.db_table, m.RiskTrail._meta.db_table])


def vacuum_analyze(tables) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {_qn(table)}")


def load(total: int, seed: int) -> dict:
    """Insert `total` customers (ids 1..total) and their lists; answer row counts."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not cryptography)
    today = timezone.localdate()

    country_rows = list(Country.objects.values_list("id", "alpha2", "risk_score"))
    # 70% of links to a few home-market countries, 25% spread over all 249, 5% over the high-risk ones.
    home = [pk for pk, alpha2, _ in country_rows if alpha2 in HOME_COUNTRIES]
    risky = [pk for pk, _, score in country_rows if score > 0]
    weights = Counter()
    for pk, _, _ in country_rows:
        weights[pk] += 25 / len(country_rows)
    for pk in home:
        weights[pk] += 70 / len(home)
    for pk in risky:
        weights[pk] += 5 / len(risky)
    country_ids = list(weights)
    cumulative, running = [], 0.0
    for pk in country_ids:
        running += weights[pk]
        cumulative.append(running)

    def country() -> int:
        return rng.choices(country_ids, cum_weights=cumulative)[0]

    document_types = list(DocumentType.objects.values_list("id", flat=True))
    role_ids = list(AssociationRole.objects.values_list("id", flat=True))
    activity_ids = list(range(1, 20))
    behavior_ids = list(range(1, 15))
    check_ids = list(range(1, 10))

    customers = _Table(
        m.Customer,
        [
            "id",
            "external_ref",
            "customer_type_id",
            "status_id",
            "first_name",
            "last_name",
            "date_birth",
            "gender_id",
            "non_face_to_face",
            "country_nationality_id",
            "country_birth_id",
            "country_residence_id",
            "profession",
            "registered_name",
            "registration_no",
            "date_incorporation",
            "incorporation_type_id",
            "country_incorporation_id",
            "country_domiciliary_id",
            "country_activity_id",
            "referral_agent",
            "relationship_start_date",
            "kyc_status",
            "user_state",
        ],
    )
    id_cards = _Table(
        m.IdCard, ["customer_id", "id_card_type_id", "number", "copy", "expiration_date", "issued_country_id"]
    )
    addresses = _Table(
        m.Address, ["customer_id", "country_id", "street_name", "postcode", "city", "verified"]
    )
    communication = _Table(m.CommunicationMeans, ["customer_id", "communication_means_type_id", "value"])
    wealth = _Table(m.Wealth, ["customer_id", "wealth_scale_id", "wealth_status_id", "source"])
    income = _Table(
        m.AnnualIncome, ["customer_id", "annual_income_scale_id", "annual_income_status_id", "source"]
    )
    funds = _Table(m.Fund, ["customer_id", "fund_type_id", "country_id", "counterpart_name"])
    statements = _Table(m.FinancialStatement, ["customer_id", "statement_type_id", "year", "income", "copy"])
    presences = _Table(m.CountryPresence, ["customer_id", "country_id", "year"])
    screening = _Table(
        m.ScreeningRisk,
        [
            "customer_id",
            "screening_risk_type_id",
            "identifier",
            "score",
            "inspected",
            "confirmed",
            "full_name",
        ],
    )
    documents = _Table(m.Document, ["customer_id", "document_type_id", "filename", "description"])
    checked_documents = _through("checked_documents", "documenttype_id")
    checked_activity = _through("checked_activity_risks", "activityrisk_id")
    checked_behavior = _through("checked_behavior_risks", "behaviorrisk_id")
    checked_enhanced = _through("checked_enhanced_checks", "enhancedcheck_id")
    stakes = _Table(m.Stake, ["holder_id", "entity_id", "percentage"])
    roles = _Table(m.CustomerAssociation, ["associate_id", "customer_id", "role_id"])
    tables = [
        customers,
        id_cards,
        addresses,
        communication,
        wealth,
        income,
        funds,
        statements,
        presences,
        screening,
        documents,
        checked_documents,
        checked_activity,
        checked_behavior,
        checked_enhanced,
        stakes,
        roles,
    ]

    def days_ago(low: int, high: int):
        return today - timedelta(days=rng.randint(low, high))

    pairs: set[tuple[int, int]] = set()
    organisations = 0
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg 3 cursor: COPY
        for start in range(1, total + 1, BATCH):
            stop = min(start + BATCH, total + 1)
            batch_organisations = []
            for pk in range(start, stop):
                person = rng.random() < 0.8
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                if person:
                    residence = country()
                    nationality = residence if rng.random() < 0.8 else country()
                    customers.add(
                        pk, f"BENCH{pk:08d}", 1, 1 if rng.random() < 0.9 else rng.randint(2, 6),
                        name.split()[0], name.split()[1], days_ago(18 * 365, 85 * 365), rng.randint(1, 3),
                        rng.random() < 0.3, nationality, nationality if rng.random() < 0.7 else country(),
                        residence, rng.choice(PROFESSIONS),
                        "", "", None, None, None, None, None,
                        "Introducer Ltd" if rng.random() < 0.1 else "",
                        days_ago(0, 3650) if rng.random() < 0.95 else None, "SUCCESSFUL", "ACTIVE",
                    )  # fmt: skip
                    home_country = residence
                else:
                    organisations += 1
                    batch_organisations.append(pk)
                    incorporation = country()
                    customers.add(
                        pk, f"BENCH{pk:08d}", 2, 1 if rng.random() < 0.9 else rng.randint(2, 6),
                        "", "", None, None, False, None, None, None, "",
                        f"{rng.choice(LAST_NAMES)} {rng.choice(COMPANY_WORDS)} Ltd", f"REG{pk:08d}",
                        days_ago(365, 40 * 365), rng.randint(1, 13) if rng.random() < 0.9 else None,
                        incorporation, incorporation if rng.random() < 0.8 else country(),
                        incorporation if rng.random() < 0.6 else country(),
                        "Introducer Ltd" if rng.random() < 0.1 else "",
                        days_ago(0, 3650) if rng.random() < 0.95 else None, "SUCCESSFUL", "ACTIVE",
                    )  # fmt: skip
                    home_country = incorporation

                # ID documents: persons mostly one or two, some expired or without a copy.
                for i in range(
                    rng.choices((0, 1, 2, 3), (8, 55, 27, 10))[0] if person else rng.randint(0, 1)
                ):
                    expiry = None if rng.random() < 0.1 else today + timedelta(days=rng.randint(-1500, 3650))
                    id_cards.add(
                        pk, rng.randint(1, 5), f"ID{pk}-{i}", rng.random() < 0.7, expiry, home_country
                    )
                for i in range(rng.choices((1, 2), (70, 30))[0]):
                    address_country = home_country if rng.random() < 0.85 else country()
                    addresses.add(
                        pk, address_country, f"{i + 1} {rng.choice(STREETS)}", f"{rng.randint(1000, 99999)}",
                        rng.choice(CITIES), rng.random() < 0.65,
                    )  # fmt: skip
                for kind in rng.sample((1, 2, 3, 4), rng.randint(1, 3)):
                    communication.add(
                        pk, kind, f"bench{pk}@example.com" if kind == 4 else f"+357 22 {pk:06d}"
                    )
                for _ in range(rng.choices((0, 1, 2), (40, 45, 15))[0]):
                    wealth.add(
                        pk,
                        rng.choices(range(1, 7), (30, 30, 15, 12, 8, 5))[0],
                        rng.choice((1, 2, 2)),
                        "Savings",
                    )
                for _ in range(rng.choices((0, 1, 2), (30, 55, 15))[0]):
                    income.add(
                        pk,
                        rng.choices(range(1, 7), (25, 25, 20, 15, 10, 5))[0],
                        rng.choice((1, 2, 2)),
                        "Salary",
                    )
                if not person:
                    for i in range(rng.randint(0, 4)):
                        funds.add(
                            pk,
                            rng.randint(1, 2),
                            country() if rng.random() < 0.95 else None,
                            f"Counterparty {i}",
                        )
                    for year in rng.sample(range(today.year - 4, today.year + 1), rng.randint(0, 3)):
                        statements.add(
                            pk, rng.randint(1, 3), year, rng.randint(10_000, 9_000_000), rng.random() < 0.7
                        )
                    for country_id in {country() for _ in range(rng.randint(0, 3))}:
                        presences.add(pk, country_id, rng.randint(1990, today.year))
                if rng.random() < 0.04:
                    for i in range(rng.randint(1, 2)):
                        inspected = rng.random() < 0.6
                        screening.add(
                            pk, rng.randint(1, 5), f"WL-{pk}-{i}", rng.randint(50, 100), inspected,
                            inspected and rng.random() < 0.2, name,
                        )  # fmt: skip
                for kind in rng.sample(document_types, rng.randint(0, 3)):
                    documents.add(pk, kind, f"doc-{pk}-{kind}.pdf", "Scanned copy")
                for kind in rng.sample(document_types, rng.randint(0, 5)):
                    checked_documents.add(pk, kind)
                if rng.random() < 0.12:
                    for kind in rng.sample(activity_ids, rng.randint(1, 2)):
                        checked_activity.add(pk, kind)
                if rng.random() < 0.05:
                    for kind in rng.sample(behavior_ids, rng.randint(1, 2)):
                        checked_behavior.add(pk, kind)
                if rng.random() < 0.25:
                    for kind in rng.sample(check_ids, rng.randint(1, 2)):
                        checked_enhanced.add(pk, kind)

            # Associations: shareholders of, and roles in, this batch's organisations.
            for _ in range((stop - start) // ASSOCIATION_EVERY):
                if not batch_organisations:
                    break
                entity = rng.choice(batch_organisations)
                other = rng.randint(1, stop - 1)
                stake = rng.random() < 0.5
                if other == entity or (stake, other, entity) in pairs:
                    continue
                pairs.add((stake, other, entity))
                if stake:
                    stakes.add(other, entity, f"{rng.uniform(1, 100):.2f}")
                else:
                    roles.add(other, entity, rng.choice(role_ids))
            for table in tables:
                table.flush(cursor)
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{m.Customer._meta.db_table}', 'id'), %s)",
                [max(total, 1)],
            )
    if connection.vendor == "postgresql":
        vacuum_analyze([table.table for table in tables])
    return {
        "customers": customers.count,
        "organisations": organisations,
        "list_rows": sum(table.count for table in tables[1:-2]),
        "associations": stakes.count + roles.count,
    }
