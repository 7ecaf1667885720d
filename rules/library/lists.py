"""The blocked-list template: identifiers nobody may transact with (rules.models.BlockedValue)."""

from __future__ import annotations

from django.db.models import Q

from rules.blocked import normalise
from rules.library.amounts import transaction_data
from rules.library.base import DESTINATION, ORIGIN, Outcome, rule
from rules.models import BlockedValue

Kind = BlockedValue.Kind


def candidates(ctx, kinds: list[str]) -> dict[tuple[str, str], set[str]]:
    """(kind, normalised value) -> the directions ("ORIGIN", "DESTINATION") it was found on."""
    found: dict[tuple[str, str], set[str]] = {}

    def add(kind: str, value, direction: str) -> None:
        if kind in kinds and isinstance(value, str):
            value = normalise(kind, value)
            if value:
                found.setdefault((kind, value), set()).add(direction)

    for direction in (ORIGIN, DESTINATION):
        details = ctx.payment_details(direction)
        device = ctx.device(direction)
        add(Kind.IBAN, details.get("IBAN"), direction)
        add(Kind.CARD_FINGERPRINT, details.get("cardFingerprint"), direction)
        add(Kind.EMAIL, details.get("emailId"), direction)
        add(Kind.DEVICE, device.get("deviceIdentifier"), direction)
        add(Kind.IP, device.get("ipAddress"), direction)
        add(Kind.PAYMENT_IDENTIFIER, ctx.payment_identifier(direction), direction)
    return found


@rule(
    id="R-13",
    name="Blocked identifier",
    description="A value of the transaction, on either side, is on the blocked list for one of the "
    "checked `lists`: IBAN (payment details IBAN), CARD_FINGERPRINT (payment details "
    "cardFingerprint), EMAIL (payment details emailId), DEVICE (device data deviceIdentifier), IP "
    "(device data ipAddress), PAYMENT_IDENTIFIER (the instrument's METHOD:value identifier). Values "
    "are compared normalised (rules.blocked.normalise: IBAN upper-case without spaces, e-mail "
    "lower-case, IP in canonical form...), exactly.",
    nature="SCREENING",
    labels=("BLOCKED_LIST",),
    schema={
        "properties": {
            "lists": {
                "type": "array",
                "items": {"enum": list(Kind.values)},
                "minItems": 1,
                "uniqueItems": True,
            }
        },
        "required": ["lists"],
    },
    defaults={"lists": list(Kind.values)},
)
def blocked_identifier(ctx, params) -> Outcome:
    found = candidates(ctx, params["lists"])
    matches = []
    if found:
        by_kind: dict[str, list[str]] = {}
        for kind, value in found:
            by_kind.setdefault(kind, []).append(value)
        query = Q()
        for kind, values in by_kind.items():
            query |= Q(kind=kind, value__in=values)
        # One query, on the (kind, value) unique index.
        for kind, value, reason in BlockedValue.objects.filter(query).values_list("kind", "value", "reason"):
            for direction in sorted(found[(kind, value)]):
                matches.append({"kind": kind, "value": value, "direction": direction, "reason": reason})
    matches.sort(key=lambda match: (match["direction"] != ORIGIN, match["kind"], match["value"]))
    directions = [d for d in (ORIGIN, DESTINATION) if any(match["direction"] == d for match in matches)]
    data = {
        "transaction": transaction_data(ctx),
        "rule": {"lists": params["lists"]},
        "aggregates": {"valuesChecked": len(found), "matches": matches},
    }
    return Outcome(
        bool(matches),
        data,
        hit_directions=directions or [ORIGIN],
        vars=[
            {"value": {"blocked": [m["kind"] for m in matches if m["direction"] == d]}, "direction": d}
            for d in directions
        ],
    )
