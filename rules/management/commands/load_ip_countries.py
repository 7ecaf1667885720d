"""Load the IP-to-country ranges the rules look addresses up in (R-7 IP country, R-14).

    manage.py load_ip_countries dbip-country-lite-2026-01.csv[.gz] [--batch-size 5000]

The file is a range CSV, `start,end,country[,...]`: the DB-IP "IP to Country Lite" layout
(text addresses, IPv4 and IPv6) or IP2Location LITE DB1 (decimal addresses; the country
name column is ignored). A header line is skipped. Rows for unassigned space (`ZZ`, `-`)
are skipped; a row that cannot be read is skipped and reported. Ranges must not overlap.

Idempotent: every run replaces the whole table in one database transaction, so lookups see
the old ranges or the new ones, never a mix, and a failed run changes nothing. A file
without a single usable row is refused rather than emptying the table.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rules.iplookup import address_key
from rules.models import IpCountryRange

COUNTRY = re.compile(r"^[A-Z]{2}$")
UNASSIGNED = {"ZZ", "-", ""}
SHOWN_ERRORS = 10


class BadRow(ValueError):
    pass


def _address(text: str) -> tuple[int, str]:
    """(IP version, key) of a text or decimal address."""
    text = text.strip()
    value: str | int = int(text) if text.isdigit() else text
    key = address_key(value)  # ValueError when not an address
    # Decimal IPv4 (IP2Location) keys as IPv4-mapped too; the version compares families.
    return (4 if key.startswith("00000000000000000000ffff") else 6), key


def parse_row(row: list[str]) -> IpCountryRange | None:
    """The range of one CSV row; None for unassigned space; BadRow when unreadable."""
    if len(row) < 3:
        raise BadRow("expected start,end,country")
    country = row[2].strip().upper()
    try:
        start_family, start = _address(row[0])
        end_family, end = _address(row[1])
    except ValueError as exc:
        raise BadRow(str(exc)) from None
    if start_family != end_family:
        raise BadRow("start and end are not of the same IP version")
    if start > end:
        raise BadRow("start is after end")
    if country in UNASSIGNED:
        return None
    if not COUNTRY.match(country):
        raise BadRow(f"country {row[2]!r} is not an ISO alpha-2 code")
    return IpCountryRange(start=start, end=end, country=country)


class Command(BaseCommand):
    help = (
        "Replace the IP-to-country ranges with those of a DB-IP / IP2Location lite CSV (start,end,country)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file (optionally gzipped: .gz).")
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per INSERT (default 5000).")

    def handle(self, *args, path: str, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        self.loaded = self.unassigned = self.invalid = 0
        try:
            with transaction.atomic():
                replaced, _ = IpCountryRange.objects.all().delete()
                batch: list[IpCountryRange] = []
                for item in self._ranges(path):
                    batch.append(item)
                    if len(batch) >= batch_size:
                        IpCountryRange.objects.bulk_create(batch)
                        batch = []
                if batch:
                    IpCountryRange.objects.bulk_create(batch)
                if not self.loaded:
                    raise CommandError(f"No usable range in {path}; the table is left as it was.")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        self.stdout.write(
            f"Loaded {self.loaded} IP ranges (replacing {replaced}); skipped {self.unassigned} "
            f"unassigned and {self.invalid} invalid rows."
        )

    def _ranges(self, path: str) -> Iterator[IpCountryRange]:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            for line, row in enumerate(csv.reader(text), start=1):
                if not row or not any(cell.strip() for cell in row):
                    continue
                try:
                    item = parse_row(row)
                except BadRow as exc:
                    if line == 1:  # a header line
                        continue
                    self.invalid += 1
                    if self.invalid <= SHOWN_ERRORS:
                        self.stderr.write(f"line {line}: {exc}; skipped")
                    continue
                if item is None:
                    self.unassigned += 1
                    continue
                self.loaded += 1
                yield item
