"""Ongoing screening (issue 6 point 7): after a list import, the run's new and changed entries
against all customers, in a worker, with progress on the import run.

`screening.list_imported` (published by `services.import_file` in the import's transaction) is
dispatched by the outbox; `schedule_after_import` marks the run PENDING with its total and, after
commit, enqueues `users.screen_import_run` (`users.screening.tasks`). The task works in steps of
`STEP_SIZE` items, each ending with one cheap UPDATE of `screening_done` / `screening_hits`.

Two strategies, chosen by counts when the screening starts:

- **entries** (the usual case: a daily update changes a few dozen entries): each added or changed,
  not removed entry of the run (`last_changed_import` = the run) retrieves the customers whose
  indexed names share keys with any of its names (`index.CUSTOMERS`), and each is scored with the
  matcher exactly as customer screening would score it: the customer's name is the query, the
  entry's names the candidates, the customer's date of birth and countries against the entry's.
- **customers**: when the entries to screen outnumber the live customers more than
  `CUSTOMER_STRATEGY_RATIO` times (the first import of a 1,000,000-entry list against 100,000
  customers), one retrieval per customer name over the watchlist index costs far less than one
  per entry name over the customers' index (each step costs about the same per item: a few
  queries and the scoring of the retrieved names; measured on PostgreSQL with 5,000 customers
  bearing 400 common names, ~190 ms per entry against ~13 ms per customer), so every customer is
  screened with
  `screen_customer(..., ongoing=True)` (against every active list: hits already known are not
  duplicated). Progress then counts customers, and hits the customers' hits on the run's entries.

Hits go through `hits.record_hits(..., ongoing=True, import_run_id=run.pk)`, which never
duplicates a (customer, entry) hit: a redelivered step or a re-run of the whole screening
records nothing twice (a pair already recorded for the entry's current md5 is not even handed
over again). `screening_hits` counts the (customer, entry) matches found at or above
the threshold, known before or new, so a re-run ends with the same counters.

Idempotence of the chain: each step carries the counters it started from and writes its own with
a compare-and-set on `screening_done`; a duplicate of a step that already ran finds the counters
moved on and stops there, so a redelivered message never forks the chain. A start message finds
the run RUNNING with progress when a chain is under way (a duplicate start: nothing to do), and
otherwise (PENDING, DONE, FAILED, or a first step that died) starts over from zero.

Customers never indexed (created before customer screening existed) are invisible to the entries
strategy: `manage.py reindex_customers` indexes them (`reindex_customers()` below); the start of
a screening logs how many there are. The task is sent after the handler's commit; if the broker
was down then, or a chain was lost, the import runs admin action "Screen customers again" starts
the screening over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance import events
from compliance.audit import Actor, audit_log
from users.models import Customer, ScreeningRisk
from users.models.screening import CustomerName, ImportRun, ImportStatus, ScreeningStatus, WatchlistEntry
from users.screening import index
from users.screening.matching import (
    COUNTRY_AGREES,
    DOB_EXACT,
    CandidateName,
    MatchResult,
    score,
    threshold_for,
)
from users.screening.normalise import PreparedName
from users.screening.search import COMPATIBLE, NAME_KIND, Candidate

logger = logging.getLogger(__name__)

EVENT = "screening.list_imported"
HANDLER_NAME = "users.ongoing_screening"
ACTOR_NAME = "ongoing-screening"
ENTRIES = "entries"
CUSTOMERS = "customers"
# Items (entries or customers) screened between two progress updates.
STEP_SIZE = 100
# Screen every customer instead when the entries outnumber the customers this many times.
CUSTOMER_STRATEGY_RATIO = 3
# Customer names retrieved per entry name (a common name may be borne by many customers).
CUSTOMER_RETRIEVE_LIMIT = 1000
# Customers (re)indexed per transaction by `reindex_customers`.
REINDEX_CHUNK = 500


def actor() -> Actor:
    return Actor.system_actor(ACTOR_NAME)


@dataclass(frozen=True)
class Step:
    """Where a screening chain stands: what the next step starts from."""

    import_run_id: int
    strategy: str
    cursor: int = 0  # the last entry / customer pk screened
    done: int = 0
    hits: int = 0

    def as_kwargs(self) -> dict:
        return asdict(self)


# --- scheduling ----------------------------------------------------------------------------


@events.subscribe(EVENT, name=HANDLER_NAME)
def schedule_after_import(event) -> None:
    """Handler of `screening.list_imported`: mark the run PENDING, screen it after commit."""
    screening_schedule(import_run_id=event.payload["importRunId"], actor=actor())


def screening_schedule(*, import_run_id: int, actor: Actor) -> ImportRun | None:
    """Mark the run's screening PENDING with its expected total and enqueue it after commit.
    A run with nothing to screen (an unchanged re-import, an inactive source, no customers)
    is DONE at once, and no task is sent."""
    from users.screening.tasks import screen_import_run

    with transaction.atomic():
        run = (
            ImportRun.objects.select_for_update(of=("self",))
            .select_related("source")
            .filter(pk=import_run_id)
            .first()
        )
        if run is None:
            logger.warning("Import run %s is gone; nothing to screen", import_run_id)
            return None
        strategy, total = _plan(run)
        _set(run, status=ScreeningStatus.PENDING, total=total, done=0, hits=0, finished_at=None)
        if not total:
            _set(run, status=ScreeningStatus.DONE, finished_at=timezone.now())
        run.save(update_fields=_FIELDS)
        audit_log(
            actor=actor,
            action="watchlist.screening_scheduled",
            instance=run,
            after={"strategy": strategy, "total": total, "status": run.screening_status},
        )
        if total:
            transaction.on_commit(lambda: screen_import_run.delay(run.pk), robust=True)
    return run


_FIELDS = ("screening_status", "screening_total", "screening_done", "screening_hits", "screening_finished_at")


def _set(run: ImportRun, *, status=None, total=None, done=None, hits=None, finished_at=...) -> None:
    for field, value in (
        ("screening_status", status),
        ("screening_total", total),
        ("screening_done", done),
        ("screening_hits", hits),
    ):
        if value is not None:
            setattr(run, field, value)
    if finished_at is not ...:
        run.screening_finished_at = finished_at


def _entries(run: ImportRun):
    """The run's added and changed entries still listed (removed ones are not screened)."""
    return WatchlistEntry.objects.filter(last_changed_import=run, removed_at__isnull=True)


