"""Candidate retrieval: blocking keys in the database, so a name is scored against dozens of
candidates instead of a whole list.

Every word of every indexed name gets two keys: its consonant skeleton (`s:mhmd`, which
absorbs vowel spellings and transliteration variants) and its phonetic key (`p:MHMT`, with a
leading vowel folded to `A`, which absorbs many typos). Initials and particles (al, bin, van)
get none. A query's words get the same keys plus keys for adjacent words joined ("Abdul
Rahman" finds "Abdulrahman") and for a leading "al" dropped.

Retrieval reads the query's keys, rarest first (document frequencies in a stats table),
sums their inverse document frequency per indexed name in SQL, and answers the best-ranked
names; `users.screening.search` then scores those with the full matcher. Keys whose lists
would exceed the posting budget are skipped, so a name made of one rare word and one very
common one ("Mohammed Ghalibaf") reads the rare word's postings only, while a name made of
common words only still reads its rarest two keys.

The same machinery indexes watchlist names (screening a customer) and customers' names
(ongoing screening: a changed list entry against all customers): `WATCHLIST` and `CUSTOMERS`.
The SQL is plain (a VALUES join and GROUP BY) and runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.models import Count

from users.models.screening import (
    CustomerKeyStat,
    CustomerName,
    CustomerNameKey,
    WatchlistKeyStat,
    WatchlistName,
    WatchlistNameKey,
)
from users.screening.normalise import PreparedName, Token, metaphone, skeleton

# Posting lists read per query at most (beyond the rarest two keys, always read).
POSTING_BUDGET = 60_000
# Names answered per retrieval (before full scoring).
DEFAULT_LIMIT = 80
MIN_KEY_WEIGHT = 0.5
# Rows per INSERT of keys and of stats (two parameters each: under PostgreSQL's 65,535
# parameters and SQLite's 32,766 variables per statement).
KEY_BATCH = 15_000


@dataclass(frozen=True)
class NameIndex:
    name_model: type[models.Model]
    key_model: type[models.Model]
    stat_model: type[models.Model]
    owner_field: str  # the FK of the name row to what it names (entry, customer)

    @property
    def key_table(self) -> str:
        return self.key_model._meta.db_table

    @property
    def stat_table(self) -> str:
        return self.stat_model._meta.db_table


WATCHLIST = NameIndex(WatchlistName, WatchlistNameKey, WatchlistKeyStat, "entry")
CUSTOMERS = NameIndex(CustomerName, CustomerNameKey, CustomerKeyStat, "customer")


# --- prepared names as stored --------------------------------------------------------------


def dump(prepared: PreparedName) -> dict:
    """A prepared name as JSON, so retrieval does not re-run transliteration per candidate."""
    return {
        "s": prepared.schema,
        "o": prepared.org_type,
        "t": [[t.text, t.canonical, t.skeleton, t.phonetic, int(t.abjad), t.weight] for t in prepared.tokens],
    }


def load(original: str, data: dict) -> PreparedName:
    tokens = tuple(
        Token(text=t[0], canonical=t[1], skeleton=t[2], phonetic=t[3], abjad=bool(t[4]), weight=t[5])
        for t in data.get("t", ())
    )
    return PreparedName(original=original, schema=data.get("s", "Any"), tokens=tokens, org_type=data.get("o"))


# --- keys ----------------------------------------------------------------------------------


def _word_keys(word: str, skel: str | None = None, phon: str | None = None) -> set[str]:
    skel = skeleton(word) if skel is None else skel
    phon = (metaphone(word) if word.isalpha() else word) if phon is None else phon
    keys = {f"s:{skel}" if len(skel) >= 2 else f"t:{word}"}
    if phon:
        if phon[0] in "AEIOU":
            phon = "A" + phon[1:]
        keys.add(f"p:{phon}"[:60])
    return {key[:60] for key in keys}


def _indexed(token: Token) -> bool:
    return not token.is_initial and token.weight >= MIN_KEY_WEIGHT


def name_keys(prepared: PreparedName) -> set[str]:
    """The keys an indexed name is stored under."""
    keys: set[str] = set()
    for token in prepared.tokens:
        if not _indexed(token):
            continue
        word = token.canonical
        keys |= _word_keys(word) if word != token.text else _word_keys(word, token.skeleton, token.phonetic)
        if word.startswith("al") and len(word) > 4:
            keys |= _word_keys(word[2:])
    return keys


def query_keys(prepared: PreparedName) -> set[str]:
    """The keys a query looks up: its words' keys, adjacent words joined, a nickname's own form."""
    keys = name_keys(prepared)
    tokens = prepared.tokens
    for token in tokens:
        if _indexed(token) and token.canonical != token.text:
            keys |= _word_keys(token.text)
    for left, right in itertools.pairwise(tokens):
        if not (left.is_initial or right.is_initial):
            keys |= _word_keys(left.text + right.text)
    return keys


# --- writing -------------------------------------------------------------------------------


def add_names(index: NameIndex, names: Sequence[models.Model], prepared: Sequence[PreparedName]) -> None:
    """Store the keys of saved name rows (their `prepared` already set) and count them in."""
    rows = []
    counts: dict[str, int] = {}
    for name, prep in zip(names, prepared, strict=True):
        for key in name_keys(prep):
            rows.append(index.key_model(key=key, name_id=name.pk))
            counts[key] = counts.get(key, 0) + 1
    index.key_model.objects.bulk_create(rows, batch_size=KEY_BATCH)
    _adjust_stats(index, counts, +1)


def remove_names(index: NameIndex, names: models.QuerySet) -> None:
    """Drop the keys of the name rows `names` selects (before the rows are deleted, or when
    their owner leaves the list) and count them out: two statements whatever the number."""
    keys = index.key_model.objects.filter(name__in=names.values("pk"))
    counts = dict(keys.order_by().values_list("key").annotate(n=Count("name_id")).values_list("key", "n"))
    if counts:
        keys._raw_delete(keys.db)  # no signals or cascades hang off key rows
        _adjust_stats(index, counts, -1)


def _adjust_stats(index: NameIndex, counts: dict[str, int], sign: int) -> None:
    if not counts:
        return
    table = connection.ops.quote_name(index.stat_table)
    items = sorted(counts.items())
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(items), KEY_BATCH):
            chunk = items[start : start + KEY_BATCH]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            params = [p for key, n in chunk for p in (key, sign * n)]
            cursor.execute(
                f"INSERT INTO {table} (key, names) VALUES {values} "  # noqa: S608 (table names are ours)
                f"ON CONFLICT (key) DO UPDATE SET names = {table}.names + excluded.names",
                params,
            )
        if sign < 0:
            cursor.execute(f"DELETE FROM {table} WHERE names <= 0")  # noqa: S608


def rebuild_stats(index: NameIndex) -> None:
    """Recount every key from the key table (after a bulk load that bypassed `add_names`)."""
    table = connection.ops.quote_name(index.stat_table)
    keys = connection.ops.quote_name(index.key_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} (key, names) SELECT key, COUNT(*) FROM {keys} GROUP BY key"  # noqa: S608
        )


# --- reading -------------------------------------------------------------------------------


def plan(index: NameIndex, keys: set[str]) -> list[tuple[str, float]]:
    """The keys to read, rarest first, with their weights (inverse document frequency)."""
    if not keys:
        return []
    stats = dict(index.stat_model.objects.filter(key__in=keys).values_list("key", "names"))
    total = max(sum(stats.values()), 1)
    chosen: list[tuple[str, float]] = []
    read = 0
    for key, df in sorted(stats.items(), key=lambda item: item[1]):
        if len(chosen) >= 2 and read + df > POSTING_BUDGET:
            break
        chosen.append((key, math.log(1 + total / df)))
        read += df
    return chosen


def retrieve(index: NameIndex, prepared: PreparedName, *, limit: int = DEFAULT_LIMIT) -> list[int]:
    """Ids of the indexed names sharing the most (weighted) keys with `prepared`, best first."""
    chosen = plan(index, query_keys(prepared))
    if not chosen:
        return []
    keys = connection.ops.quote_name(index.key_table)
    values = ", ".join(["(%s, %s)"] * len(chosen))
    params: list = [p for key, weight in chosen for p in (key, weight)]
    sql = (
        f"WITH q(key, weight) AS (VALUES {values}) "  # noqa: S608 (table names are ours)
        f"SELECT k.name_id FROM {keys} k JOIN q ON q.key = k.key "
        f"GROUP BY k.name_id ORDER BY SUM(q.weight) DESC, k.name_id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [row[0] for row in cursor.fetchall()]
