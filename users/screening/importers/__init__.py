"""One parser per public list format; `FORMATS` maps each `ListFormat` to its parser and files."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from users.models.screening import ListFormat
from users.screening.importers import eu_xml, ftm_json, ofac_csv, ofac_xml, os_csv, uk_csv, un_xml
from users.screening.importers.base import ListFormatError


@dataclasses.dataclass(frozen=True)
class Format:
    parse: Callable[..., Iterator[dict]]
    files: tuple[str, ...]  # what each positional file is, for messages and forms
    required_files: int = 1


FORMATS: dict[str, Format] = {
    ListFormat.OFAC_XML: Format(ofac_xml.parse, ("sdn.xml",)),
    ListFormat.OFAC_CSV: Format(ofac_csv.parse, ("sdn.csv", "add.csv", "alt.csv")),
    ListFormat.EU_XML: Format(eu_xml.parse, ("export XML",)),
    ListFormat.UN_XML: Format(un_xml.parse, ("consolidated XML",)),
    ListFormat.UK_CSV: Format(uk_csv.parse, ("ConList.csv",)),
    ListFormat.FTM_JSON: Format(ftm_json.parse, ("entities.ftm.json",)),
    ListFormat.OS_CSV: Format(os_csv.parse, ("targets.simple.csv",)),
}

__all__ = ["FORMATS", "Format", "ListFormatError"]
