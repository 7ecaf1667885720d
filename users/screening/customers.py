"""Screening a customer: its names against the watchlists, hits recorded as screening risks.

Creating a customer, or changing its names, date of birth or countries (its own fields or
its addresses' countries), screens it in a worker after commit: `schedule_screening`, called
by the customer and KYC services, publishes `customer.screening_requested` through the
outbox, and its handler runs `screen_customer`. Screening first rewrites
the customer's indexed names (`index.CUSTOMERS`, what ongoing screening retrieves), then
searches each name with the customer's date of birth and countries, and hands the hits to
`users.screening.hits.record_hits` (no duplicates: re-screening is idempotent).
"""

from __future__ import annotations

import logging

from django.db import transaction

from compliance import events
from compliance.audit import Actor
from compliance.reference.models import Country
from users.models import Address, Customer, CustomerName, ScreeningRisk, WatchlistKeyStat
from users.models.screening import NameKind
from users.screening import index
from users.screening.hits import record_hits
from users.screening.normalise import ORGANIZATION, PERSON, prepare
from users.screening.search import search

logger = logging.getLogger(__name__)

# Customer fields whose change calls for a new screening.
SCREENING_FIELDS = (
    "first_name",
    "middle_name",
    "maiden_name",
    "last_name",
    "date_birth",
    "country_nationality",
    "country_birth",
    "country_residence",
    "registered_name",
    "trade_name",
    "country_incorporation",
    "country_domiciliary",
    "country_activity",
)
PERSON_COUNTRIES = ("country_nationality_id", "country_birth_id", "country_residence_id")
ORGANISATION_COUNTRIES = ("country_incorporation_id", "country_domiciliary_id", "country_activity_id")
# Candidates searched per name (hits only: those over their source's threshold).
SEARCH_LIMIT = 25


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def screening_names(customer: Customer) -> list[tuple[str, str, str]]:
    """`(name, NameKind, matcher schema)` of every name the customer is screened under:
    a person's full name (and with the maiden name for the last name), an organisation's
    legal name and trade name."""
    names: list[tuple[str, str, str]] = []
    if customer.is_organisation:
        for value in (customer.registered_name, customer.trade_name):
            if value and value.strip():
                kind = NameKind.PRIMARY if not names else NameKind.STRONG_ALIAS
                names.append((value.strip(), kind, ORGANIZATION))
    else:
        full = _join(customer.first_name, customer.middle_name, customer.last_name)
        if full:
            names.append((full, NameKind.PRIMARY, PERSON))
        if customer.maiden_name and customer.maiden_name.strip():
            maiden = _join(customer.first_name, customer.middle_name, customer.maiden_name)
            names.append((maiden, NameKind.PRIMARY if not names else NameKind.STRONG_ALIAS, PERSON))
    seen: set[str] = set()
    unique = []
    for name, kind, schema in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            unique.append((name[:500], str(kind), schema))
    return unique


def customer_countries(customer: Customer) -> list[str]:
    """Alpha-2 codes of the customer's countries: its own (nationality, birth, residence; or
    incorporation, domiciliary, activity) and its addresses'."""
    return countries_of([customer])[customer.pk]


def countries_of(customers: list[Customer]) -> dict[int, list[str]]:
    """`customer_countries` of many customers in two queries."""
    ids: dict[int, set[int]] = {}
    for customer in customers:
        fields = ORGANISATION_COUNTRIES if customer.is_organisation else PERSON_COUNTRIES
        ids[customer.pk] = {getattr(customer, f) for f in fields} - {None}
    for customer_id, country_id in Address.objects.filter(
        customer_id__in=list(ids), country__isnull=False
    ).values_list("customer_id", "country_id"):
        ids[customer_id].add(country_id)
    wanted = set().union(*ids.values()) if ids else set()
    codes = dict(Country.objects.filter(pk__in=wanted).values_list("pk", "alpha2")) if wanted else {}
    return {pk: sorted(codes[c] for c in country_ids) for pk, country_ids in ids.items()}


def reindex_customer(customer: Customer) -> bool:
    """Rewrite the customer's indexed names (`CustomerName` and their keys) if its names
    changed; answers whether it did."""
    return bool(reindex_customers([customer]))


