"""What every list parser shares: the normalised record, country codes, partial dates, XML streaming.

A parser is a generator of records, one per listed subject:

    {"external_id", "schema", "name", "aliases": [{"name", "strength"}], "birth_dates",
     "birth_places", "nationalities", "countries", "identifiers": [{"type", "value", "country"}],
     "programmes", "listed_on": "YYYY-MM-DD" | None, "raw": {...}}

Birth dates are ISO strings, possibly partial ("1970", "1970-05"). A file the parser cannot
read raises `ListFormatError` naming the problem.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from rigour.territories import lookup_territory

from compliance.errors import ApplicationError

STRONG = "strong"
WEAK = "weak"

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


class ListFormatError(ApplicationError):
    """The file is not in the format it was imported as (or is damaged)."""

    default_message = "The file cannot be read in this format."


def record(
    *,
    external_id: str,
    schema: str,
    name: str,
    raw: dict,
    aliases: Iterable[tuple[str, str]] = (),
    birth_dates: Iterable[str] = (),
    birth_places: Iterable[str] = (),
    nationalities: Iterable[str] = (),
    countries: Iterable[str] = (),
    identifiers: Iterable[dict] = (),
    programmes: Iterable[str] = (),
    listed_on: str | None = None,
) -> dict:
    """A normalised record: blanks dropped, duplicates removed (first occurrence kept), the
    primary name never repeated as an alias, a strong alias winning over the same weak one."""
    name = clean(name)
    alias_strength: dict[str, str] = {}
    for alias, strength in aliases:
        alias = clean(alias)
        if alias and alias.casefold() != name.casefold():
            key = alias
            if alias_strength.get(key) != STRONG:
                alias_strength[key] = strength
    return {
        "external_id": clean(str(external_id)),
        "schema": schema,
        "name": name,
        "aliases": [{"name": alias, "strength": strength} for alias, strength in alias_strength.items()],
        "birth_dates": unique(birth_dates),
        "birth_places": unique(birth_places),
        "nationalities": unique(nationalities),
        "countries": unique(countries),
        "identifiers": _unique_identifiers(identifiers),
        "programmes": unique(programmes),
        "listed_on": listed_on or None,
        "raw": raw,
    }


def clean(value) -> str:
    """Collapse whitespace; None and the OFAC CSV null `-0-` become ''."""
    if value is None:
        return ""
    value = " ".join(str(value).split())
    return "" if value == "-0-" else value


def unique(values: Iterable) -> list:
    seen: dict = {}
    for value in values:
        value = clean(value) if isinstance(value, str) or value is None else value
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _unique_identifiers(identifiers: Iterable[dict]) -> list[dict]:
    out, seen = [], set()
    for ident in identifiers:
        item = {
            "type": clean(ident.get("type")),
            "value": clean(ident.get("value")),
            "country": clean(ident.get("country")),
        }
        key = (item["type"], item["value"], item["country"])
        if item["value"] and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def country_code(text) -> str:
    """An ISO 3166 alpha-2 code (upper case) for a code, country name or nationality, or ''."""
    return _country_code(clean(text))


@functools.lru_cache(maxsize=4096)  # lists repeat a few hundred country spellings
def _country_code(text: str) -> str:
    if not text:
        return ""
    territory = lookup_territory(text)
    if territory is None:
        return ""
    code = territory.code.upper()
    return code if len(code) == 2 else ""


def country_codes(texts: Iterable) -> list[str]:
    return [code for code in (country_code(text) for text in texts) if code]


_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_TEXT = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]{3,9})\.?\s+(\d{4})$")
_YEAR = re.compile(r"\b(\d{4})\b")


def partial_date(text) -> str:
    """A date as an ISO string keeping only what is known: '1970-05-01', '1970-05', '1970'.

    Reads ISO (1970-05-01, 1970-05, 1970), day-first numeric with 00 for unknown parts
    (01/05/1970, 00/05/1970, 00/00/1970), and English text (01 May 1970, May 1970). Text
    that says "circa 1970" or "1968 to 1970" keeps its first year. Unreadable text → ''.
    """
    text = clean(text)
    if not text:
        return ""
    text = re.sub(r"^(circa|ca\.?|approximately|approx\.?|about)\s+", "", text, flags=re.I)
    if text[:10].count("-") == 2 and "T" in text:  # ISO datetime
        text = text[:10]
    if match := _ISO.match(text):
        return _join(match.group(1), match.group(2), match.group(3))
    if match := _DMY.match(text):
        day, month, year = match.groups()
        return _join(year, month, day)
    if match := _TEXT.match(text):
        day, month_name, year = match.groups()
        month = MONTHS.get(month_name.lower())
        if month:
            return _join(year, str(month), day)
    if match := _YEAR.search(text):
        return match.group(1)
    return ""


def _join(year, month=None, day=None) -> str:
    if not year or int(year) == 0:
        return ""
    if not month or int(month) == 0:
        return year
    if not (1 <= int(month) <= 12):
        return year
    if not day or int(day) == 0:
        return f"{year}-{int(month):02d}"
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return f"{year}-{int(month):02d}"


def full_date(text) -> str | None:
    """A listing date: only a complete date counts."""
    value = partial_date(text)
    return value if len(value) == 10 else None


def parse_dmy(text) -> str | None:
    """'17/11/2023' (UK) → '2023-11-17'."""
    text = clean(text)
    try:
        return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
    except ValueError:
        return full_date(text)


# -- streaming XML -------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # a format has a few dozen tags, seen millions of times
def local(tag: str) -> str:
    """The tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def iter_elements(fileobj, tags: set[str], *, root: str) -> Iterator:
    """Stream the elements named `tags` (namespace ignored) from an XML file, removing each from
    its parent once handled, so memory stays flat whatever the file size. Checks the root's name."""
    stack: list = []
    try:
        for event, element in SafeET.iterparse(fileobj, events=("start", "end")):
            if event == "start":
                if not stack and local(element.tag) != root:
                    found = local(element.tag)
                    raise ListFormatError(
                        f"Expected an XML document whose root element is <{root}>, found <{found}>.",
                        errors={"file": f"the root element <{found}> is not <{root}>"},
                    )
                stack.append(element)
                continue
            stack.pop()
            if local(element.tag) in tags:
                yield element
                if stack:
                    stack[-1].remove(element)
                element.clear()
    except SafeET.ParseError as exc:
        raise ListFormatError(f"The XML is not well formed: {exc}.", errors={"file": str(exc)}) from None
    except DefusedXmlException as exc:  # entity expansion, external DTDs: refused by design
        raise ListFormatError(
            f"The XML is refused: {exc!r}.", errors={"file": "forbidden XML construct"}
        ) from None


