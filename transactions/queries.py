"""Queries of the verify path compiled once per process.

Every verified transaction asks the same few questions (is this transactionId stored, which
customers have these userIds), and the ORM compiled each afresh: several times the cost of
asking (issue 4 benchmark). Here a query is built by the ORM once, from a queryset whose only
parameters are placeholders standing for the values; its SQL is kept and run with the values
of each call. The compiled parameters must be exactly the placeholders, in order — otherwise
(a manager or lookup adding parameters of its own) nothing is kept and the ORM is used as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

_compiled: dict = {}


def _sql(key, build: Callable, count: int) -> tuple[str | None, type]:
    cache_key = (key, count, connection.vendor)
    if cache_key not in _compiled:
        placeholders = [f"\x01placeholder-{i}\x01" for i in range(count)]
        queryset = build(placeholders)
        sql, params = queryset.query.sql_with_params()
        _compiled[cache_key] = (sql if list(params) == placeholders else None, queryset.model)
    return _compiled[cache_key]


def rows(key, build: Callable, values: list) -> list:
    """Model instances of `build(values)`, run from its SQL compiled once (RawQuerySet)."""
    sql, model = _sql(key, build, len(values))
    if sql is None:
        return list(build(values))
    return list(model._default_manager.raw(sql, values))


def first_row(key, build: Callable, values: list) -> tuple | None:
    """The first row of tuples of `build(values)` (a `values_list` queryset), or None."""
    sql, _ = _sql(key, build, len(values))
    if sql is None:
        return next(iter(build(values)), None)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone()
