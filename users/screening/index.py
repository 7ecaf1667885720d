"""Candidate retrieval: blocking keys in the database, so a name is scored against dozens of
candidates instead of a whole list.

Keys of an indexed name (a watchlist entry's, or a customer's):
- `s:` each word's consonant skeleton (`s:mhmd`: vowel spellings, transliteration variants);
- `p:` each word's phonetic key (`p:MHMT`, a leading vowel folded to `A`: many typos);
- `i:` the first word's initial with the last word's skeleton and the other way round
  (`i:mhrs`: "M. Harris" finds Mary Harris among thousands of Harrises);
- `y:` each word with a year of birth (`y:1970:smth`: a query with a date of birth reads the
  few Nancy Smiths born that year first).
Initials and particles (al, bin, van) are not keys of their own. A query also looks up its
adjacent words joined ("Abdul Rahman" finds "Abdulrahman"), a nickname's own form, an
initial with each other word; and, for a word no list knows, the skeletons of its one-typo
variants ("Teicdhoro" finds "Teichoro").

Retrieval (`plan`, `ranked_sql`): the query's keys, looked up in the stats table (how many
names carry each), are read rarest first until `POSTING_BUDGET` postings (the rarest two
always); each counts its inverse document frequency, summed per name in SQL, and the best
`DEFAULT_LIMIT` names are answered. A name of one rare word and common ones ("Mohammed
Ghalibaf") reads the rare word's postings only. `users.screening.search` then estimates each
retrieved name cheaply and scores the best few with the full matcher.

The same machinery indexes watchlist names (screening a customer) and customers' names
(ongoing screening: a changed list entry against all customers): `WATCHLIST` and `CUSTOMERS`.
The SQL is plain (a VALUES join and GROUP BY) and runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
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
POSTING_BUDGET = 20_000
# Names answered per retrieval (`search` then scores the best few by a quick estimate).
DEFAULT_LIMIT = 300
MIN_KEY_WEIGHT = 0.5
# Keys of a query word's one-typo variants count this much of an exact key.
TYPO_FACTOR = 0.7
TYPO_MIN_LENGTH = 5
TYPO_MIN_SKELETON = 3
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


def _initial_keys(first: Token, last: Token) -> set[str]:
    """ "M. Harris" finds Mary Harris among thousands of Harrises: an initial with the other
    word's skeleton, both ways round."""
    keys = set()
    if len(last.skeleton) >= 2:
        keys.add(f"i:{first.text[0]}{last.skeleton}"[:60])
    if len(first.skeleton) >= 2:
        keys.add(f"i:{last.text[0]}{first.skeleton}"[:60])
    return keys


def name_keys(prepared: PreparedName) -> set[str]:
    """The keys an indexed name is stored under."""
    keys: set[str] = set()
    words = [t for t in prepared.tokens if _indexed(t)]
    if len(words) >= 2:
        keys |= _initial_keys(words[0], words[-1])
    for token in prepared.tokens:
        if not _indexed(token):
            continue
        word = token.canonical
        keys |= _word_keys(word) if word != token.text else _word_keys(word, token.skeleton, token.phonetic)
        if word.startswith("al") and len(word) > 4:
            keys |= _word_keys(word[2:])
    return keys


def birth_years(values: Iterable) -> set[int]:
    """Years of dates of birth given as dates or YYYY[-MM[-DD]] strings (others ignored)."""
    years = set()
    for value in values or ():
        year = getattr(value, "year", None)
        if year is None:
            text = str(value)[:4]
            year = int(text) if text.isdigit() else None
        if year:
            years.add(year)
    return years


def year_keys(prepared: PreparedName, years: Iterable[int]) -> set[str]:
    """A word with a year of birth ("y:1970:smth"): among the thousands of Nancy Smiths of a
    large list, a query with a date of birth reads the few born that year first."""
    return {
        f"y:{year}:{token.skeleton}"[:60]
        for token in prepared.tokens
        if _indexed(token) and len(token.skeleton) >= 2
        for year in years
    }