def text_of(element, path: str) -> str:
    """The text of the first descendant at `path` (local names separated by '/'), or ''."""
    found = find(element, path)
    return clean(found.text) if found is not None else ""


def find(element, path: str):
    current = [element]
    for step in path.split("/"):
        current = [child for node in current for child in node if local(child.tag) == step]
        if not current:
            return None
    return current[0]


def find_all(element, path: str) -> list:
    current = [element]
    for step in path.split("/"):
        current = [child for node in current for child in node if local(child.tag) == step]
    return current


def element_dict(element) -> dict | str:
    """An element as JSON: its attributes and children by local name (a list when repeated),
    or its text when it has neither."""
    attrs = {local(key): value for key, value in element.attrib.items()}
    children = list(element)
    if not children and not attrs:
        return clean(element.text)
    out: dict = dict(attrs)
    grouped: dict[str, list] = {}
    for child in children:
        grouped.setdefault(local(child.tag), []).append(element_dict(child))
    for key, values in grouped.items():
        out[key] = values if len(values) > 1 else values[0]
    if not children and clean(element.text):
        out["#text"] = clean(element.text)
    return out


# -- text files --------------------------------------------------------------------------------


def text_stream(fileobj, *, encoding: str = "utf-8-sig") -> io.TextIOBase:
    """A text view of a binary or text file object, decoding with `encoding` (BOM tolerated)."""
    if isinstance(fileobj, io.TextIOBase):
        return fileobj
    return codecs.getreader(encoding)(fileobj, errors="strict")
