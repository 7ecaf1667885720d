"""The transaction screening template (issue 6 point 8): the names on a transaction against the watchlists.

R-16 "Screen transaction parties" screens, on the sides it is asked to check (ORIGIN,
DESTINATION), every name the transaction carries, each as an entity type of seed 002's
`sanctionsDetails[].entityType`:

============================  ==========================================  =============  ==============
entity type                   where the name comes from                   matched as     hitContext
                                                                                         `entity`
============================  ==========================================  =============  ==============
CONSUMER_NAME                 the side's user, a person: first, middle    person         USER
                              and last name (with the date of birth and
                              nationality / residence countries)
BUSINESS_NAME                 the side's user, an organisation: legal     organisation   USER
                              (registered) name and trade name (with its
                              country of incorporation)
NAME_ON_CARD                  CARD payment details `nameOnCard`           person         EXTERNAL_USER
PAYMENT_NAME                  payment details `name` (bank accounts,      any            EXTERNAL_USER
                              IBAN, ACH, SWIFT, UPI, WALLET, CHECK, CASH)
PAYMENT_BENEFICIARY_NAME      ACH payment details `beneficiaryName`       any            EXTERNAL_USER
BANK_NAME                     payment details `bankName` (UPI:            organisation   BANK
                              `bankProvider`)
============================  ==========================================  =============  ==============

Each name goes through `users.screening.search.search()` (the same retrieval and matcher as
customer screening and the ad-hoc search) restricted to the `sourceKinds` asked (default
SANCTIONS). A candidate is a hit when its score reaches `minScore` when the instance sets one,
else its source kind's threshold (settings.SCREENING_THRESHOLDS). The rule hits when any
screened name has a hit.

What a hit records (`ruleHitMeta.sanctionsDetails`, one item per screened name that hit):

- `name`: the name as the transaction carries it; `entityType`, `hitDirection` (its side),
  `isRuleHit` true, `iban` for an IBAN instrument's names;
- `requestHash`: sha256 of the normalised request (the name's canonical tokens, the matcher
  schema, date of birth, countries, source kinds, minimum score), as canonical JSON — equal
  requests have equal hashes whatever the spelling of spaces, case or word order;
- `searchId`: a UUID derived from the transaction id, the side, the entity type and the
  request hash: stable when the same transaction is screened again, distinct per search;
- `sanctionHitIds`: the hit entries as `<source code>:<external id>` (the list's own id of
  the entry, e.g. `ofac-sdn:36`), best first — the ids an analyst can look up on the list,
  stable across re-imports (the database ids of entries are not exposed);
- `hitContext`: `entity` (USER, EXTERNAL_USER, BANK, see the table), `entityType`, `userId`
  (the side's user, when it has one), `transactionId`, `ruleId`, `ruleInstanceId` (set by
  the engine, which knows the instance), `iban`, `yearOfBirth` (a person user with a date of
  birth), `searchTerm` (the name searched), `paymentMethodId` (the instrument's
  `METHOD:value` identifier, for payment names). Keys without a value are left out.

The evidence (`detail.data.screening`) lists every name screened, with the candidates that
hit: entry, list, matched name, score, threshold and the matcher's explanation. `vars`
lists the names screened per side.

Cost: the template only runs for active instances whose filters let the transaction in; a
transaction without names costs no query; within one evaluation, the same request (two
entity types carrying the same name, or two instances of this template) is searched once.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from rules.library.amounts import transaction_data
from rules.library.base import DESTINATION, ORIGIN, Outcome, rule
from users.models.screening import SourceKind
from users.screening.normalise import ANY, ORGANIZATION, PERSON, prepare
from users.screening.search import search

RULE_ID = "R-16"

CONSUMER_NAME = "CONSUMER_NAME"
BUSINESS_NAME = "BUSINESS_NAME"
NAME_ON_CARD = "NAME_ON_CARD"
PAYMENT_NAME = "PAYMENT_NAME"
PAYMENT_BENEFICIARY_NAME = "PAYMENT_BENEFICIARY_NAME"
BANK_NAME = "BANK_NAME"
ENTITY_TYPES = (CONSUMER_NAME, BUSINESS_NAME, NAME_ON_CARD, PAYMENT_NAME, PAYMENT_BENEFICIARY_NAME, BANK_NAME)

# entity type -> (matcher schema, hitContext.entity)
KINDS = {
    CONSUMER_NAME: (PERSON, "USER"),
    BUSINESS_NAME: (ORGANIZATION, "USER"),
    NAME_ON_CARD: (PERSON, "EXTERNAL_USER"),
    PAYMENT_NAME: (ANY, "EXTERNAL_USER"),
    PAYMENT_BENEFICIARY_NAME: (ANY, "EXTERNAL_USER"),
    BANK_NAME: (ORGANIZATION, "BANK"),
}

# Candidates kept per name (the best first); the hit ids and evidence list at most these.
CANDIDATES_PER_NAME = 10

SEARCH_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:compliance:transaction-screening")


def _text(value) -> str:
    """A name as one string: a string as sent, or a {firstName, middleName, lastName} object."""
    if isinstance(value, dict):
        value = " ".join(
            str(value.get(part) or "").strip() for part in ("firstName", "middleName", "lastName")
        )
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())


def _user_countries(user) -> tuple[str, ...]:
    from transactions.countries import countries_by_id

    by_id = countries_by_id()
    ids = (
        (user.country_incorporation_id,)
        if user.is_organisation
        else (user.country_nationality_id, user.country_residence_id)
    )
    return tuple(sorted({by_id[pk].alpha2 for pk in ids if pk in by_id}))


def names_of(ctx, directions: list[str], entity_types: list[str]) -> list[dict]:
    """The names to screen on the transaction: one dict per (side, entity type, name), in order."""
    found: list[dict] = []
    seen: set[tuple] = set()
    transaction_id = ctx.transaction.transaction_id

    def add(direction, entity_type, name, *, user=None, birth_date=None, countries=(), payment=None):
        name = _text(name)
        key = (direction, entity_type, name.casefold())
        if not name or entity_type not in entity_types or key in seen:
            return
        seen.add(key)
        schema, entity = KINDS[entity_type]
        context = {"entity": entity, "entityType": entity_type}
        if user is not None:
            context["userId"] = user.external_ref
        context.update(transactionId=transaction_id, ruleId=RULE_ID)
        iban = payment.get("IBAN") if payment else None
        if iban:
            context["iban"] = iban
        if birth_date is not None:
            context["yearOfBirth"] = birth_date.year
        context["searchTerm"] = name
        if payment is not None and ctx.payment_identifier(direction):
            context["paymentMethodId"] = ctx.payment_identifier(direction)
        found.append(
            {
                "direction": direction,
                "entityType": entity_type,
                "name": name,
                "schema": schema,
                "birthDate": birth_date,
                "countries": countries,
                "iban": iban or None,
                "hitContext": context,
            }
        )

    for direction in (ORIGIN, DESTINATION):
        if direction not in directions:
            continue
        user = ctx.user(direction)
        if user is not None:
            if user.is_organisation:
                if BUSINESS_NAME in entity_types:
                    countries = _user_countries(user)
                    for name in (user.registered_name, user.trade_name):
                        add(direction, BUSINESS_NAME, name, user=user, countries=countries)
            elif CONSUMER_NAME in entity_types:
                add(
                    direction,
                    CONSUMER_NAME,
                    user.display_name,
                    user=user,
                    birth_date=user.date_birth,
                    countries=_user_countries(user),
                )
        details = ctx.payment_details(direction)
        if details:
            for entity_type, field in (
                (NAME_ON_CARD, "nameOnCard"),
                (PAYMENT_NAME, "name"),
                (PAYMENT_BENEFICIARY_NAME, "beneficiaryName"),
                (BANK_NAME, "bankName"),
                (BANK_NAME, "bankProvider"),
            ):
                if details.get(field):
                    add(direction, entity_type, details[field], user=user, payment=details)
    return found


def _request(prepared, item: dict, params: dict) -> dict:
    """The normalised request: what decides the answer of one search."""
    birth_date = item["birthDate"]
    return {
        "name": prepared.comparable,
        "schema": prepared.schema,
        "birthDate": birth_date.isoformat() if birth_date else None,
        "countries": sorted(item["countries"]),
        "sourceKinds": sorted(params["sourceKinds"]),
        "minScore": params.get("minScore"),
    }


def _search(ctx, prepared, item: dict, params: dict, request_hash: str) -> list:
    """The hits for one request; the same request within one evaluation is searched once."""
    memo = ctx._memo  # the evaluation's memo (rules.engine.context), shared by every instance
    memo_key = ("screening", request_hash)
    if memo_key not in memo:
        min_score = params.get("minScore")
        candidates = search(
            prepared,
            birth_date=item["birthDate"],
            countries=list(item["countries"]) or None,
            source_kinds=params["sourceKinds"],
            min_score=min_score,
            limit=CANDIDATES_PER_NAME,
        )
        memo[memo_key] = [
            candidate
            for candidate in candidates
            if candidate.score >= (candidate.threshold if min_score is None else min_score)
        ]
    return memo[memo_key]


def _hit_document(candidate, min_score) -> dict:
    entry = candidate.entry
    return {
        "id": f"{entry.source.code}:{entry.external_id}",
        "entryName": entry.name,
        "schema": entry.schema,
        "sourceCode": entry.source.code,
        "sourceKind": entry.source.kind,
        "matchedName": candidate.result.matched_name,
        "score": candidate.score,
        "threshold": candidate.threshold if min_score is None else min_score,
        "explanation": candidate.result.explanation,
    }


@rule(
    id=RULE_ID,
    name="Screen transaction parties",
    description="Screens the names on the transaction against the watchlists: the users' names "
    "(CONSUMER_NAME for a person, with date of birth and countries; BUSINESS_NAME for an "
    "organisation's legal and trade names) and the payment details' names (NAME_ON_CARD: a card's "
    "nameOnCard; PAYMENT_NAME: an account's or wallet's `name`; PAYMENT_BENEFICIARY_NAME: ACH "
    "`beneficiaryName`; BANK_NAME: `bankName` / UPI `bankProvider`), on the sides in `directions`, "
    "for the `entityTypes` asked, against the lists of the `sourceKinds` asked. A name hits when a "
    "list entry scores at least `minScore`, or without it the threshold of the entry's source kind. "
    "Hits are reported in ruleHitMeta.sanctionsDetails, one item per name that hit (sanctionHitIds: "
    "`<list code>:<entry id on the list>`).",
    nature="SCREENING",
    labels=("SANCTIONS",),
    schema={
        "properties": {
            "entityTypes": {
                "type": "array",
                "items": {"enum": list(ENTITY_TYPES)},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Which names to screen.",
            },
            "sourceKinds": {
                "type": "array",
                "items": {"enum": list(SourceKind.values)},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Which kinds of lists to screen against.",
            },
            "directions": {
                "type": "array",
                "items": {"enum": [ORIGIN, DESTINATION]},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Which sides of the transaction to screen.",
            },
            "minScore": {
                "type": "number",
                "minimum": 0,
                "maximum": 100,
                "description": "Hit at this score (0-100) instead of each list kind's threshold.",
            },
        },
        "required": ["entityTypes", "sourceKinds", "directions"],
    },
    defaults={
        "entityTypes": list(ENTITY_TYPES),
        "sourceKinds": [SourceKind.SANCTIONS.value],
        "directions": [ORIGIN, DESTINATION],
    },
)
def screen_transaction_parties(ctx, params) -> Outcome:
    min_score = params.get("minScore")
    screened, details, searches = [], [], set()
    for item in names_of(ctx, params["directions"], params["entityTypes"]):
        schema = item["schema"]
        prepared = prepare(item["name"], schema=schema)
        if not prepared:  # nothing comparable (punctuation, honorifics only): nothing to search
            continue
        request = _request(prepared, item, params)
        request_hash = hashlib.sha256(
            json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        searches.add(request_hash)
        hits = _search(ctx, prepared, item, params, request_hash)
        screened.append(
            {
                "direction": item["direction"],
                "entityType": item["entityType"],
                "name": item["name"],
                "requestHash": request_hash,
                "hits": [_hit_document(candidate, min_score) for candidate in hits],
            }
        )
        if not hits:
            continue
        search_id = uuid.uuid5(
            SEARCH_NAMESPACE,
            f"{ctx.transaction.transaction_id}/{item['direction']}/{item['entityType']}/{request_hash}",
        )
        detail = {"name": item["name"], "searchId": str(search_id), "requestHash": request_hash}
        if item["iban"]:
            detail["iban"] = item["iban"]
        detail.update(
            entityType=item["entityType"],
            sanctionHitIds=[f"{c.entry.source.code}:{c.entry.external_id}" for c in hits],
            hitContext=dict(item["hitContext"]),
            hitDirection=item["direction"],
            isRuleHit=True,
        )
        details.append(detail)
    directions = [d for d in (ORIGIN, DESTINATION) if any(detail["hitDirection"] == d for detail in details)]
    data = {
        "transaction": transaction_data(ctx),
        "rule": {
            "entityTypes": params["entityTypes"],
            "sourceKinds": params["sourceKinds"],
            "directions": params["directions"],
            **({"minScore": min_score} if min_score is not None else {}),
        },
        "screening": {"namesScreened": len(screened), "searches": len(searches), "names": screened},
    }
    return Outcome(
        bool(details),
        data,
        hit_directions=directions or [ORIGIN],
        vars=[
            {
                "value": {
                    "screenedNames": [s["name"] for s in screened if s["direction"] == d],
                    "hitNames": [s["name"] for s in screened if s["direction"] == d and s["hits"]],
                },
                "direction": d,
            }
            for d in (ORIGIN, DESTINATION)
            if any(s["direction"] == d for s in screened)
        ],
        sanctions_details=details,
    )
