"""OpenSanctions simple CSV (`targets.simple.csv`): id, schema, name, aliases, birth_date,
countries, addresses, identifiers, sanctions, phones, emails, dataset, first_seen, last_seen,
last_change. Multiple values are ';'-separated; countries are ISO codes."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from users.screening.importers.base import (
    STRONG,
    ListFormatError,
    country_code,
    full_date,
    partial_date,
    record,
    text_stream,
)
from users.screening.importers.ftm_json import SCHEMAS

COLUMNS = ("id", "schema", "name", "aliases", "birth_date", "countries", "identifiers", "sanctions")


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def parse(fileobj) -> Iterator[dict]:
    try:
        reader = csv.DictReader(text_stream(fileobj))
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ListFormatError(
                f"The header lacks the columns {', '.join(missing)}.",
                errors={"file": f"missing columns {missing}"},
            )
        for number, row in enumerate(reader, start=2):
            if not row.get("id"):
                raise ListFormatError(f"Line {number} has no id.", errors={"file": f"line {number}: no id"})
            countries = [country_code(c) for c in _split(row.get("countries"))]
            schema = SCHEMAS.get(row.get("schema") or "", "UNKNOWN")
            yield record(
                external_id=row["id"],
                schema=schema,
                name=row.get("name") or "",
                aliases=[(alias, STRONG) for alias in _split(row.get("aliases"))],
                birth_dates=[partial_date(v) for v in _split(row.get("birth_date"))],
                # The simple format does not tell nationality from residence: people's countries
                # are kept in both, so a nationality check still has something to compare.
                nationalities=countries if schema == "PERSON" else [],
                countries=countries,
                identifiers=[{"type": "", "value": v, "country": ""} for v in _split(row.get("identifiers"))],
                programmes=_split(row.get("sanctions")),
                listed_on=full_date(row.get("first_seen")),
                raw={key: value for key, value in row.items() if key is not None},
            )
    except csv.Error as exc:
        raise ListFormatError(f"The CSV cannot be read: {exc}.", errors={"file": str(exc)}) from None
