"""Screening one name against the watchlists: retrieval by key, then the full matcher.

`search()` is what customer screening, ongoing screening, transaction screening and the
ad-hoc search endpoint all call. It answers candidates best first, each with the entry, the
matcher's explained result and the hit threshold of the entry's source kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from rapidfuzz.distance import JaroWinkler

from users.models.screening import EntrySchema, NameKind, WatchlistEntry
from users.screening import index
from users.screening.matching import (
    ALIAS,
    PRIMARY,
    WEAK_ALIAS,
    CandidateName,
    MatchResult,
    score,
    threshold_for,
)
from users.screening.normalise import AIRCRAFT, ANY, ORGANIZATION, PERSON, VESSEL, PreparedName, prepare

# Entry schema (model) -> matcher schema.
MATCHER_SCHEMA = {
    EntrySchema.PERSON: PERSON,
    EntrySchema.ORGANISATION: ORGANIZATION,
    EntrySchema.VESSEL: VESSEL,
    EntrySchema.AIRCRAFT: AIRCRAFT,
    EntrySchema.UNKNOWN: ANY,
}
NAME_KIND = {NameKind.PRIMARY: PRIMARY, NameKind.STRONG_ALIAS: ALIAS, NameKind.WEAK_ALIAS: WEAK_ALIAS}
# A query of one kind never matches an entry of an incompatible kind (a person is not a ship).
COMPATIBLE = {
    PERSON: {EntrySchema.PERSON, EntrySchema.UNKNOWN},
    ORGANIZATION: {EntrySchema.ORGANISATION, EntrySchema.UNKNOWN},
    VESSEL: {EntrySchema.VESSEL, EntrySchema.UNKNOWN},
    AIRCRAFT: {EntrySchema.AIRCRAFT, EntrySchema.UNKNOWN},
}
ENTRY_FIELDS = (
    "id",
    "source_id",
    "external_id",
    "schema",
    "name",
    "birth_dates",
    "nationalities",
    "countries",
    "programmes",
    "md5",
    "source__code",
    "source__name",
    "source__kind",
)


# Entries scored with the full matcher per search, the best by `quick_score` of those retrieved.
SCORE_LIMIT = 20
TYPO_SIMILARITY = 0.88


def quick_score(query: PreparedName, candidate: list[list]) -> float:
    """A cheap 0-1 estimate of the matcher's score, to choose which retrieved names to score.

    `candidate` is a stored name's token list (`index.dump`: text, canonical, skeleton,
    phonetic, abjad, weight), read without building tokens. Each query word counts its weight
    when the candidate has the same word (or nickname), 90% for the same consonant skeleton,
    80% for an initial agreeing with a word or a word within one typo (Jaro-Winkler >= 0.88);
    divided by the heavier side's total weight, so extra words on the candidate ("Nancy Jane
    Smith" for "Nancy Smith") rank it lower.
    """
    texts = {t[0] for t in candidate} | {t[1] for t in candidate}
    skeletons = {t[2] for t in candidate if len(t[2]) >= 2}
    firsts = {t[0][0] for t in candidate if t[0]}
    initials = {t[0] for t in candidate if len(t[0]) == 1}
    found = 0.0
    for token in query.tokens:
        if token.text in texts or token.canonical in texts:
            found += token.weight
        elif token.is_initial:
            found += 0.8 * token.weight if token.text in firsts else 0.0
        elif len(token.skeleton) >= 2 and token.skeleton in skeletons:
            found += 0.9 * token.weight
        elif token.text[0] in initials or any(
            JaroWinkler.normalized_similarity(token.text, t[0]) >= TYPO_SIMILARITY for t in candidate
        ):
            found += 0.8 * token.weight
    total = max(sum(t.weight for t in query.tokens), sum(t[5] for t in candidate))
    return found / total if total else 0.0


@dataclass(slots=True)
class Candidate:
    entry: WatchlistEntry
    result: MatchResult
    threshold: float

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def is_hit(self) -> bool:
        return self.result.score >= self.threshold


def _uncapped(result: MatchResult) -> float:
    return result.name_score + sum(delta for reason, delta in result.adjustments if reason != "weak alias")


def search(
    name: str | PreparedName,
    *,
    schema: str = ANY,
    birth_date=None,
    countries: Iterable[str] | str | None = None,
    source_kinds: Iterable[str] | None = None,
    source_ids: Iterable[int] | None = None,
    min_score: float | None = None,
    limit: int = 10,
    retrieve_limit: int = index.DEFAULT_LIMIT,
    score_limit: int = SCORE_LIMIT,
) -> list[Candidate]:
    """Candidates for one name, best first.

    `min_score` None answers hits only (each against its source kind's threshold); a number
    answers every candidate scoring at least that (0: the whole ranked retrieval). `schema`
    is the matcher's (Person, Organization, Vessel, Aircraft, Any).
    """
    prepared = name if isinstance(name, PreparedName) else prepare(name, schema=schema)
    if not prepared:
        return []
    years = index.birth_years([birth_date]) if birth_date else set()
    ranked = index.ranked_sql(index.WATCHLIST, prepared, limit=retrieve_limit, years=years)
    if ranked is None:
        return []
    sql, params = ranked
    where = ["e.removed_at IS NULL", "s.active"]
    if source_kinds is not None:
        kinds = list(source_kinds)
        where.append(f"s.kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else "FALSE")
        params += kinds
    if source_ids is not None:
        ids = list(source_ids)
        where.append(f"e.source_id IN ({', '.join(['%s'] * len(ids))})" if ids else "FALSE")
        params += ids
    if prepared.schema in COMPATIBLE:
        schemas = sorted(COMPATIBLE[prepared.schema])
        where.append(f"e.schema IN ({', '.join(['%s'] * len(schemas))})")
        params += schemas
    # One round trip: the ranked names, their rows and the filters on their entries.
    sql = (
        f"SELECT n.id, n.entry_id, n.name, n.kind, n.prepared, e.birth_dates FROM ({sql}) r "  # noqa: S608
        "JOIN users_watchlistname n ON n.id = r.name_id "
        "JOIN users_watchlistentry e ON e.id = n.entry_id "
        "JOIN users_watchlistsource s ON s.id = e.source_id "
        f"WHERE {' AND '.join(where)} ORDER BY r.weight DESC, n.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    stored_names: dict[int, list[tuple[str, str, dict]]] = {}
    quick: dict[int, tuple[float, int, int]] = {}
    wanted_dob = str(birth_date)[:10] if birth_date else None
    for position, (_name_id, entry_id, text, kind, stored, dobs) in enumerate(rows):
        if isinstance(stored, str):  # SQLite answers JSON as text
            stored, dobs = json.loads(stored), json.loads(dobs)
        stored_names.setdefault(entry_id, []).append((text, kind, stored))
        # best quick estimate first, then the same date of birth, then retrieval's rank
        same_day = -1 if wanted_dob and len(wanted_dob) == 10 and wanted_dob in dobs else 0
        mine = (-quick_score(prepared, stored.get("t", ())), same_day, position)
        quick[entry_id] = min(quick.get(entry_id, mine), mine)
    if not stored_names:
        return []
    # Never fewer scored than asked for (an ad-hoc search may want 100 candidates).
    kept = sorted(stored_names, key=quick.__getitem__)[: max(score_limit, limit)]
    by_entry = {
        entry_id: [
            CandidateName(index.load(text, stored), NAME_KIND[kind])
            for text, kind, stored in stored_names[entry_id]
        ]
        for entry_id in kept
    }
    entries = (
        WatchlistEntry.objects.filter(pk__in=list(by_entry)).select_related("source").only(*ENTRY_FIELDS)
    )
    found: list[Candidate] = []
    for entry in entries:
        result = score(
            prepared,
            by_entry[entry.pk],
            query_dob=birth_date,
            candidate_dobs=entry.birth_dates,
            query_country=countries,
            candidate_countries=[*entry.nationalities, *entry.countries],
        )
        threshold = threshold_for(entry.source.kind)
        if result.score >= (threshold if min_score is None else min_score):
            found.append(Candidate(entry, result, threshold))
    # Scores are capped at 100: among equals, the one whose date of birth agrees to the day
    # (a higher uncapped total) comes first.
    found.sort(key=lambda c: (-c.result.score, -_uncapped(c.result), c.entry.pk))
    return found[:limit]