def _plan(run: ImportRun) -> tuple[str, int]:
    """(strategy, number of items to screen) of a run; 0 when there is nothing to screen."""
    if run.status != ImportStatus.SUCCEEDED or not run.source.active:
        return ENTRIES, 0
    entries = _entries(run).count()
    customers = Customer.objects.count() if entries else 0
    if not entries or not customers:
        return ENTRIES, 0
    if entries > CUSTOMER_STRATEGY_RATIO * customers:
        return CUSTOMERS, customers
    return ENTRIES, entries


# --- running -------------------------------------------------------------------------------


def screening_start(*, import_run_id: int, actor: Actor) -> Step | None:
    """Start (or start over) the screening of a run: RUNNING from zero. None when there is
    nothing to do: the run is gone, a chain is already under way, or nothing is to be screened."""
    with transaction.atomic():
        run = (
            ImportRun.objects.select_for_update(of=("self",))
            .select_related("source")
            .filter(pk=import_run_id)
            .first()
        )
        if run is None:
            return None
        if run.screening_status == ScreeningStatus.RUNNING and run.screening_done:
            logger.info("Screening of import run %s is under way; duplicate start ignored", run.pk)
            return None
        strategy, total = _plan(run)
        now = timezone.now()
        if total:
            _set(run, status=ScreeningStatus.RUNNING, total=total, done=0, hits=0, finished_at=None)
        else:
            _set(run, status=ScreeningStatus.DONE, total=0, done=0, hits=0, finished_at=now)
        run.save(update_fields=_FIELDS)
        if total and strategy == ENTRIES and (unindexed := _unindexed().count()):
            logger.warning(
                "%d customers have no indexed name: ongoing screening cannot find them "
                "(run `manage.py reindex_customers --missing`)",
                unindexed,
            )
        audit_log(
            actor=actor,
            action="watchlist.screening_started",
            instance=run,
            after={"strategy": strategy, "total": total},
        )
    return Step(run.pk, strategy) if total else None


