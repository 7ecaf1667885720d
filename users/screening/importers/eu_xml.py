"""EU consolidated list of persons, groups and entities subject to financial sanctions (FSF XML).

export/sanctionEntity, each with regulation, subjectType, nameAlias (wholeName, strong),
citizenship, birthdate, identification and address elements, facts held in attributes.
"""

from __future__ import annotations

from collections.abc import Iterator

from users.screening.importers.base import (
    STRONG,
    WEAK,
    clean,
    country_code,
    element_dict,
    find_all,
    full_date,
    iter_elements,
    partial_date,
    record,
)

SCHEMAS = {"person": "PERSON", "enterprise": "ORGANISATION"}


def _attr(element, name: str) -> str:
    return clean(element.get(name))


def _whole_name(alias) -> str:
    return _attr(alias, "wholeName") or clean(
        " ".join(_attr(alias, part) for part in ("firstName", "middleName", "lastName"))
    )


def _birth_date(item) -> str:
    if value := _attr(item, "birthdate"):
        return partial_date(value)
    year, month, day = (_attr(item, key) for key in ("year", "monthOfYear", "dayOfMonth"))
    return partial_date(
        "-".join(part for part in (year, month and month.zfill(2), day and day.zfill(2)) if part)
    )


def parse(fileobj) -> Iterator[dict]:
    for entity in iter_elements(fileobj, {"sanctionEntity"}, root="export"):
        subject = find_all(entity, "subjectType")
        schema = SCHEMAS.get(_attr(subject[0], "code").lower(), "UNKNOWN") if subject else "UNKNOWN"
        names = [
            (_whole_name(a), STRONG if _attr(a, "strong") != "false" else WEAK)
            for a in find_all(entity, "nameAlias")
        ]
        names = [(name, strength) for name, strength in names if name]
        births = find_all(entity, "birthdate")
        regulations = find_all(entity, "regulation")
        listed = sorted(d for d in (full_date(_attr(r, "publicationDate")) for r in regulations) if d)
        yield record(
            external_id=_attr(entity, "logicalId"),
            schema=schema,
            name=names[0][0] if names else "",
            aliases=names[1:],
            birth_dates=[_birth_date(b) for b in births],
            birth_places=[
                clean(
                    ", ".join(
                        p
                        for p in (_attr(b, "city") or _attr(b, "place"), _attr(b, "countryDescription"))
                        if p
                    )
                )
                for b in births
                if _attr(b, "city") or _attr(b, "place")
            ],
            nationalities=[
                _attr(c, "countryIso2Code").upper() or country_code(_attr(c, "countryDescription"))
                for c in find_all(entity, "citizenship")
            ],
            countries=[
                _attr(a, "countryIso2Code").upper() or country_code(_attr(a, "countryDescription"))
                for a in find_all(entity, "address")
            ],
            identifiers=[
                {
                    "type": _attr(i, "identificationTypeCode") or _attr(i, "identificationTypeDescription"),
                    "value": _attr(i, "number") or _attr(i, "latinNumber"),
                    "country": _attr(i, "countryIso2Code").upper(),
                }
                for i in find_all(entity, "identification")
            ],
            programmes=[_attr(r, "programme") for r in regulations],
            listed_on=full_date(_attr(entity, "designationDate")) or (listed[0] if listed else None),
            raw=element_dict(entity),
        )
