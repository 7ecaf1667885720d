"""What a rule template sees of a transaction: its values, its users and their history.

Aggregates over stored transactions are computed on demand and memoised for the
evaluation, so ten instances asking for the same window cost one query. Windows end
at the transaction's own timestamp (not the wall clock), so a back-filled or
backtested transaction is judged against the history it had.

The transaction under evaluation may be stored already (a transaction event's re-run, a
backtest) or not yet (`POST /api/transactions` judges it before the one INSERT that stores
it with its verdict). Every aggregate means the same either way: "this one included" windows
add an unsaved transaction's own contribution to what the database holds, and "before this
one" lookups exclude a stored transaction's own row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import Max, Q, Sum

from transactions import money
from transactions.countries import countries_by_id
from transactions.models import Transaction

ORIGIN = "ORIGIN"
DESTINATION = "DESTINATION"

# What a "key" selects: the transactions of the same origin user, destination user,
# or payment instrument as this one.
KEYS = {
    "originUser": ("origin_user_id", "origin_user_id"),
    "destinationUser": ("destination_user_id", "destination_user_id"),
    "originPayment": ("origin_payment_identifier", "origin_payment_identifier"),
    "destinationPayment": ("destination_payment_identifier", "destination_payment_identifier"),
}


# At most this many amounts are read for one window (structuring, round amounts).
AMOUNTS_LIMIT = 1000


@dataclasses.dataclass(frozen=True)
class Stats:
    count: int
    sum_base: Decimal


def _decimal(total) -> Decimal:
    """A SUM as Decimal: PostgreSQL answers numeric already; SQLite answers a float (its
    decimals are floating point), rounded back to the column's 6 places."""
    if total is None:
        return Decimal(0)
    if isinstance(total, Decimal):
        return total
    return Decimal(repr(total)).quantize(money.QUANTUM)


@dataclasses.dataclass
class _Need:
    """One aggregate to read: where (`scope`: a key's rows, or a statement of its own), its window's
    start, its columns (SQL written in this module with quoted names, and their parameters), and
    how its values become what the rules see."""

    memo_key: tuple
    scope: tuple
    start: object
    columns: list[tuple[str, list]]
    finish: Callable
    values: int = 0  # how many values it reads: one per column, unless a statement of its own says

    def __post_init__(self):
        self.values = self.values or len(self.columns)


