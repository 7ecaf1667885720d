"""Blocked values: the one spelling under which an identifier is stored and looked up.

`BlockedValue.value` is stored normalised, and the blocked-list template (R-13) normalises
what a transaction carries the same way before its lookup, so `de89 3704 0044 0532 0130 00`
on a transaction finds `DE89370400440532013000` on the list. Whoever writes a BlockedValue
(service, admin, import) calls `normalise` first.
"""

from __future__ import annotations

import ipaddress

from rules.models import BlockedValue

Kind = BlockedValue.Kind


def _no_spaces_upper(value: str) -> str:
    return "".join(value.split()).upper()


def _ip(value: str) -> str:
    """The canonical text of an address (IPv6 compressed and lower-case; an IPv4-mapped IPv6
    address as its IPv4 address), so one address has one spelling whichever form was sent."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return value.strip().lower()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


_NORMALISERS = {
    # ISO 13616: the electronic form has no spaces and is upper-case.
    Kind.IBAN: _no_spaces_upper,
    # Fingerprints are opaque tokens, often case-sensitive (base62): only trimmed.
    Kind.CARD_FINGERPRINT: str.strip,
    Kind.DEVICE: str.strip,
    # The local part is case-sensitive in theory, never in practice; providers fold it.
    Kind.EMAIL: lambda value: value.strip().lower(),
    Kind.IP: _ip,
    # As transactions.api.serializers builds `METHOD:value` identifiers: upper-case, no spaces.
    Kind.PAYMENT_IDENTIFIER: _no_spaces_upper,
}


def normalise(kind: str, value: str | None) -> str:
    """`value` as BlockedValue stores it for `kind` ("" for nothing). Unknown kinds are an error."""
    if value is None:
        return ""
    normaliser = _NORMALISERS[Kind(kind)]
    return normaliser(str(value))[:300]
