"""Which country an IP address is in, from the `IpCountryRange` table.

Addresses are keyed as 32 lower-case hex digits of their IPv6 form (an IPv4 address as its
IPv4-mapped IPv6 address, `::ffff:a.b.c.d`), so text order is numeric order on every
database and both families share one table. Ranges do not overlap (the DB-IP and
IP2Location files do not), so the range holding an address is the one with the greatest
start at or below it — one indexed query, `start <= key ORDER BY start DESC LIMIT 1` —
provided its end is at or above it too; otherwise the address is in a gap: unknown.
"""

from __future__ import annotations

import ipaddress

from rules.models import IpCountryRange

IPV4_MAPPED = 0xFFFF << 32


def address_key(address: str | int | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The 32-hex-digit key of an address. Raises ValueError for something else."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.strip())
    elif isinstance(address, int):
        address = ipaddress.ip_address(address)
    number = int(address)
    if isinstance(address, ipaddress.IPv4Address):
        number |= IPV4_MAPPED
    return f"{number:032x}"


def country_of(address: str | None) -> str | None:
    """The alpha-2 country of an address; None when unknown (no range holds it, or not an address)."""
    if not address:
        return None
    try:
        key = address_key(address)
    except ValueError:
        return None
    row = (
        IpCountryRange.objects.filter(start__lte=key).order_by("-start").values_list("end", "country").first()
    )
    if row is None or row[0] < key:
        return None
    return row[1]
