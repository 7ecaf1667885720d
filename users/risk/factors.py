"""The scoring code of each risk factor, keyed by `RiskFactor.code`.

A factor is a pure function `(inputs, params, context) -> points`. Its parameters come
from the `RiskFactor` row the compliance admin edits; `DEFAULTS` documents them and
fills any the row leaves out. Adding a factor: write the function here, then add its row
(data migration or admin) with the same code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

from users.risk.inputs import RiskInputs


@dataclasses.dataclass(frozen=True)
class ScoringContext:
    """What factors need beyond one customer's inputs."""

    today: date
    country_risk: dict[int, int]
    required_documents_person: frozenset[int]
    required_documents_organisation: frozenset[int]


FactorFunction = Callable[[RiskInputs, dict, ScoringContext], int]
REGISTRY: dict[str, FactorFunction] = {}
DEFAULTS: dict[str, dict] = {}


def factor(code: str, **defaults):
    def decorator(func: FactorFunction) -> FactorFunction:
        REGISTRY[code] = func
        DEFAULTS[code] = defaults
        return func

    return decorator


def json_kind(value) -> str:
    """How a parameter value reads in JSON, for messages: a number, a list, true/false..."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "a list", str: "a text"}.get(type(value), "a value")


def parameter_errors(code: str, params) -> dict[str, str]:
    """Why a factor row's code or parameters cannot score: an unknown code, an unknown
    parameter or a value of the wrong kind would silently score 0. Empty when fine."""
    if code not in REGISTRY:
        return {"code": f"No scoring function has this code; known: {', '.join(sorted(REGISTRY))}."}
    if not isinstance(params, dict):
        return {"parameters": 'The parameters are a JSON object: {"name": value, ...}.'}
    defaults = DEFAULTS[code]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        reads = ", ".join(defaults)
        return {"parameters": f"Unknown parameter(s) {', '.join(unknown)}; this factor reads {reads}."}
    wrong = [k for k, v in params.items() if json_kind(v) != json_kind(defaults[k])]
    if wrong:
        return {"parameters": "; ".join(f"{k} must be {json_kind(defaults[k])}" for k in wrong) + "."}
    return {}


def _int(value, default=0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _by_key(table: dict, key) -> int:
    """Points from a JSON map whose keys are ids as strings."""
    return _int(table.get(str(key), 0)) if key is not None else 0


@factor(
    "screening",
    points_by_list={"1": 1000, "2": 300, "3": 200, "4": 150, "5": 300},
    pending_min_score=85,
    pending_points=100,
)
def screening(inputs, params, ctx):
    """The worst screening hit: a confirmed hit scores its list's points (by screening risk
    type id); an uninspected hit at or above `pending_min_score` scores `pending_points`;
    hits inspected and not confirmed (false positives) score nothing."""
    worst = 0
    for kind, score, inspected, confirmed in inputs.screening:
        if confirmed:
            worst = max(worst, _by_key(params["points_by_list"], kind))
        elif not inspected and score >= _int(params["pending_min_score"], 101):
            worst = max(worst, _int(params["pending_points"]))
    return worst


@factor("non_face_to_face", points=100, mitigating_checks=[1, 4])
def non_face_to_face(inputs, params, ctx):
    """`points` for a customer onboarded without meeting, unless one of the enhanced checks
    in `mitigating_checks` (e.g. second ID document, home visit) was done."""
    if not inputs.non_face_to_face:
        return 0
    if set(inputs.enhanced_checks) & {_int(c) for c in params.get("mitigating_checks", [])}:
        return 0
    return _int(params["points"])


@factor("id_card", points_no_valid_id=300, points_no_copy=50)
def id_card(inputs, params, ctx):
    """`points_no_valid_id` without an unexpired ID document; `points_no_copy` when valid
    documents exist but none has a copy on file."""
    today = ctx.today.isoformat()
    valid = [copy for expiry, copy in inputs.id_cards if expiry is None or expiry >= today]
    if not valid:
        return _int(params["points_no_valid_id"])
    return 0 if any(valid) else _int(params["points_no_copy"])


@factor(
    "entity_type",
    points_by_incorporation_type={"6": 200, "7": 150, "9": 100, "13": 100},
    points_unknown=50,
)
def entity_type(inputs, params, ctx):
    """Points by legal form (incorporation type id): trusts and foundations hide owners."""
    if inputs.incorporation_type is None:
        return _int(params["points_unknown"])
    return _by_key(params["points_by_incorporation_type"], inputs.incorporation_type)


@factor("address", points_no_address=300, points_no_verified_address=300)
def address(inputs, params, ctx):
    """`points_no_address` without any address, `points_no_verified_address` when none is verified."""
    if not inputs.addresses:
        return _int(params["points_no_address"])
    if not any(verified for _, verified in inputs.addresses):
        return _int(params["points_no_verified_address"])
    return 0


@factor(
    "communication_means",
    points_none=100,
    points_no_phone=20,
    points_no_email=20,
    phone_types=[1, 3],
    email_types=[4],
)
def communication_means(inputs, params, ctx):
    """`points_none` when the customer cannot be reached at all; otherwise points for a
    missing phone (types `phone_types`) and a missing email (types `email_types`)."""
    kinds = set(inputs.communication_types)
    if not kinds:
        return _int(params["points_none"])
    points = 0
    if not kinds & {_int(k) for k in params["phone_types"]}:
        points += _int(params["points_no_phone"])
    if not kinds & {_int(k) for k in params["email_types"]}:
        points += _int(params["points_no_email"])
    return points


@factor("missing_documents", points_per_document=20, max_points=200)
def missing_documents(inputs, params, ctx):
    """`points_per_document` for each required document type (see Document types) neither
    ticked nor on file, up to `max_points`."""
    required = ctx.required_documents_person if inputs.is_person else ctx.required_documents_organisation
    missing = len(required - set(inputs.documents))
    return min(missing * _int(params["points_per_document"]), _int(params["max_points"]))


@factor("activity", points_per_risk=100, max_points=500)
def activity(inputs, params, ctx):
    """`points_per_risk` for each ticked activity risk, up to `max_points`."""
    return min(len(set(inputs.activity_risks)) * _int(params["points_per_risk"]), _int(params["max_points"]))


@factor(
    "wealth",
    verified_status=2,
    points_unverified_wealth_by_scale={"4": 50, "5": 100, "6": 150},
    points_unverified_income_by_scale={"5": 50, "6": 100},
)
def wealth(inputs, params, ctx):
    """Large wealth or income that was declared but not verified (status `verified_status`):
    the highest points of any such entry, by scale id."""
    verified = _int(params["verified_status"])
    worst = 0
    for scale, status in inputs.wealth:
        if status != verified:
            worst = max(worst, _by_key(params["points_unverified_wealth_by_scale"], scale))
    for scale, status in inputs.income:
        if status != verified:
            worst = max(worst, _by_key(params["points_unverified_income_by_scale"], scale))
    return worst


@factor("financial_statements", max_age_years=2, points_missing=100, points_no_copy=30)
def financial_statements(inputs, params, ctx):
    """`points_missing` without a statement for one of the last `max_age_years` years;
    `points_no_copy` when recent statements exist but none has a copy on file."""
    oldest = ctx.today.year - _int(params["max_age_years"])
    recent = [copy for year, copy in inputs.statements if year >= oldest]
    if not recent:
        return _int(params["points_missing"])
    return 0 if any(recent) else _int(params["points_no_copy"])


@factor("countries", multiplier=3, include_addresses=True)
def countries(inputs, params, ctx):
    """The riskiest country the customer is tied to (nationality, birth, residence; for an
    organisation incorporation, domicile, activity; and address countries when
    `include_addresses`), its country risk score times `multiplier`."""
    linked = list(inputs.main_countries)
    if params.get("include_addresses", True):
        linked += [c for c, _ in inputs.addresses if c]
    worst = max((ctx.country_risk.get(c, 0) for c in linked), default=0)
    return worst * _int(params["multiplier"])


@factor("country_presence", multiplier=1, max_points=500)
def country_presence(inputs, params, ctx):
    """The sum of the risk scores of the countries the organisation is present in, times
    `multiplier`, up to `max_points`."""
    total = sum(ctx.country_risk.get(c, 0) for c in set(inputs.presence_countries))
    return min(total * _int(params["multiplier"]), _int(params["max_points"]))


@factor("counterparty", multiplier=2, max_points=600)
def counterparty(inputs, params, ctx):
    """The sum of the risk scores of the counterparties' countries, times `multiplier`, up
    to `max_points`."""
    total = sum(ctx.country_risk.get(c, 0) for c in inputs.fund_countries if c)
    return min(total * _int(params["multiplier"]), _int(params["max_points"]))


@factor("referred_by_third_party", points=100)
def referred_by_third_party(inputs, params, ctx):
    """`points` when a referral agent introduced the customer."""
    return _int(params["points"]) if inputs.referred else 0


@factor(
    "relationship_length",
    bands=[
        {"under_years": 1, "points": 50},
        {"under_years": 2, "points": 20},
        {"under_years": 5, "points": 10},
    ],
    points_unknown=50,
)
def relationship_length(inputs, params, ctx):
    """New relationships are riskier: the points of the first band whose `under_years` the
    relationship has not reached yet; `points_unknown` without a start date."""
    start = inputs.relationship_start_date
    if start is None:
        return _int(params["points_unknown"])
    today = ctx.today
    years = today.year - start.year - ((today.month, today.day) < (start.month, start.day))
    for band in sorted(params["bands"], key=lambda b: _int(b.get("under_years"))):
        if years < _int(band.get("under_years")):
            return _int(band.get("points"))
    return 0


@factor("behavior", points_per_risk=100, max_points=500)
def behavior(inputs, params, ctx):
    """`points_per_risk` for each ticked behaviour risk, up to `max_points`."""
    return min(len(set(inputs.behavior_risks)) * _int(params["points_per_risk"]), _int(params["max_points"]))


@factor(
    "transaction_monitoring",
    window_days=90,
    points_per_flag=20,
    points_per_suspend=50,
    points_per_block=100,
    max_points=300,
)
def transaction_monitoring(inputs, params, ctx):
    """The customer's ongoing behaviour as transaction monitoring saw it: points for each rule
    hit (not in shadow) on its transactions in the last `window_days` days, by the hit's
    action, capped at `max_points`. A hit with action ALLOW scores nothing."""
    since = (ctx.today - timedelta(days=min(_int(params["window_days"]), 365))).isoformat()
    points = 0
    for day, flagged, suspended, blocked in inputs.monitoring:
        if day > since:
            points += (
                flagged * _int(params["points_per_flag"])
                + suspended * _int(params["points_per_suspend"])
                + blocked * _int(params["points_per_block"])
            )
    return min(points, _int(params["max_points"]))
