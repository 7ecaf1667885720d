"""UN Security Council consolidated list (XML): CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL and
ENTITIES/ENTITY. Alias QUALITY "Low" is a weak alias; "Good" (and unstated) a strong one."""

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
    text_of,
)

NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def _birth_date(item) -> list[str]:
    if value := text_of(item, "DATE"):
        return [partial_date(value)]
    if value := text_of(item, "YEAR"):
        return [partial_date(value)]
    return [partial_date(text_of(item, key)) for key in ("FROM_YEAR", "TO_YEAR") if text_of(item, key)]


def _place(item) -> str:
    return clean(
        ", ".join(
            p for p in (text_of(item, "CITY"), text_of(item, "STATE_PROVINCE"), text_of(item, "COUNTRY")) if p
        )
    )


def parse(fileobj) -> Iterator[dict]:
    for element in iter_elements(fileobj, {"INDIVIDUAL", "ENTITY"}, root="CONSOLIDATED_LIST"):
        person = element.tag.rsplit("}", 1)[-1] == "INDIVIDUAL"
        prefix = "INDIVIDUAL" if person else "ENTITY"
        aliases = [
            (text_of(a, "ALIAS_NAME"), WEAK if text_of(a, "QUALITY").lower() == "low" else STRONG)
            for a in find_all(element, f"{prefix}_ALIAS")
        ]
        if original := text_of(element, "NAME_ORIGINAL_SCRIPT"):
            aliases.append((original, STRONG))
        births = find_all(element, "INDIVIDUAL_DATE_OF_BIRTH")
        yield record(
            external_id=text_of(element, "DATAID"),
            schema="PERSON" if person else "ORGANISATION",
            name=" ".join(text_of(element, part) for part in NAME_PARTS),
            aliases=aliases,
            birth_dates=[d for b in births for d in _birth_date(b)],
            birth_places=[_place(p) for p in find_all(element, "INDIVIDUAL_PLACE_OF_BIRTH")],
            nationalities=[country_code(clean(v.text)) for v in find_all(element, "NATIONALITY/VALUE")],
            countries=[country_code(text_of(a, "COUNTRY")) for a in find_all(element, f"{prefix}_ADDRESS")],
            identifiers=[
                {
                    "type": text_of(d, "TYPE_OF_DOCUMENT"),
                    "value": text_of(d, "NUMBER"),
                    "country": country_code(text_of(d, "ISSUING_COUNTRY")),
                }
                for d in find_all(element, "INDIVIDUAL_DOCUMENT")
            ]
            + [{"type": "UN reference", "value": text_of(element, "REFERENCE_NUMBER"), "country": ""}],
            programmes=[text_of(element, "UN_LIST_TYPE")],
            listed_on=full_date(text_of(element, "LISTED_ON")),
            raw=element_dict(element),
        )
