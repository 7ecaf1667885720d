"""Templates on where a transaction comes from and goes to: high-risk countries, VPNs and
IP addresses in another country than the user's."""

from __future__ import annotations

import time

from compliance.reference.models import HIGH_RISK_SCORE
from rules.library.amounts import transaction_data
from rules.library.base import COUNTRY, DESTINATION, ORIGIN, Outcome, rule

# --- the reference countries' risk scores, read once a minute per process ------------------

_SCORES_TTL_SECONDS = 60.0
_scores: dict = {"at": None, "values": {}}


def country_risk_scores() -> dict[str, int]:
    """alpha-2 -> `compliance.reference.models.Country.risk_score` (scores change rarely, by an admin)."""
    if _scores["at"] is None or time.monotonic() - _scores["at"] > _SCORES_TTL_SECONDS:
        from compliance.reference.models import Country

        _scores.update(values=dict(Country.objects.values_list("alpha2", "risk_score")), at=time.monotonic())
    return _scores["values"]


def forget_country_risk_scores() -> None:
    """Reload on next use (after an admin edit, and in tests)."""
    _scores["at"] = None


# --- R-7 -------------------------------------------------------------------------------------

# Where a country is read from, and whose side it is.
COUNTRY_SOURCES = {
    "ORIGIN_COUNTRY": ORIGIN,  # originAmountDetails.country
    "DESTINATION_COUNTRY": DESTINATION,  # destinationAmountDetails.country
    "IP_COUNTRY": ORIGIN,  # originDeviceData.ipAddress, through the IP ranges
    "CARD_ISSUER_COUNTRY": ORIGIN,  # originPaymentDetails.cardIssuedCountry
}


def _country(ctx, source: str) -> str | None:
    if source == "ORIGIN_COUNTRY":
        return ctx.country(ORIGIN) or None
    if source == "DESTINATION_COUNTRY":
        return ctx.country(DESTINATION) or None
    if source == "IP_COUNTRY":
        return ctx.ip_country(ORIGIN)
    return ctx.payment_details(ORIGIN).get("cardIssuedCountry") or None


@rule(
    id="R-7",
    name="High-risk country",
    description="One of the checked countries is high risk: the origin country, the destination "
    "country (amount details `country`), the country of the origin device's IP address (from the "
    "IP ranges loaded by `load_ip_countries`), the origin card's issuing country. High risk means "
    "listed in `countries`, or — with `minimumCountryRiskScore` instead — a reference country risk "
    "score at or above (>=) it. A country that is absent or unknown never hits.",
    nature="AML",
    labels=("HIGH_RISK_COUNTRY",),
    schema={
        "properties": {
            "checks": {
                "type": "array",
                "items": {"enum": list(COUNTRY_SOURCES)},
                "minItems": 1,
                "uniqueItems": True,
            },
            "countries": {"type": "array", "items": COUNTRY, "minItems": 1, "uniqueItems": True},
            "minimumCountryRiskScore": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "description": f"Reference country risk score from which a country is high risk "
                f"(FATF grey list default: {HIGH_RISK_SCORE}).",
            },
        },
        "required": ["checks"],
        "oneOf": [{"required": ["countries"]}, {"required": ["minimumCountryRiskScore"]}],
    },
    defaults={"checks": list(COUNTRY_SOURCES), "minimumCountryRiskScore": HIGH_RISK_SCORE},
)
def high_risk_country(ctx, params) -> Outcome:
    listed = set(params.get("countries") or ())
    minimum = params.get("minimumCountryRiskScore")
    scores = country_risk_scores() if minimum is not None else {}
    checked, matched = {}, []
    for source in params["checks"]:
        country = _country(ctx, source)
        found = {"country": country}
        if minimum is not None:
            found["riskScore"] = scores.get(country) if country else None
            high = country is not None and scores.get(country, 0) >= minimum
        else:
            high = country is not None and country in listed
        found["highRisk"] = high
        checked[source] = found
        if high:
            matched.append(source)
    directions = [d for d in (ORIGIN, DESTINATION) if any(COUNTRY_SOURCES[s] == d for s in matched)]
    data = {
        "transaction": transaction_data(ctx),
        "rule": {
            "checks": params["checks"],
            **({"countries": sorted(listed)} if minimum is None else {"minimumCountryRiskScore": minimum}),
        },
        "aggregates": {"countries": checked, "matched": matched},
    }
    return Outcome(
        bool(matched),
        data,
        hit_directions=directions or [ORIGIN],
        vars=[
            {
                "value": {"countries": [checked[s]["country"] for s in matched if COUNTRY_SOURCES[s] == d]},
                "direction": d,
            }
            for d in directions
        ],
    )


# --- R-14 ------------------------------------------------------------------------------------

VPN_CHECKS = ("VPN_USED", "IP_COUNTRY_NOT_RESIDENCE", "IP_COUNTRY_NOT_ORIGIN_COUNTRY")


@rule(
    id="R-14",
    name="VPN or IP country mismatch",
    description="Any of the chosen checks on the origin side holds. VPN_USED: originDeviceData.vpnUsed "
    "is true. IP_COUNTRY_NOT_RESIDENCE: the country of originDeviceData.ipAddress differs from the "
    "origin user's country of residence (an organisation without one: its country of "
    "incorporation). IP_COUNTRY_NOT_ORIGIN_COUNTRY: it differs from originAmountDetails.country. "
    "A mismatch check needs both countries known; an address in no loaded range never mismatches.",
    nature="FRAUD",
    labels=("VPN", "IP_COUNTRY_MISMATCH"),
    schema={
        "properties": {
            "checks": {
                "type": "array",
                "items": {"enum": list(VPN_CHECKS)},
                "minItems": 1,
                "uniqueItems": True,
            }
        },
        "required": ["checks"],
    },
    defaults={"checks": ["VPN_USED", "IP_COUNTRY_NOT_RESIDENCE"]},
)
def vpn_or_ip_mismatch(ctx, params) -> Outcome:
    checks = params["checks"]
    aggregates: dict = {}
    fired = []
    if "VPN_USED" in checks:
        aggregates["vpnUsed"] = ctx.device(ORIGIN).get("vpnUsed")
        if aggregates["vpnUsed"] is True:
            fired.append("VPN_USED")
    if "IP_COUNTRY_NOT_RESIDENCE" in checks or "IP_COUNTRY_NOT_ORIGIN_COUNTRY" in checks:
        ip_country = ctx.ip_country(ORIGIN)
        aggregates["ipAddress"] = ctx.device(ORIGIN).get("ipAddress")
        aggregates["ipCountry"] = ip_country
        for check, other in (
            ("IP_COUNTRY_NOT_RESIDENCE", "residenceCountry"),
            ("IP_COUNTRY_NOT_ORIGIN_COUNTRY", "originCountry"),
        ):
            if check not in checks:
                continue
            country = ctx.user_country(ORIGIN) if other == "residenceCountry" else ctx.country(ORIGIN) or None
            aggregates[other] = country
            if ip_country and country and ip_country != country:
                fired.append(check)
    aggregates["matched"] = fired
    return Outcome(
        bool(fired),
        {"transaction": transaction_data(ctx), "rule": {"checks": checks}, "aggregates": aggregates},
        hit_directions=[ORIGIN],
        vars=[{"value": {"matched": fired}, "direction": ORIGIN}] if fired else [],
    )
