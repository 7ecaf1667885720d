"""Screening hits: matcher candidates become the customer's screening risks (seed 003 shape),
and analysts review them.

`record_hits` is the one path from a matcher candidate to a `ScreeningRisk` row, whoever
screened (a customer's own screening, ongoing screening after a list import). A customer
has at most one row per list entry: a candidate for an entry already hit is not recorded
again, unless the entry changed since (its md5 differs), when the row takes the new
content and goes back to the analysts (`inspected` False). New and re-raised hits publish
`screening.hit_found`.

`screening_risk_review` marks a hit CONFIRMED, DISMISSED or back to PENDING; the seed 003
`PUT /screening-risks/{id}` (`users.services.kyc.kyc_row_update`) has the same effects
through `review_effects`: `screening.hit_reviewed`, and the customer's `pepStatus` for PEP
lists. Both re-score the customer (the Screening risk factor reads the rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from compliance import events
from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError, NotFoundError
from compliance.models import AuditTrail
from users.models import Customer, ScreeningRisk
from users.models.screening import SourceKind, WatchlistEntry
from users.screening.search import Candidate
from users.services.common import WriteResult, lock_customer, row_snapshot, touch
from users.services.risk import customer_risk_refresh

# Source kind -> reference ScreeningRiskType (compliance/reference/data/lookups.json).
SCREENING_RISK_TYPES = {
    SourceKind.SANCTIONS: 1,
    SourceKind.PEP: 2,
    SourceKind.WATCHLIST: 3,
    SourceKind.ADVERSE_MEDIA: 4,
    SourceKind.INTERNAL: 5,
}
PEP_RISK_TYPE = SCREENING_RISK_TYPES[SourceKind.PEP]

CONFIRMED, DISMISSED, PENDING = "CONFIRMED", "DISMISSED", "PENDING"
# status -> (inspected, confirmed)
REVIEW_FLAGS = {CONFIRMED: (True, True), DISMISSED: (True, False), PENDING: (False, False)}


def review_status(row: ScreeningRisk) -> str:
    """A hit's review status from its flags: confirmed wins; inspected and not confirmed is dismissed."""
    if row.confirmed:
        return CONFIRMED
    return DISMISSED if row.inspected else PENDING


# --- recording hits ------------------------------------------------------------------------


def _best_per_entry(candidates: Iterable) -> dict[int, tuple[str, Candidate]]:
    """`candidates` are `Candidate`s or `(searched name, Candidate)` pairs; the best per entry."""
    best: dict[int, tuple[str, Candidate]] = {}
    for item in candidates:
        searched, candidate = item if isinstance(item, tuple) else ("", item)
        entry_id = candidate.entry.pk
        if entry_id not in best or candidate.result.score > best[entry_id][1].result.score:
            best[entry_id] = (searched, candidate)
    return best


def match_of(candidate: Candidate, searched_name: str) -> dict:
    """What the matcher said, as stored on the row (`match`) and shown to the analyst."""
    result = candidate.result
    return {
        "matchedName": result.matched_name,
        "kind": result.kind,
        "matchedTokens": [list(t) for t in result.matched_tokens],
        "adjustments": [list(a) for a in result.adjustments],
        "explanation": result.explanation,
        "searchedName": searched_name,
    }


def _content(entry: WatchlistEntry, candidate: Candidate, searched_name: str) -> dict:
    """The row's fields that come from the entry and the match (seed 003 shape)."""
    return {
        "screening_risk_type_id": SCREENING_RISK_TYPES.get(
            entry.source.kind, SCREENING_RISK_TYPES["WATCHLIST"]
        ),
        "identifier": entry.external_id[:100],
        "type": entry.source.name[:100],
        "full_name": entry.name[:300],
        "json": json.dumps(entry.raw, ensure_ascii=False, sort_keys=True),
        "md5": entry.md5,
        "score": max(0, min(100, round(candidate.result.score))),
        "match": match_of(candidate, searched_name),
    }


