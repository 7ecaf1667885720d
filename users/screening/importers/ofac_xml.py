"""OFAC SDN list, XML (`sdn.xml`: sdnList/sdnEntry, with akaList, idList, programList...)."""

from __future__ import annotations

from collections.abc import Iterator

from users.screening.importers.base import (
    STRONG,
    WEAK,
    clean,
    country_code,
    element_dict,
    find_all,
    iter_elements,
    partial_date,
    record,
    text_of,
)

SCHEMAS = {"individual": "PERSON", "entity": "ORGANISATION", "vessel": "VESSEL", "aircraft": "AIRCRAFT"}


def full_name(element) -> str:
    """OFAC gives individuals as firstName + lastName; entities in lastName alone."""
    return clean(f"{text_of(element, 'firstName')} {text_of(element, 'lastName')}")


def parse(fileobj) -> Iterator[dict]:
    for entry in iter_elements(fileobj, {"sdnEntry"}, root="sdnList"):
        raw = element_dict(entry)
        aliases = [
            (full_name(aka), WEAK if text_of(aka, "category").lower() == "weak" else STRONG)
            for aka in find_all(entry, "akaList/aka")
        ]
        identifiers = [
            {
                "type": text_of(ident, "idType"),
                "value": text_of(ident, "idNumber"),
                "country": country_code(text_of(ident, "idCountry")),
            }
            for ident in find_all(entry, "idList/id")
        ]
        nationalities = [text_of(n, "country") for n in find_all(entry, "nationalityList/nationality")]
        nationalities += [text_of(c, "country") for c in find_all(entry, "citizenshipList/citizenship")]
        yield record(
            external_id=text_of(entry, "uid"),
            schema=SCHEMAS.get(text_of(entry, "sdnType").lower(), "UNKNOWN"),
            name=full_name(entry),
            aliases=aliases,
            birth_dates=[
                partial_date(text_of(item, "dateOfBirth"))
                for item in find_all(entry, "dateOfBirthList/dateOfBirthItem")
            ],
            birth_places=[
                text_of(item, "placeOfBirth") for item in find_all(entry, "placeOfBirthList/placeOfBirthItem")
            ],
            nationalities=[country_code(n) for n in nationalities],
            countries=[country_code(text_of(a, "country")) for a in find_all(entry, "addressList/address")],
            identifiers=identifiers,
            programmes=[clean(p.text) for p in find_all(entry, "programList/program")],
            raw=raw if isinstance(raw, dict) else {},
        )