def screening_step(step: Step, *, actor: Actor) -> Step | None:
    """Screen the next `STEP_SIZE` items after `step.cursor`, then write the progress. Answers
    the next step, or None when the screening is finished or this step was a duplicate."""
    run = ImportRun.objects.select_related("source").filter(pk=step.import_run_id).first()
    if run is None or run.screening_status != ScreeningStatus.RUNNING or run.screening_done != step.done:
        return None  # a duplicate of a step that already ran, or a screening started over
    if step.strategy == CUSTOMERS:
        ids = list(
            Customer.objects.filter(pk__gt=step.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:STEP_SIZE]
        )
        _screen_customers(ids, actor)
        # The customers' hits on this run's entries, known before or new: a re-run counts the same.
        found = ScreeningRisk.objects.filter(
            customer_id__in=ids, watchlist_entry__in=_entries(run).values("pk")
        ).count()
        cursor = ids[-1] if ids else step.cursor
        count = len(ids)
    else:
        entries = list(
            _entries(run).filter(pk__gt=step.cursor).select_related("source").order_by("pk")[:STEP_SIZE]
        )
        profiles: dict = {}
        found = sum(screen_entry(entry, run=run, actor=actor, profiles=profiles) for entry in entries)
        cursor = entries[-1].pk if entries else step.cursor
        count = len(entries)
    following = Step(run.pk, step.strategy, cursor, step.done + count, step.hits + found)
    moved = ImportRun.objects.filter(
        pk=run.pk, screening_status=ScreeningStatus.RUNNING, screening_done=step.done
    )
    if count == STEP_SIZE:
        if not moved.update(screening_done=following.done, screening_hits=following.hits):
            return None
        return following
    with transaction.atomic():
        finished = moved.update(
            screening_status=ScreeningStatus.DONE,
            screening_total=following.done,  # what was still listed (or live) when it ended
            screening_done=following.done,
            screening_hits=following.hits,
            screening_finished_at=timezone.now(),
        )
        if finished:
            run.refresh_from_db(fields=_FIELDS)
            audit_log(
                actor=actor,
                action="watchlist.screening_finished",
                instance=run,
                after={"strategy": step.strategy, "total": following.done, "hits": following.hits},
            )
    return None