class EvaluationContext:
    """One transaction under evaluation: stored already (in the current database transaction),
    or not yet (`transaction.pk` is None), in which case it counts itself where the windows
    include it."""

    def __init__(self, transaction: Transaction, *, as_of=None):
        self.transaction = transaction
        self.now = as_of or transaction.timestamp
        self.stored = transaction.pk is not None
        self._memo: dict = {}

    def _counts_itself(self, seconds: int) -> bool:
        """Whether the unsaved transaction falls in the window (now - seconds, now] of its own key."""
        if self.stored:
            return False
        return self.now - timedelta(seconds=seconds) < self.transaction.timestamp <= self.now

    # --- the transaction's own values ---------------------------------------------
    def user(self, direction: str):
        return self.transaction.origin_user if direction == ORIGIN else self.transaction.destination_user

    def amount(self, direction: str) -> Decimal | None:
        tx = self.transaction
        return tx.origin_amount if direction == ORIGIN else tx.destination_amount

    def currency(self, direction: str) -> str:
        tx = self.transaction
        return tx.origin_currency if direction == ORIGIN else tx.destination_currency

    def country(self, direction: str) -> str:
        tx = self.transaction
        return tx.origin_country if direction == ORIGIN else tx.destination_country

    def payment_details(self, direction: str) -> dict:
        tx = self.transaction
        return (tx.origin_payment_details if direction == ORIGIN else tx.destination_payment_details) or {}

    def payment_identifier(self, direction: str) -> str:
        tx = self.transaction
        return tx.origin_payment_identifier if direction == ORIGIN else tx.destination_payment_identifier

    def device(self, direction: str) -> dict:
        tx = self.transaction
        return (tx.origin_device_data if direction == ORIGIN else tx.destination_device_data) or {}

    def amount_in(self, currency: str, direction: str = ORIGIN) -> Decimal | None:
        """This transaction's amount converted to `currency` (None when a rate is missing)."""
        return money.convert(self.amount(direction), self.currency(direction), currency)

    @cached_property
    def risk_levels(self) -> dict:
        """The users' ongoing (CRA) levels, as `detail.riskLevel` shows them."""
        levels = {}
        for key, direction in (("originUser", ORIGIN), ("destinationUser", DESTINATION)):
            user = self.user(direction)
            if user is not None:
                levels[key] = user.risk_level
        return levels

    @cached_property
    def risk_level(self) -> str | None:
        """The level that picks an instance's parameters and action: the origin user's ongoing
        level, else the destination user's; None for a transaction without known users."""
        return self.risk_levels.get("originUser") or self.risk_levels.get("destinationUser")

    @cached_property
    def document(self) -> dict:
        """The transaction in the API shape, plus its users: what custom conditions address."""
        from transactions.documents import transaction_document, user_summary

        document = transaction_document(self.transaction, verdict=False)
        document["originUser"] = user_summary(self.transaction.origin_user)
        document["destinationUser"] = user_summary(self.transaction.destination_user)
        return document

    # --- history --------------------------------------------------------------------
    def _others(self):
        """The stored transactions but this one."""
        if self.stored:
            return Transaction.objects.exclude(pk=self.transaction.pk)
        return Transaction.objects.all()

    def _scope(self, key: str):
        column, attribute = KEYS[key]
        value = getattr(self.transaction, attribute)
        if value in (None, ""):
            return None
        return Transaction.objects.filter(**{column: value})

    # --- aggregates read in plain SQL, several in one statement ----------------------------
    #
    # The velocity and fan-in/out rules run these on every transaction. Building them through the
    # ORM cost five times the queries themselves, and each statement has its round trip and its
    # planning: so they are plain SQL on the (key, timestamp) indexes, and `prefetch` reads every
    # aggregate the active instances will ask for in one statement — one scan per key over the
    # widest window asked, each aggregate counting its own window with CASE — before they run.
    # Asked one at a time (a template the plan does not know), an aggregate is the same
    # statement with one part.

    def prefetch(self, wanted) -> None:
        """Read the aggregates named by memo keys (`("window", key, seconds, types)`,
        `("distinct", key, seconds)`, `("sent_before", user_id)`, `("ip_country", direction)`)
        that are not read yet, in one statement. Other keys are left to their methods."""
        build = {
            "window": self._window_need,
            "distinct": self._distinct_need,
            "sent_before": self._sent_need,
            "ip_country": self._ip_need,
        }
        needs = []
        for memo_key in dict.fromkeys(wanted):
            if memo_key in self._memo:
                continue
            need = build[memo_key[0]](*memo_key[1:]) if memo_key[0] in build else None
            if need is not None:
                needs.append(need)
        if needs:
            self._read(needs)

    def _read(self, needs: list[_Need]) -> None:
        ops = connection.ops
        q = ops.quote_name
        table, ts = q(Transaction._meta.db_table), q("timestamp")
        now = ops.adapt_datetimefield_value(self.now)
        groups: dict[tuple, list[_Need]] = {}
        for need in needs:
            groups.setdefault(need.scope, []).append(need)
        parts, params, order = [], [], []
        for number, (scope, group) in enumerate(groups.items()):
            if scope[0] == "key":
                _, column, value = scope
                columns = ", ".join(expression for need in group for expression, _ in need.columns)
                where = f"{q(column)} = %s AND {ts} > %s AND {ts} <= %s"
                parts.append(f"(SELECT {columns} FROM {table} WHERE {where}) AS g{number}")  # noqa: S608
                params += [p for need in group for _, column_params in need.columns for p in column_params]
                params += [value, ops.adapt_datetimefield_value(min(need.start for need in group)), now]
            else:
                need = group[0]
                parts.append(f"({need.columns[0][0]}) AS g{number}")
                params += need.columns[0][1]
            order += group
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {', '.join(parts)}", params)  # noqa: S608 (parts built above)
            row = cursor.fetchone()
        position = 0
        for need in order:
            values = row[position : position + need.values]
            position += need.values
            self._memo[need.memo_key] = need.finish(values)

    def _key_scope(self, key: str) -> tuple | None:
        column, attribute = KEYS[key]
        value = getattr(self.transaction, attribute)
        return None if value in (None, "") else ("key", column, value)

    def _window_need(self, key: str, seconds: int, types: tuple[str, ...]) -> _Need | None:
        memo_key = ("window", key, seconds, types)
        scope = self._key_scope(key)
        if scope is None:
            self._memo[memo_key] = None
            return None
        q = connection.ops.quote_name
        side = "origin" if key.startswith("origin") else "destination"
        start = self.now - timedelta(seconds=seconds)
        condition = f"{q('timestamp')} > %s"
        condition_params = [connection.ops.adapt_datetimefield_value(start)]
        if types:
            condition += f" AND {q('type')} IN ({', '.join(['%s'] * len(types))})"
            condition_params += list(types)
        own = self._counts_itself(seconds) and (not types or self.transaction.type in types)
        own_amount = getattr(self.transaction, f"{side}_amount_base") or 0

        def finish(values) -> Stats:
            stats = Stats(values[0] or 0, _decimal(values[1]))
            # The unsaved transaction is not in the table: it counts itself.
            return Stats(stats.count + 1, stats.sum_base + own_amount) if own else stats

        return _Need(
            memo_key,
            scope,
            start,
            [
                (f"COUNT(CASE WHEN {condition} THEN 1 END)", condition_params),
                (f"SUM(CASE WHEN {condition} THEN {q(f'{side}_amount_base')} END)", condition_params),
            ],
            finish,
        )

    def _distinct_need(self, key: str, seconds: int) -> _Need | None:
        memo_key = ("distinct", key, seconds)
        scope = self._key_scope(key)
        if scope is None:
            self._memo[memo_key] = None
            return None
        q = connection.ops.quote_name
        other = "destination" if key.startswith("origin") else "origin"
        user, payment = q(f"{other}_user_id"), q(f"{other}_payment_identifier")
        party = (
            f"CASE WHEN {user} IS NOT NULL THEN 'u' || CAST({user} AS TEXT) "
            f"WHEN {payment} <> '' THEN 'p' || {payment} END"
        )
        start = self.now - timedelta(seconds=seconds)
        since = connection.ops.adapt_datetimefield_value(start)
        ts = q("timestamp")
        columns = [(f"COUNT(DISTINCT CASE WHEN {ts} > %s THEN {party} END)", [since])]
        own = self._own_counterparty(other) if self._counts_itself(seconds) else None
        if own is not None:
            # The unsaved transaction's counterparty adds one unless the window has it already.
            columns.append((f"COUNT(CASE WHEN {ts} > %s AND {party} = %s THEN 1 END)", [since, own]))

        def finish(values) -> int:
            return values[0] + (1 if own is not None and not values[1] else 0)

        return _Need(memo_key, scope, start, columns, finish)

    def _sent_need(self, user_id: int) -> _Need:
        q = connection.ops.quote_name
        ts, pk = q("timestamp"), q("id")
        now = connection.ops.adapt_datetimefield_value(self.now)
        table, origin = q(Transaction._meta.db_table), q("origin_user_id")
        sql = f"SELECT 1 FROM {table} WHERE {origin} = %s AND {ts} <= %s"  # noqa: S608 (names quoted)
        params = [user_id, now]
        if self.stored:
            sql += f" AND ({ts} < %s OR {pk} < %s) AND {pk} <> %s"
            params += [now, self.transaction.pk, self.transaction.pk]
        return _Need(
            ("sent_before", user_id),
            ("sent_before", user_id),
            None,
            [(f"SELECT COUNT(*) FROM ({sql} LIMIT 1) AS earlier", params)],  # noqa: S608 (names quoted)
            lambda values: bool(values[0]),
        )

    def window(self, key: str, seconds: int, *, types: tuple[str, ...] = ()) -> Stats | None:
        """Count and base-currency sum of the key's transactions in (now - seconds, now], this
        one included. None when the transaction has no value for the key (no user, no instrument)."""
        memo_key = ("window", key, seconds, types)
        self.prefetch([memo_key])
        return self._memo[memo_key]

    def amounts(self, key: str, seconds: int) -> list[tuple[Decimal, str]] | None:
        """(amount, currency) of the key's transactions in the window, this one included."""
        memo_key = ("amounts", key, seconds)
        if memo_key not in self._memo:
            scope = self._scope(key)
            direction = "origin" if key.startswith("origin") else "destination"
            amounts = None
            if scope is not None:
                own = self._counts_itself(seconds)
                amounts = list(
                    scope.filter(
                        timestamp__gt=self.now - timedelta(seconds=seconds), timestamp__lte=self.now
                    ).values_list(f"{direction}_amount", f"{direction}_currency")[: AMOUNTS_LIMIT - own]
                )
                if own:
                    amounts.append((self.amount(direction.upper()), self.currency(direction.upper())))
            self._memo[memo_key] = amounts
        return self._memo[memo_key]

    def distinct_counterparties(self, key: str, seconds: int) -> int | None:
        """Distinct counterparties (their user, else their payment instrument) the key dealt with
        in the window, this transaction's included: fan-out for an origin key, fan-in for a
        destination key. None when the transaction has no value for the key."""
        memo_key = ("distinct", key, seconds)
        self.prefetch([memo_key])
        return self._memo[memo_key]

    def _own_counterparty(self, side: str) -> str | None:
        """This transaction's counterparty on `side`, spelt as `distinct_counterparties` counts them."""
        user_id = getattr(self.transaction, f"{side}_user_id")
        if user_id is not None:
            return f"u{user_id}"
        payment = getattr(self.transaction, f"{side}_payment_identifier")
        return f"p{payment}" if payment else None

    def previous_activity(self, user_id: int) -> object | None:
        """When the user last sent or received a transaction before this one (None: never)."""
        memo_key = ("previous", user_id)
        if memo_key not in self._memo:
            self._memo[memo_key] = (
                self._others()
                .filter(Q(origin_user_id=user_id) | Q(destination_user_id=user_id))
                .filter(timestamp__lt=self.now)
                .aggregate(last=Max("timestamp"))["last"]
            )
        return self._memo[memo_key]

    def received_base(self, user_id: int, seconds: int) -> Decimal:
        """Base-currency total the user received in the window, this transaction excluded."""
        memo_key = ("received", user_id, seconds)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._others().filter(
                destination_user_id=user_id,
                timestamp__gt=self.now - timedelta(seconds=seconds),
                timestamp__lte=self.now,
            ).aggregate(total=Sum("destination_amount_base"))["total"] or Decimal(0)
        return self._memo[memo_key]

    def sent_before(self, user_id: int) -> bool:
        """Whether the user sent (was the origin of) a transaction before this one: an earlier
        timestamp, or the same timestamp and stored earlier (an unsaved transaction is stored
        after every one there is). One indexed probe on (origin_user, timestamp)."""
        memo_key = ("sent_before", user_id)
        self.prefetch([memo_key])
        return self._memo[memo_key]

    def ip_country(self, direction: str) -> str | None:
        """The country of the device's IP address (originDeviceData / destinationDeviceData
        `ipAddress`) from the IP ranges table; None when absent or in no known range."""
        memo_key = ("ip_country", direction)
        self.prefetch([memo_key])
        return self._memo[memo_key]

    def _ip_need(self, direction: str) -> _Need | None:
        """rules.iplookup.country_of's lookup (the range with the greatest start at or below the
        address, if its end is at or above it), read with the other aggregates."""
        from rules import iplookup
        from rules.models import IpCountryRange

        memo_key = ("ip_country", direction)
        address = self.device(direction).get("ipAddress")
        try:
            key = iplookup.address_key(address) if address else None
        except ValueError:
            key = None
        if key is None:
            self._memo[memo_key] = None
            return None
        q = connection.ops.quote_name
        table = q(IpCountryRange._meta.db_table)
        start, end, country = (
            q(IpCountryRange._meta.get_field(name).column) for name in ("start", "end", "country")
        )
        nearest = f"SELECT {end}, {country} FROM {table} WHERE {start} <= %s ORDER BY {start} DESC LIMIT 1"  # noqa: S608
        return _Need(
            memo_key,
            memo_key,
            None,
            [(f"SELECT MAX({end}), MAX({country}) FROM ({nearest}) AS nearest", [key])],  # noqa: S608
            lambda values: values[1] if values[0] is not None and values[0] >= key else None,
            values=2,
        )

    def user_country(self, direction: str) -> str | None:
        """The user's country of residence (an organisation without one: its country of
        incorporation), alpha-2; None without a user or a country."""
        memo_key = ("user_country", direction)
        if memo_key not in self._memo:
            from compliance.reference.models import Country

            user = self.user(direction)
            country_id = None
            if user is not None:
                country_id = user.country_residence_id or user.country_incorporation_id
            country = countries_by_id().get(country_id)
            if country is not None:
                self._memo[memo_key] = country.alpha2
            else:  # none, or not an active country
                self._memo[memo_key] = (
                    Country.objects.filter(pk=country_id).values_list("alpha2", flat=True).first()
                    if country_id
                    else None
                )
        return self._memo[memo_key]