def hit_found_payload(
    customer: Customer, row: ScreeningRisk, entry: WatchlistEntry, *, ongoing: bool, import_run_id
) -> dict:
    match = row.match or {}
    return {
        "userId": customer.external_ref,
        "customerId": customer.pk,
        "screeningRiskId": row.pk,
        "entryId": entry.pk,
        "externalId": entry.external_id,
        "sourceCode": entry.source.code,
        "sourceKind": entry.source.kind,
        "entitySchema": entry.schema,
        "searchedName": match.get("searchedName", ""),
        "matchedName": match.get("matchedName", ""),
        "score": row.score,
        "explanation": match.get("explanation", ""),
        "isOngoingScreeningHit": ongoing,
        "importRunId": import_run_id,
    }


def record_hits(
    *, customer: Customer, candidates, actor: Actor, ongoing: bool = False, import_run_id=None
) -> list[ScreeningRisk]:
    """Turn matcher candidates of one customer into screening risks; answers the rows that
    are new hits (created, or re-raised because their entry changed).

    `candidates`: `users.screening.search.Candidate`s, or `(searched name, Candidate)`
    pairs (the name of the customer that matched: it is stored and published). Several
    candidates of one entry keep the best. Idempotent: the same candidates again record
    nothing. One transaction, the customer locked; audited; re-scores the customer when
    anything was raised.
    """
    best = _best_per_entry(candidates)
    if not best:
        return []
    with transaction.atomic():
        customer = lock_customer(customer)
        entries = WatchlistEntry.objects.select_related("source").in_bulk(list(best))
        existing = {
            row.watchlist_entry_id: row
            for row in ScreeningRisk.objects.select_for_update().filter(
                customer=customer, watchlist_entry_id__in=list(best)
            )
        }
        raised: list[ScreeningRisk] = []
        added, reraised = [], []
        for entry_id in sorted(best):
            entry = entries.get(entry_id)
            if entry is None:
                continue
            searched, candidate = best[entry_id]
            content = _content(entry, candidate, searched)
            row = existing.get(entry_id)
            if row is None:
                row = ScreeningRisk(customer=customer, watchlist_entry=entry, ongoing=ongoing, **content)
                try:
                    with transaction.atomic():
                        row.save()
                except IntegrityError:
                    # Recorded meanwhile by another screening of this customer: that one raised it.
                    continue
                added.append(row_snapshot(row))
            elif row.md5 != entry.md5:
                before = row_snapshot(row)
                # The last review and the pepStatus item the hit added stay with it.
                kept = {k: v for k, v in (row.match or {}).items() if k in ("review", "pepStatusAdded")}
                for name in ("json", "md5", "score", "full_name", "type", "identifier"):
                    setattr(row, name, content[name])
                row.match = {**content["match"], **kept}
                row.inspected = False
                row.ongoing = ongoing
                row.save()
                reraised.append({"before": before, "after": row_snapshot(row)})
            else:
                continue
            raised.append(row)
            events.publish(
                "screening.hit_found",
                hit_found_payload(customer, row, entry, ongoing=ongoing, import_run_id=import_run_id),
                aggregate=customer,
            )
        if not raised:
            return []
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=customer,
            after={"screeningRisks": {"added": added, "reraised": reraised}},
        )
        touch(customer, actor)
        cause = "ongoing screening hits" if ongoing else "screening hits"
        customer_risk_refresh(customer_ids=[customer.pk], actor=actor, cause=cause)
    return raised


# --- reviewing hits ------------------------------------------------------------------------


def _pep_item(row: ScreeningRisk) -> dict:
    """The `pepStatus` item a confirmed PEP hit stands for (seed 004 shape)."""
    entry = row.watchlist_entry
    countries = [*entry.nationalities, *entry.countries] if entry is not None else []
    country = next((c.upper() for c in countries if c and len(c) == 2), None)
    return {"isPepHit": True, "pepCountry": country}


def _is_pep(row: ScreeningRisk) -> bool:
    if row.watchlist_entry_id is not None:
        return row.watchlist_entry.source.kind == SourceKind.PEP
    return False