def query_keys(prepared: PreparedName) -> set[str]:
    """The keys a query looks up: its words' keys, adjacent words joined, a nickname's own
    form, an initial with each other word."""
    keys = name_keys(prepared)
    tokens = prepared.tokens
    initials = [t for t in tokens if t.is_initial and t.text.isalpha()]
    words = [t for t in tokens if _indexed(t)]
    for initial in initials:
        for word in words:
            keys |= _initial_keys(initial, word)
    for token in words:
        if token.canonical != token.text:
            keys |= _word_keys(token.text)
    return keys | joined_keys(prepared)


def joined_keys(prepared: PreparedName) -> set[str]:
    """Keys of adjacent words written as one ("Abdul Rahman" -> abdulrahman)."""
    keys: set[str] = set()
    for left, right in itertools.pairwise(prepared.tokens):
        if not (left.is_initial or right.is_initial):
            keys |= _word_keys(left.text + right.text)
    return keys


def typo_keys(token: Token) -> set[str]:
    """Skeletons of the word with one letter deleted or two adjacent letters swapped."""
    word = token.text
    variants = {word[:i] + word[i + 1 :] for i in range(len(word))}
    variants |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    keys = set()
    for variant in variants:
        skel = skeleton(variant)
        if len(skel) >= TYPO_MIN_SKELETON:
            keys.add(f"s:{skel}"[:60])
    return keys


# --- writing -------------------------------------------------------------------------------


def add_names(
    index: NameIndex,
    names: Sequence[models.Model],
    prepared: Sequence[PreparedName],
    birth_dates: Sequence[Iterable] | None = None,
    *,
    joined: bool = False,
    counts: dict[str, int] | None = None,
) -> None:
    """Store the keys of saved name rows (their `prepared` already set) and count them in.
    `birth_dates`, one list per name, adds the year keys (`year_keys`); `joined` the keys of
    adjacent words joined (customers' names: an entry "Abdulrahman" then finds the customer
    "Abdul Rahman" in ongoing screening, as customer screening finds the entry).

    With `counts`, the stats changes are added to it for one `apply_counts` later (see there)."""
    rows = []
    delta: dict[str, int] = {} if counts is None else counts
    for position, (name, prep) in enumerate(zip(names, prepared, strict=True)):
        keys = name_keys(prep) | (joined_keys(prep) if joined else set())
        if birth_dates is not None:
            keys |= year_keys(prep, birth_years(birth_dates[position]))
        for key in keys:
            rows.append(index.key_model(key=key, name_id=name.pk))
            delta[key] = delta.get(key, 0) + 1
    index.key_model.objects.bulk_create(rows, batch_size=KEY_BATCH)
    if counts is None:
        apply_counts(index, delta)


def remove_names(index: NameIndex, names: models.QuerySet, *, counts: dict[str, int] | None = None) -> None:
    """Drop the keys of the name rows `names` selects (before the rows are deleted, or when
    their owner leaves the list) and count them out: two statements whatever the number.
    With `counts`, the stats changes are added to it for one `apply_counts` later."""
    keys = index.key_model.objects.filter(name__in=names.values("pk"))
    found = dict(keys.order_by().values_list("key").annotate(n=Count("name_id")).values_list("key", "n"))
    if not found:
        return
    keys._raw_delete(keys.db)  # no signals or cascades hang off key rows
    delta: dict[str, int] = {} if counts is None else counts
    for key, n in found.items():
        delta[key] = delta.get(key, 0) - n
    if counts is None:
        apply_counts(index, delta)


