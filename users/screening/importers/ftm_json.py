"""OpenSanctions FollowTheMoney entities, one JSON object a line (`entities.ftm.json`).

Only the targets' schemata are read (Person, Organization, Company, LegalEntity, PublicBody,
Vessel, Airplane); the other lines of an export (Sanction, Address, Ownership...) are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from users.screening.importers.base import (
    STRONG,
    WEAK,
    ListFormatError,
    country_code,
    full_date,
    partial_date,
    record,
    text_stream,
)

SCHEMAS = {
    "Person": "PERSON",
    "Organization": "ORGANISATION",
    "Company": "ORGANISATION",
    "PublicBody": "ORGANISATION",
    "LegalEntity": "UNKNOWN",
    "Vessel": "VESSEL",
    "Airplane": "AIRCRAFT",
}
IDENTIFIER_PROPERTIES = {
    "idNumber": "ID number",
    "passportNumber": "Passport",
    "taxNumber": "Tax number",
    "registrationNumber": "Registration number",
    "imoNumber": "IMO",
    "innCode": "INN",
    "ogrnCode": "OGRN",
    "swiftBic": "SWIFT/BIC",
    "leiCode": "LEI",
}


def parse(fileobj) -> Iterator[dict]:
    for number, line in enumerate(text_stream(fileobj), start=1):
        if not line.strip():
            continue
        try:
            entity = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ListFormatError(
                f"Line {number} is not JSON: {exc}.", errors={"file": f"line {number}: {exc}"}
            ) from None
        if not isinstance(entity, dict) or "schema" not in entity or "id" not in entity:
            raise ListFormatError(
                f"Line {number} is not a FollowTheMoney entity (no id or schema).",
                errors={"file": f"line {number}: not an entity"},
            )
        if entity["schema"] not in SCHEMAS:
            continue
        yield entity_record(entity)


def entity_record(entity: dict) -> dict:
    """A FollowTheMoney entity (a dict) as a normalised record."""
    props = entity.get("properties") or {}

    def get(key: str) -> list[str]:
        return [str(v) for v in props.get(key) or []]

    names = get("name")
    primary = entity.get("caption") if entity.get("caption") in names else (names[0] if names else "")
    created = sorted(d for d in (full_date(v) for v in get("createdAt")) if d)
    return record(
        external_id=entity["id"],
        schema=SCHEMAS[entity["schema"]],
        name=primary or entity.get("caption") or "",
        aliases=[(n, STRONG) for n in names + get("alias") + get("previousName")]
        + [(n, WEAK) for n in get("weakAlias")],
        birth_dates=[partial_date(v) for v in get("birthDate")],
        birth_places=get("birthPlace"),
        nationalities=[country_code(v) for v in get("nationality") + get("citizenship")],
        countries=[country_code(v) for v in get("country") + get("jurisdiction") + get("flag")],
        identifiers=[
            {"type": label, "value": value, "country": ""}
            for key, label in IDENTIFIER_PROPERTIES.items()
            for value in get(key)
        ],
        programmes=get("topics") + get("programId") + get("program"),
        listed_on=created[0] if created else full_date(entity.get("first_seen")),
        raw=entity,
    )
