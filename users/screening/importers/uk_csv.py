"""UK consolidated list of financial sanctions targets, OFSI CSV (`ConList.csv`).

First row "Last Updated,<dd/mm/yyyy>", then the header (Name 6 = surname or entity name,
Name 1..5, Title, DOB, Town of Birth, Country of Birth, Nationality, Passport Number, ...,
Group Type, Alias Type, Alias Quality, Regime, Listed On, ..., Group ID). One row per name:
rows sharing a Group ID are one target; its "Primary name" row (else its "Prime Alias" row,
else its first row) gives the primary name, the others are aliases, weak when of "Low quality".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from users.screening.importers.base import (
    STRONG,
    WEAK,
    ListFormatError,
    clean,
    country_code,
    parse_dmy,
    partial_date,
    record,
    text_stream,
)

REQUIRED = ("Name 6", "Name 1", "DOB", "Group Type", "Alias Type", "Group ID")
SCHEMAS = {"individual": "PERSON", "entity": "ORGANISATION", "ship": "VESSEL"}
_NUMBERED = re.compile(r"\(\d+\)\s*")


def _name(row: dict) -> str:
    given = " ".join(row.get(f"Name {i}", "") for i in range(1, 6))
    return clean(f"{given} {row.get('Name 6', '')}")


def _listed(value: str) -> list[str]:
    """'(1) Afghan (2) Pakistani' → ['Afghan', 'Pakistani']."""
    return [clean(part) for part in _NUMBERED.split(value or "") if clean(part)]


def _uk_date(value: str) -> str:
    """'dd/mm/yyyy' with 00 for unknown parts."""
    return partial_date(value)


def _target(group_id: str, rows: list[dict]) -> dict:
    def rank(row):
        kind = row.get("Alias Type", "").lower()
        return 0 if kind == "primary name" else 1 if kind == "prime alias" else 2

    primary = min(rows, key=rank)
    aliases = [
        (_name(row), WEAK if "low" in row.get("Alias Quality", "").lower() else STRONG)
        for row in rows
        if row is not primary
    ]
    aliases += [(clean(row.get("Name Non-Latin Script")), STRONG) for row in rows]
    collect = lambda column: [v for row in rows for v in _listed(row.get(column, ""))]  # noqa: E731
    identifiers = [{"type": "Passport", "value": v, "country": ""} for v in collect("Passport Number")]
    identifiers += [
        {"type": "National ID", "value": v, "country": ""} for v in collect("National Identification Number")
    ]
    listed = sorted(d for d in (parse_dmy(row.get("Listed On")) for row in rows) if d)
    return record(
        external_id=group_id,
        schema=SCHEMAS.get(primary.get("Group Type", "").lower(), "UNKNOWN"),
        name=_name(primary),
        aliases=aliases,
        birth_dates=[_uk_date(v) for v in collect("DOB")],
        birth_places=[
            clean(", ".join(p for p in (row.get("Town of Birth", ""), row.get("Country of Birth", "")) if p))
            for row in rows
        ],
        nationalities=[country_code(v) for v in collect("Nationality")],
        countries=[country_code(v) for v in collect("Country")],
        identifiers=identifiers,
        programmes=[row.get("Regime", "") for row in rows],
        listed_on=listed[0] if listed else None,
        raw={"groupId": group_id, "rows": rows},
    )


def parse(fileobj) -> Iterator[dict]:
    """Rows of one Group ID are usually adjacent, but the file does not promise it: the targets
    are gathered by Group ID first (a name row is small; the UK list has ~15,000 of them)."""
    lines = text_stream(fileobj, encoding="utf-8-sig")
    first = lines.readline()
    if not first.lower().startswith("last updated"):
        raise ListFormatError(
            'The first line of an OFSI ConList.csv is "Last Updated,<date>".',
            errors={"file": f"first line is {first[:60].strip()!r}, not 'Last Updated,...'"},
        )
    try:
        reader = csv.DictReader(lines)
        header = reader.fieldnames or []
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise ListFormatError(
                f"The header lacks the columns {', '.join(missing)}.",
                errors={"file": f"missing columns {missing}"},
            )
        groups: dict[str, list[dict]] = {}
        for number, row in enumerate(reader, start=3):
            row = {key: clean(value) for key, value in row.items() if key is not None}
            group_id = row.get("Group ID", "")
            if not group_id:
                raise ListFormatError(
                    f"Line {number} has no Group ID.", errors={"file": f"line {number}: no Group ID"}
                )
            groups.setdefault(group_id, []).append(row)
    except csv.Error as exc:
        raise ListFormatError(f"The CSV cannot be read: {exc}.", errors={"file": str(exc)}) from None
    for group_id, rows in groups.items():
        yield _target(group_id, rows)