def apply_counts(index: NameIndex, counts: dict[str, int]) -> None:
    """Add signed per-key changes to the stats table, in key order.

    Stat rows stay locked until the transaction commits: writing them once, in one order,
    for a whole import or re-indexing (callers pass `counts` to `add_names` /
    `remove_names` and apply it at the end) keeps two concurrent writers from deadlocking.
    Only keys whose count went down are checked for zero (not the whole table)."""
    items = sorted((key, n) for key, n in counts.items() if n)
    if not items:
        return
    table = connection.ops.quote_name(index.stat_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(items), KEY_BATCH):
            chunk = items[start : start + KEY_BATCH]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (key, names) VALUES {values} "  # noqa: S608 (table names are ours)
                f"ON CONFLICT (key) DO UPDATE SET names = {table}.names + excluded.names",
                [p for pair in chunk for p in pair],
            )
        fallen = [key for key, n in items if n < 0]
        for start in range(0, len(fallen), KEY_BATCH):
            chunk = fallen[start : start + KEY_BATCH]
            cursor.execute(
                f"DELETE FROM {table} WHERE names <= 0 AND key IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
                chunk,
            )


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


def _stats(index: NameIndex, keys: set[str]) -> dict[str, int]:
    if not keys:
        return {}
    table = connection.ops.quote_name(index.stat_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, names FROM {table} WHERE key IN ({', '.join(['%s'] * len(keys))})",  # noqa: S608
            list(keys),
        )
        return {key: df for key, df in cursor.fetchall() if df > 0}


def plan(index: NameIndex, prepared: PreparedName, *, years: Iterable[int] = ()) -> list[tuple[str, float]]:
    """The keys to read, rarest first, with their weights (inverse document frequency; a
    typo variant's times `TYPO_FACTOR`).

    A word none of whose own keys is indexed (a typo in the one rare word of a name:
    "Teicdhoro Anderson") is looked up again by its one-typo variants, so the common words
    are not all that is left to retrieve by. Known words get no variants: their postings would
    be mostly noise.
    """
    stats = _stats(index, query_keys(prepared) | year_keys(prepared, years))
    factors = dict.fromkeys(stats, 1.0)
    unknown = [
        token
        for token in prepared.tokens
        if _indexed(token)
        and len(token.text) >= TYPO_MIN_LENGTH
        and token.text.isalpha()
        and not (_word_keys(token.text) | _word_keys(token.canonical)) & stats.keys()
    ]
    if unknown:
        variants = set().union(*(typo_keys(token) for token in unknown)) - stats.keys()
        found = _stats(index, variants)
        stats.update(found)
        factors.update(dict.fromkeys(found, TYPO_FACTOR))
    total = max(sum(stats.values()), 1)
    chosen: list[tuple[str, float]] = []
    read = 0
    for key, df in sorted(stats.items(), key=lambda item: item[1]):
        if len(chosen) >= 2 and read + df > POSTING_BUDGET:
            break
        chosen.append((key, factors[key] * math.log(1 + total / df)))
        read += df
    return chosen


def ranked_sql(
    index: NameIndex, prepared: PreparedName, *, limit: int, years: Iterable[int] = ()
) -> tuple[str, list] | None:
    """SQL answering (name_id, weight) of the `limit` indexed names sharing the most weighted
    keys with `prepared`, and its parameters; None when no key of the query is indexed.
    Callers join it to the name rows they need (`search` does, in one round trip)."""
    chosen = plan(index, prepared, years=years)
    if not chosen:
        return None
    keys = connection.ops.quote_name(index.key_table)
    values = ", ".join(["(%s, %s)"] * len(chosen))
    params: list = [p for key, weight in chosen for p in (key, weight)]
    sql = (
        f"WITH q(key, weight) AS (VALUES {values}) "  # noqa: S608 (table names are ours)
        f"SELECT k.name_id AS name_id, SUM(q.weight) AS weight FROM {keys} k JOIN q ON q.key = k.key "
        f"GROUP BY k.name_id ORDER BY SUM(q.weight) DESC, k.name_id LIMIT %s"
    )
    return sql, [*params, limit]


def retrieve(
    index: NameIndex, prepared: PreparedName, *, limit: int = DEFAULT_LIMIT, years: Iterable[int] = ()
) -> list[int]:
    """Ids of the indexed names sharing the most (weighted) keys with `prepared`, best first."""
    ranked = ranked_sql(index, prepared, limit=limit, years=years)
    if ranked is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*ranked)
        return [row[0] for row in cursor.fetchall()]