def reindex_customers(customers: list[Customer]) -> int:
    """Rewrite the indexed names of those of `customers` whose names (or year of birth, a key
    of theirs) changed, in a constant number of statements; answers how many were rewritten."""

    def year(customer: Customer) -> int | None:
        return customer.date_birth.year if customer.is_person and customer.date_birth else None

    current: dict[int, list[tuple[str, str, int | None]]] = {c.pk: [] for c in customers}
    for customer_id, name, kind, stored in CustomerName.objects.filter(
        customer_id__in=list(current)
    ).values_list("customer_id", "name", "kind", "prepared"):
        current[customer_id].append((name, kind, (stored or {}).get("y")))
    changed = {}
    for customer in customers:
        wanted = screening_names(customer)
        indexed = sorted((name, kind, year(customer)) for name, kind, _ in wanted)
        if sorted(current[customer.pk]) != indexed:
            changed[customer] = wanted
    if not changed:
        return 0
    with transaction.atomic():
        rows = CustomerName.objects.filter(customer_id__in=[c.pk for c in changed])
        counts: dict[str, int] = {}  # the stats once, in key order (`index.apply_counts`)
        index.remove_names(index.CUSTOMERS, rows, counts=counts)
        rows.delete()
        saved, prepared, births = [], [], []
        for customer, wanted in changed.items():
            born = year(customer)
            for name, kind, schema in wanted:
                prep = prepare(name, schema=schema)
                # the year indexed with the name is kept beside its tokens ("y"): a new date of
                # birth rewrites the keys
                stored = {**index.dump(prep), "y": born}
                saved.append(CustomerName(customer_id=customer.pk, name=name, kind=kind, prepared=stored))
                prepared.append(prep)
                births.append([born] if born else [])
        CustomerName.objects.bulk_create(saved)
        index.add_names(index.CUSTOMERS, saved, prepared, births, joined=True, counts=counts)
        index.apply_counts(index.CUSTOMERS, counts)
    return len(changed)


def screen_customer(*, customer_id: int, actor: Actor, ongoing: bool = False) -> list[ScreeningRisk]:
    """Screen one live customer against every active watchlist; answers the new hits
    (created or re-raised screening risks). Safe to run again: existing hits are kept."""
    return screen_customers(customer_ids=[customer_id], actor=actor, ongoing=ongoing)


def screen_customers(*, customer_ids: list[int], actor: Actor, ongoing: bool = False) -> list[ScreeningRisk]:
    """Screen many live customers (a chunk of a bulk re-screening: names reindexed and
    countries read in a few statements for all of them, then one search per name); answers
    the new hits. Customers deleted meanwhile are skipped."""
    customers = list(Customer.objects.filter(pk__in=customer_ids).order_by("pk"))
    if not customers:
        return []
    reindex_customers(customers)
    if not WatchlistKeyStat.objects.exists():  # no list loaded: nothing can match
        return []
    countries = countries_of(customers)
    hits: list[ScreeningRisk] = []
    for customer in customers:
        birth_date = customer.date_birth if customer.is_person else None
        candidates = []
        for name, _kind, schema in screening_names(customer):
            for candidate in search(
                name,
                schema=schema,
                birth_date=birth_date,
                countries=countries[customer.pk] or None,
                limit=SEARCH_LIMIT,
            ):
                candidates.append((name, candidate))
        if candidates:
            hits += record_hits(customer=customer, candidates=candidates, actor=actor, ongoing=ongoing)
    return hits


# --- scheduling ----------------------------------------------------------------------------


SCREENING_REQUESTED = "customer.screening_requested"


def schedule_screening(customer_id: int) -> None:
    """Screen the customer in a worker once the current transaction commits, once however
    many writes of the transaction ask for it.

    The request is a domain event written to the outbox with the write: if the broker is down
    at commit, the outbox sweep dispatches it later, so no change goes unscreened. An internal
    event: no webhook event type maps to it."""
    from compliance.models import OutboxEvent

    with transaction.atomic():
        pending = OutboxEvent.objects.filter(
            name=SCREENING_REQUESTED, aggregate_id=str(customer_id), dispatched_at__isnull=True
        )
        if not pending.exists():  # one not dispatched yet screens the customer as it then is
            events.publish(
                SCREENING_REQUESTED,
                {"customerId": customer_id},
                aggregate_type="users.customer",
                aggregate_id=customer_id,
            )


@events.subscribe(SCREENING_REQUESTED, name="users.screen_customer")
def screen_requested(event) -> None:
    """Handler of `customer.screening_requested` (in the event dispatch worker, retried with
    it). Idempotent: a hit already recorded is not recorded again."""
    screen_customer(customer_id=event.payload["customerId"], actor=Actor.system_actor("customer screening"))


def screening_changed(before: dict, after: dict) -> bool:
    """Whether a customer write changed what screening reads (snapshots before and after)."""
    return any(before.get(name) != after.get(name) for name in SCREENING_FIELDS)
