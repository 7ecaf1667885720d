"""Ad-hoc screening search (issue 6 point 9): an analyst or an integrator asks who a name matches.

`screening_search` is what `POST /api/screening/search` and the admin's "Screening search"
page both call. It runs `search.search()` and records the search in the audit trail
(action "screening.searched", with the query and how many candidates it answered): a
regulator may ask who searched whom. The audit row's id is the search's id.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError
from users.models.screening import EntrySchema, SourceKind
from users.screening.normalise import AIRCRAFT, ANY, ORGANIZATION, PERSON, VESSEL, prepare
from users.screening.search import Candidate, search

SEARCHED = "screening.searched"
MAX_NAME_LENGTH = 500
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
# Entity type of a search (the entry schemas, less UNKNOWN) -> the matcher's schema.
ENTITY_TYPES = {
    EntrySchema.PERSON: PERSON,
    EntrySchema.ORGANISATION: ORGANIZATION,
    EntrySchema.VESSEL: VESSEL,
    EntrySchema.AIRCRAFT: AIRCRAFT,
}
# How many of the best entry ids the audit row keeps: enough to say who was found.
AUDITED_ENTRIES = 20
BIRTH_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    search_id: int
    name: str
    candidates: list[Candidate]


def _checked_birth_date(value: str | None) -> str | None:
    """A full or partial date of birth (lists publish "1970" and "1970-05"), checked to be real."""
    if value in (None, ""):
        return None
    found = BIRTH_DATE.fullmatch(str(value))
    if not found:
        raise ApplicationError(errors={"birthDate": "Expected YYYY, YYYY-MM or YYYY-MM-DD."})
    year, month, day = (int(part) if part else None for part in found.groups())
    try:
        datetime.date(year, month or 1, day or 1)
    except ValueError:
        raise ApplicationError(errors={"birthDate": f"{value} is not a calendar date."}) from None
    return str(value)


def screening_search(
    *,
    actor: Actor,
    name: str,
    entity_type: str | None = None,
    birth_date: str | None = None,
    countries: Iterable[str] = (),
    source_kinds: Iterable[str] | None = None,
    min_score: float | None = None,
    limit: int = DEFAULT_LIMIT,
) -> SearchOutcome:
    """Screen one name against the active watchlists, best candidates first, and audit the search.

    `entity_type` is an entry schema (PERSON, ORGANISATION, VESSEL, AIRCRAFT) or None for any;
    `countries` ISO alpha-2 codes; `min_score` None answers hits only (each against its source
    kind's threshold), a number every candidate scoring at least that. Bad input raises
    `ApplicationError` naming the API property.
    """
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "This field may not be blank."
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = f"At most {MAX_NAME_LENGTH} characters."
    elif "\x00" in name:
        errors["name"] = "Null characters are not allowed."
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        errors["entityType"] = f"Expected one of {', '.join(ENTITY_TYPES)}."
    kinds = None if source_kinds is None else sorted(set(source_kinds))
    if kinds is not None and (not kinds or set(kinds) - set(SourceKind.values)):
        errors["sourceKinds"] = f"Expected a non-empty list of {', '.join(SourceKind.values)}."
    if min_score is not None and not 0 <= min_score <= 100:
        errors["minScore"] = "Expected a number from 0 to 100."
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"Expected an integer from 1 to {MAX_LIMIT}."
    try:
        birth_date = _checked_birth_date(birth_date)
    except ApplicationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ApplicationError(errors=errors)
    schema = ENTITY_TYPES[entity_type] if entity_type else ANY
    prepared = prepare(name, schema=schema)
    if not prepared:
        raise ApplicationError(errors={"name": "The name has no word to search for."})
    countries = sorted({c.upper() for c in countries})
    candidates = search(
        prepared,
        schema=schema,
        birth_date=birth_date,
        countries=countries or None,
        source_kinds=kinds,
        min_score=min_score,
        limit=limit,
    )
    query = {
        "name": name,
        "entityType": entity_type,
        "birthDate": birth_date,
        "countries": countries,
        "sourceKinds": kinds,
        "minScore": min_score,
        "limit": limit,
    }
    with transaction.atomic():
        audit = audit_log(
            actor=actor,
            action=SEARCHED,
            object_type="users.watchlistentry",
            object_repr=name[:200],
            after={
                "query": query,
                "candidates": len(candidates),
                "hits": sum(c.is_hit for c in candidates),
                "entries": [{"id": c.entry.pk, "score": c.score} for c in candidates[:AUDITED_ENTRIES]],
            },
        )
    return SearchOutcome(search_id=audit.pk, name=name, candidates=candidates)