def _pep_status_change(customer: Customer, row: ScreeningRisk, status: str) -> tuple[list, list] | None:
    """Add (confirmed) or remove (no longer confirmed) what a PEP hit puts in `pepStatus`.

    The row remembers in `match.pepStatusAdded` the item it added, so dismissing removes
    only that, and only when no other confirmed PEP hit of the customer stands for the same
    item. An item already present (sent by the integrator) is not added twice nor removed.
    Answers (before, after) when `pepStatus` changed.
    """
    if not _is_pep(row):
        return None
    current = list(customer.pep_status or [])
    match = dict(row.match or {})
    if status == CONFIRMED:
        item = _pep_item(row)
        if match.get("pepStatusAdded") or any(
            isinstance(i, dict) and i.get("isPepHit") and i.get("pepCountry") == item["pepCountry"]
            for i in current
        ):
            return None
        match["pepStatusAdded"] = item
        row.match = match
        row.save(update_fields=["match"])
        new = [*current, item]
    else:
        item = match.pop("pepStatusAdded", None)
        if not item:
            return None
        row.match = match
        row.save(update_fields=["match"])
        others = (
            ScreeningRisk.objects.filter(customer=customer, confirmed=True)
            .exclude(pk=row.pk)
            .select_related("watchlist_entry__source")
        )
        if any(_is_pep(other) and _pep_item(other) == item for other in others):
            return None
        new = [i for i in current if i != item]
        if new == current:
            return None
    Customer.all_objects.filter(pk=customer.pk).update(pep_status=new)
    customer.pep_status = new
    return current, new


def review_effects(*, customer: Customer, row: ScreeningRisk, before_status: str) -> dict:
    """What a review status change of a hit entails (call inside the write's transaction,
    the customer locked, after saving the row's new flags): `pepStatus` for PEP lists and
    `screening.hit_reviewed`. Answers what to add to the audit row's before/after."""
    status = review_status(row)
    if status == before_status:
        return {}
    audit: dict = {}
    pep = _pep_status_change(customer, row, status)
    if pep is not None:
        audit = {"before": {"pepStatus": pep[0]}, "after": {"pepStatus": pep[1]}}
    events.publish(
        "screening.hit_reviewed",
        {
            "userId": customer.external_ref,
            "customerId": customer.pk,
            "screeningRiskId": row.pk,
            "entryId": row.watchlist_entry_id,
            "status": status,
            "isOngoingScreeningHit": row.ongoing,
        },
        aggregate=customer,
    )
    return audit


def removal_effects(*, customer: Customer, row: ScreeningRisk) -> dict:
    """Before a hit is deleted (seed 003 DELETE): take back what it put in `pepStatus`.
    Answers what to add to the audit row's before/after."""
    pep = _pep_status_change(customer, row, PENDING)
    if pep is None:
        return {}
    return {"before": {"pepStatus": pep[0]}, "after": {"pepStatus": pep[1]}}


@transaction.atomic
def screening_risk_review(
    *, actor: Actor, screening_risk: ScreeningRisk | int, status: str, comment: str = ""
) -> WriteResult:
    """Mark a hit CONFIRMED (it is the customer), DISMISSED (a false positive) or back to
    PENDING; audited (with the comment), announced, and the customer re-scored."""
    status = str(status).upper()
    if status not in REVIEW_FLAGS:
        raise ApplicationError(errors={"status": [f"Must be one of {', '.join(REVIEW_FLAGS)}."]})
    pk = screening_risk.pk if isinstance(screening_risk, ScreeningRisk) else screening_risk
    customer_id = ScreeningRisk.objects.filter(pk=pk).values_list("customer_id", flat=True).first()
    if customer_id is None:
        raise NotFoundError(f"There is no screening risk {pk}.")
    customer = lock_customer(customer_id)
    row = (
        ScreeningRisk.objects.select_for_update(of=("self",))
        .select_related("watchlist_entry__source")
        .get(pk=pk)
    )
    before = row_snapshot(row)
    before_status = review_status(row)
    row.inspected, row.confirmed = REVIEW_FLAGS[status]
    row.match = {
        **(row.match or {}),
        "review": {"status": status, "comment": comment, "by": actor.label},
    }
    row.save(update_fields=["inspected", "confirmed", "match", "updated_at"])
    extra = review_effects(customer=customer, row=row, before_status=before_status)
    audit = audit_log(
        actor=actor,
        action=AuditTrail.Action.UPDATE,
        instance=customer,
        before={"screeningRisks": [before], **extra.get("before", {})},
        after={
            "screeningRisks": [row_snapshot(row)],
            "review": {"status": status, "comment": comment},
            **extra.get("after", {}),
        },
    )
    touch(customer, actor)
    trails = customer_risk_refresh(
        customer_ids=[customer.pk], actor=actor, cause=f"screening hit {status.lower()}"
    )
    return WriteResult(customer, audit.pk, trails.get(customer.pk))
