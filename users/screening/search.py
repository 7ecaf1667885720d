"""Screening one name against the watchlists: retrieval by key, then the full matcher.

`search()` is what customer screening, ongoing screening, transaction screening and the
ad-hoc search endpoint all call. It answers candidates best first, each with the entry, the
matcher's explained result and the hit threshold of the entry's source kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from users.models.screening import EntrySchema, NameKind, WatchlistEntry, WatchlistName
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
) -> list[Candidate]:
    """Candidates for one name, best first.

    `min_score` None answers hits only (each against its source kind's threshold); a number
    answers every candidate scoring at least that (0: the whole ranked retrieval). `schema`
    is the matcher's (Person, Organization, Vessel, Aircraft, Any).
    """
    prepared = name if isinstance(name, PreparedName) else prepare(name, schema=schema)
    if not prepared:
        return []
    name_ids = index.retrieve(index.WATCHLIST, prepared, limit=retrieve_limit)
    if not name_ids:
        return []
    names = WatchlistName.objects.filter(
        pk__in=name_ids, entry__removed_at__isnull=True, entry__source__active=True
    )
    if source_kinds is not None:
        names = names.filter(entry__source__kind__in=list(source_kinds))
    if source_ids is not None:
        names = names.filter(entry__source_id__in=list(source_ids))
    if prepared.schema in COMPATIBLE:
        names = names.filter(entry__schema__in=COMPATIBLE[prepared.schema])
    by_entry: dict[int, list[CandidateName]] = {}
    for entry_id, text, kind, stored in names.values_list("entry_id", "name", "kind", "prepared"):
        by_entry.setdefault(entry_id, []).append(CandidateName(index.load(text, stored), NAME_KIND[kind]))
    if not by_entry:
        return []
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
    found.sort(key=lambda c: (-c.result.score, c.entry.pk))
    return found[:limit]
