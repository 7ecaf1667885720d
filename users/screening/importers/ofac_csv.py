"""OFAC SDN list, the CSV trio: `sdn.csv`, `add.csv` (addresses), `alt.csv` (aliases).

No header row; `-0-` means empty. Columns:
- sdn: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
  Vess_flag, Vess_owner, Remarks;
- add: ent_num, Add_num, Address, City/State/Province/Postal Code, Country, Add_remarks;
- alt: ent_num, alt_num, alt_type, alt_name, alt_remarks.

Dates and places of birth, nationalities and documents exist only inside Remarks
("DOB 01 Jan 1970; POB Baghdad, Iraq; nationality Iraq; Passport A123 (Iraq); ..."), and the
weak aliases only there too ("a.k.a. 'ABU AHMAD'"): they are read from it.
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
    partial_date,
    record,
    text_stream,
)

SDN_COLUMNS = [
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
]
ADD_COLUMNS = ["ent_num", "Add_num", "Address", "City", "Country", "Add_remarks"]
ALT_COLUMNS = ["ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"]
SCHEMAS = {"individual": "PERSON", "vessel": "VESSEL", "aircraft": "AIRCRAFT", "": "ORGANISATION"}
DOCUMENTS = (
    "Passport",
    "Vessel Registration Identification",
    "National ID No.",
    "Cedula No.",
    "Tax ID No.",
    "SSN",
    "Identification Number",
)
_PARENS = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")


def _rows(fileobj, columns: list[str], label: str) -> Iterator[dict]:
    reader = csv.reader(text_stream(fileobj, encoding="latin-1"))
    try:
        for number, row in enumerate(reader, start=1):
            if not row or (len(row) == 1 and not row[0].strip()) or row[0].strip() == "\x1a":
                continue  # blank lines and the DOS end-of-file mark OFAC appends
            if len(row) != len(columns):
                raise ListFormatError(
                    f"{label} line {number}: expected {len(columns)} columns, found {len(row)}.",
                    errors={label: f"line {number} has {len(row)} columns, not {len(columns)}"},
                )
            if not row[0].strip().isdigit():
                raise ListFormatError(
                    f"{label} line {number}: the first column is not an entry number.",
                    errors={label: f"line {number}: {row[0][:40]!r} is not an entry number"},
                )
            yield {column: clean(value) for column, value in zip(columns, row, strict=True)}
    except csv.Error as exc:
        raise ListFormatError(f"{label}: {exc}.", errors={label: str(exc)}) from None


def _person_name(name: str, schema: str) -> str:
    """'SADDAM HUSSEIN AL-TIKRITI, Uday' → 'Uday SADDAM HUSSEIN AL-TIKRITI' for people."""
    if schema == "PERSON" and name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        return clean(f"{first} {last}")
    return name


def read_remarks(remarks: str) -> dict:
    """The structured facts OFAC writes into Remarks, ';'-separated 'Label value' items."""
    facts: dict = {"dob": [], "pob": [], "nationality": [], "ids": [], "weak": []}
    for item in (part.strip() for part in remarks.rstrip(".").split(";")):
        if item.lower().startswith("alt. "):  # "alt. DOB 1950": another value of the same fact
            item = item[5:]
        lower = item.lower()
        if lower.startswith("dob "):
            facts["dob"].append(partial_date(item[4:]))
        elif lower.startswith("pob "):
            facts["pob"].append(item[4:])
        elif lower.startswith(("nationality ", "citizen ")):
            facts["nationality"].append(country_code(item.split(" ", 1)[1]))
        elif lower.startswith("a.k.a. '"):
            facts["weak"].extend(re.findall(r"'([^']+)'", item))
        else:
            for kind in DOCUMENTS:
                if item.startswith(kind + " "):
                    value, country = item[len(kind) + 1 :], ""
                    if match := _PARENS.match(value):
                        value, country = match.group(1), country_code(match.group(2))
                    facts["ids"].append({"type": kind, "value": value, "country": country})
                    break
    return facts


def parse(sdn, add=None, alt=None) -> Iterator[dict]:
    """Join the three files on ent_num. add.csv and alt.csv are read first (they are small)."""
    addresses: dict[str, list[dict]] = {}
    for row in _rows(add, ADD_COLUMNS, "add.csv") if add is not None else ():
        addresses.setdefault(row["ent_num"], []).append(row)
    alternates: dict[str, list[dict]] = {}
    for row in _rows(alt, ALT_COLUMNS, "alt.csv") if alt is not None else ():
        alternates.setdefault(row["ent_num"], []).append(row)
    for row in _rows(sdn, SDN_COLUMNS, "sdn.csv"):
        schema = SCHEMAS.get(row["SDN_Type"].lower(), "UNKNOWN")
        facts = read_remarks(row["Remarks"])
        entry_addresses = addresses.get(row["ent_num"], [])
        entry_alts = alternates.get(row["ent_num"], [])
        aliases = [(_person_name(a["alt_name"], schema), STRONG) for a in entry_alts]
        aliases += [(name, WEAK) for name in facts["weak"]]
        yield record(
            external_id=row["ent_num"],
            schema=schema,
            name=_person_name(row["SDN_Name"], schema),
            aliases=aliases,
            birth_dates=facts["dob"],
            birth_places=facts["pob"],
            nationalities=facts["nationality"],
            countries=[country_code(a["Country"]) for a in entry_addresses],
            identifiers=facts["ids"],
            programmes=[p.strip("[] ") for p in row["Program"].split("] [")],
            raw={"sdn": row, "addresses": entry_addresses, "alternates": entry_alts},
        )