def screening_fail(*, import_run_id: int, actor: Actor, error: str) -> None:
    """The task gave up (retries exhausted, or an error no retry cures): FAILED, audited."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=import_run_id).first()
        if run is None or run.screening_status == ScreeningStatus.DONE:
            return
        _set(run, status=ScreeningStatus.FAILED, finished_at=timezone.now())
        run.save(update_fields=_FIELDS)
        audit_log(
            actor=actor,
            action="watchlist.screening_failed",
            instance=run,
            after={"done": run.screening_done, "total": run.screening_total, "error": error[:1000]},
        )


# --- one entry against all customers -------------------------------------------------------

# The most date of birth and country agreement can add to a name's score: a customer whose
# names alone score below the threshold minus this is not looked at further.
MAX_PROFILE_BOOST = DOB_EXACT + COUNTRY_AGREES


def screen_entry(entry: WatchlistEntry, *, run: ImportRun, actor: Actor, profiles: dict | None = None) -> int:
    """Score the customers retrieved by any of the entry's names; record those at or above the
    source kind's threshold as ongoing hits. Answers how many customers matched.

    `profiles` caches customers' dates of birth and countries across the entries of a step."""
    from users.screening.hits import record_hits

    profiles = {} if profiles is None else profiles
    names = [
        CandidateName(index.load(text, stored), NAME_KIND[kind])
        for text, kind, stored in entry.names.values_list("name", "kind", "prepared")
    ]
    name_ids: set[int] = set()
    years = index.birth_years(entry.birth_dates)  # namesakes born that year are read first
    for name in names:
        if name.name:
            name_ids.update(
                index.retrieve(index.CUSTOMERS, name.name, limit=CUSTOMER_RETRIEVE_LIMIT, years=years)
            )
    if not name_ids:
        return 0
    # Every name of the customers retrieved (each is searched in customer screening), live ones only.
    retrieved = CustomerName.objects.filter(pk__in=name_ids).values("customer_id")
    by_customer: dict[int, list[PreparedName]] = {}
    rows = CustomerName.objects.filter(customer_id__in=retrieved, customer__deleted_at__isnull=True)
    for customer_id, text, stored in rows.order_by("customer_id", "pk").values_list(
        "customer_id", "name", "prepared"
    ):
        by_customer.setdefault(customer_id, []).append(index.load(text, stored))
    threshold = threshold_for(entry.source.kind)
    # Names first: date of birth and countries are read only for customers they could lift to a hit.
    near = [
        customer_id
        for customer_id, prepared in by_customer.items()
        if (names_only := best_score(prepared, names, entry=entry)) is not None
        and names_only[1].score + MAX_PROFILE_BOOST >= threshold
    ]
    if not near:
        return 0
    missing = [customer_id for customer_id in near if customer_id not in profiles]
    if missing:
        from users.screening.customers import countries_of

        customers = list(Customer.objects.filter(pk__in=missing))
        countries = countries_of(customers)
        for customer in customers:
            profiles[customer.pk] = (
                customer,
                customer.date_birth if customer.is_person else None,
                countries[customer.pk] or None,
            )
    # A hit recorded before for this very version of the entry needs no second recording.
    known = set(
        ScreeningRisk.objects.filter(watchlist_entry=entry, customer_id__in=near, md5=entry.md5).values_list(
            "customer_id", flat=True
        )
    )
    found = 0
    for customer_id in sorted(near):
        if customer_id not in profiles:
            continue  # deleted meanwhile
        customer, birth_date, countries = profiles[customer_id]
        searched, result = best_score(
            by_customer[customer_id], names, entry=entry, birth_date=birth_date, countries=countries
        )
        if result.score < threshold:
            continue
        found += 1
        if customer_id in known:
            continue
        record_hits(
            customer=customer,
            candidates=[(searched, Candidate(entry, result, threshold))],
            actor=actor,
            ongoing=True,
            import_run_id=run.pk,
        )
    return found


def best_score(
    customer_names: Iterable[PreparedName],
    entry_names: list[CandidateName],
    *,
    entry: WatchlistEntry,
    birth_date=None,
    countries: list[str] | None = None,
) -> tuple[str, MatchResult] | None:
    """The customer's name scoring best against the entry's names, with the matcher's result:
    each customer name is the query, as customer screening searches it (`search.search`), the
    entry's names the candidates. None when no name of the customer may match an entry of this
    kind (a person is not a ship)."""
    best: tuple[str, MatchResult] | None = None
    for prepared in customer_names:
        if not prepared or (
            prepared.schema in COMPATIBLE and entry.schema not in COMPATIBLE[prepared.schema]
        ):
            continue
        result = score(
            prepared,
            entry_names,
            query_dob=birth_date,
            candidate_dobs=entry.birth_dates,
            query_country=countries,
            candidate_countries=[*entry.nationalities, *entry.countries],
        )
        if best is None or result.score > best[1].score:
            best = (prepared.original, result)
    return best


def _screen_customers(customer_ids: list[int], actor: Actor) -> None:
    from users.screening.customers import screen_customers

    screen_customers(customer_ids=customer_ids, actor=actor, ongoing=True)


# --- customers never indexed ---------------------------------------------------------------


def _unindexed():
    """Live customers with no indexed name (never indexed, or with no name at all)."""
    return Customer.objects.filter(~Exists(CustomerName.objects.filter(customer=OuterRef("pk"))))


def reindex_customers(*, missing_only: bool = False, chunk: int = REINDEX_CHUNK) -> tuple[int, int]:
    """Index the names of every live customer (or of those with no indexed name yet), `chunk`
    customers per transaction. Answers (customers looked at, customers whose names were rewritten)."""
    from users.screening.customers import reindex_customers as reindex

    customers = _unindexed() if missing_only else Customer.objects.all()
    customers = customers.order_by("pk")
    cursor = seen = rewritten = 0
    while batch := list(customers.filter(pk__gt=cursor)[:chunk]):
        with transaction.atomic():
            rewritten += reindex(batch)
        seen += len(batch)
        cursor = batch[-1].pk
    return seen, rewritten
