"""What a rule template sees of a transaction: its values, its users and their history.

Aggregates over stored transactions are computed on demand and memoised for the
evaluation, so ten instances asking for the same window cost one query. Windows end
at the transaction's own timestamp (not the wall clock), so a back-filled or
backtested transaction is judged against the history it had.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import Max, Q, Sum

from transactions import money
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


class EvaluationContext:
    """One transaction under evaluation (stored already, in the current database transaction)."""

    def __init__(self, transaction: Transaction, *, as_of=None):
        self.transaction = transaction
        self.now = as_of or transaction.timestamp
        self._memo: dict = {}

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
    def _scope(self, key: str):
        column, attribute = KEYS[key]
        value = getattr(self.transaction, attribute)
        if value in (None, ""):
            return None
        return Transaction.objects.filter(**{column: value})

    def _aggregate(
        self, key: str, seconds: int, select: str, extra: str = "", extra_params=()
    ) -> tuple | None:
        """One row of aggregates over the key's transactions in (now - seconds, now], in plain SQL
        on the (key, timestamp) indexes: the velocity rules run these on every transaction, and
        building the same statements through the ORM cost five times the queries themselves.
        None when the transaction has no value for the key (no user, no instrument).
        `select` and `extra` are SQL written in this module with quoted names; values are parameters."""
        column, attribute = KEYS[key]
        value = getattr(self.transaction, attribute)
        if value in (None, ""):
            return None
        ops = connection.ops
        q = ops.quote_name
        sql = (
            f"SELECT {select} FROM {q(Transaction._meta.db_table)} "  # noqa: S608
            f"WHERE {q(column)} = %s AND {q('timestamp')} > %s AND {q('timestamp')} <= %s{extra}"
        )
        params = [
            value,
            ops.adapt_datetimefield_value(self.now - timedelta(seconds=seconds)),
            ops.adapt_datetimefield_value(self.now),
            *extra_params,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def window(self, key: str, seconds: int, *, types: tuple[str, ...] = ()) -> Stats | None:
        """Count and base-currency sum of the key's transactions in (now - seconds, now], this
        one included. None when the transaction has no value for the key (no user, no instrument)."""
        memo_key = ("window", key, seconds, types)
        if memo_key not in self._memo:
            q = connection.ops.quote_name
            amount = q("origin_amount_base" if key.startswith("origin") else "destination_amount_base")
            extra = f" AND {q('type')} IN ({', '.join(['%s'] * len(types))})" if types else ""
            row = self._aggregate(key, seconds, f"COUNT(*), SUM({amount})", extra, types)
            self._memo[memo_key] = None if row is None else Stats(row[0], _decimal(row[1]))
        return self._memo[memo_key]

    def amounts(self, key: str, seconds: int) -> list[tuple[Decimal, str]] | None:
        """(amount, currency) of the key's transactions in the window, this one included."""
        memo_key = ("amounts", key, seconds)
        if memo_key not in self._memo:
            scope = self._scope(key)
            direction = "origin" if key.startswith("origin") else "destination"
            self._memo[memo_key] = (
                None
                if scope is None
                else list(
                    scope.filter(
                        timestamp__gt=self.now - timedelta(seconds=seconds), timestamp__lte=self.now
                    ).values_list(f"{direction}_amount", f"{direction}_currency")[:1000]
                )
            )
        return self._memo[memo_key]

    def distinct_counterparties(self, key: str, seconds: int) -> int | None:
        """Distinct counterparties (their user, else their payment instrument) the key dealt with
        in the window: fan-out for an origin key, fan-in for a destination key."""
        memo_key = ("distinct", key, seconds)
        if memo_key not in self._memo:
            q = connection.ops.quote_name
            other = "destination" if key.startswith("origin") else "origin"
            user, payment = q(f"{other}_user_id"), q(f"{other}_payment_identifier")
            party = (
                f"CASE WHEN {user} IS NOT NULL THEN 'u' || CAST({user} AS TEXT) "
                f"WHEN {payment} <> '' THEN 'p' || {payment} END"
            )
            row = self._aggregate(key, seconds, f"COUNT(DISTINCT {party})")
            self._memo[memo_key] = None if row is None else row[0]
        return self._memo[memo_key]

    def previous_activity(self, user_id: int) -> object | None:
        """When the user last sent or received a transaction before this one (None: never)."""
        memo_key = ("previous", user_id)
        if memo_key not in self._memo:
            self._memo[memo_key] = (
                Transaction.objects.filter(Q(origin_user_id=user_id) | Q(destination_user_id=user_id))
                .filter(timestamp__lt=self.now)
                .exclude(pk=self.transaction.pk)
                .aggregate(last=Max("timestamp"))["last"]
            )
        return self._memo[memo_key]

    def received_base(self, user_id: int, seconds: int) -> Decimal:
        """Base-currency total the user received in the window, this transaction excluded."""
        memo_key = ("received", user_id, seconds)
        if memo_key not in self._memo:
            self._memo[memo_key] = Transaction.objects.filter(
                destination_user_id=user_id,
                timestamp__gt=self.now - timedelta(seconds=seconds),
                timestamp__lte=self.now,
            ).exclude(pk=self.transaction.pk).aggregate(total=Sum("destination_amount_base"))[
                "total"
            ] or Decimal(0)
        return self._memo[memo_key]

    def sent_before(self, user_id: int) -> bool:
        """Whether the user sent (was the origin of) a transaction before this one: an earlier
        timestamp, or the same timestamp and stored earlier. One indexed EXISTS on
        (origin_user, timestamp)."""
        memo_key = ("sent_before", user_id)
        if memo_key not in self._memo:
            self._memo[memo_key] = (
                Transaction.objects.filter(origin_user_id=user_id, timestamp__lte=self.now)
                .filter(Q(timestamp__lt=self.now) | Q(pk__lt=self.transaction.pk))
                .exclude(pk=self.transaction.pk)
                .exists()
            )
        return self._memo[memo_key]

    def ip_country(self, direction: str) -> str | None:
        """The country of the device's IP address (originDeviceData / destinationDeviceData
        `ipAddress`) from the IP ranges table; None when absent or in no known range."""
        memo_key = ("ip_country", direction)
        if memo_key not in self._memo:
            from rules import iplookup

            self._memo[memo_key] = iplookup.country_of(self.device(direction).get("ipAddress"))
        return self._memo[memo_key]

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
            self._memo[memo_key] = (
                Country.objects.filter(pk=country_id).values_list("alpha2", flat=True).first()
                if country_id
                else None
            )
        return self._memo[memo_key]
