"""`ruleHitMeta.falsePositiveDetails` (seed 002): what analysts concluded about a rule on a user.

When a rule hits a user, the alerts it raised on that user before tell how much the hit is
worth: if analysts closed most of them as "False positive", this one probably is too. The
engine (rules) cannot read cases, so it asks through `transactions.monitoring`'s hit-annotator
seam, which this module fills (registered in `CasesConfig.ready()`).

For each hit aimed at users (its `hitDirections`), over the alerts of the same rule instance
on those users' cases closed in the last CASE_FALSE_POSITIVE_LOOKBACK_DAYS: `confidenceScore`
is the share (0-100, one decimal) closed as "False positive" (the alert's latest closing
reason), and `isFalsePositive` says at least CASE_FALSE_POSITIVE_MIN_CLOSED were closed and at
least CASE_FALSE_POSITIVE_SHARE of them as false positives. A hit with no closed history gets
no `falsePositiveDetails`. It informs the analyst; it never changes the hit's action (a rule
that keeps crying wolf is tuned by the compliance admin, not silenced by the engine).

One query per transaction with hits on users, none otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cases.models import Alert, CaseStatus, StatusChange, StatusReason

DIRECTIONS = (("ORIGIN", "origin_user_id"), ("DESTINATION", "destination_user_id"))


def _customers_hit(transaction, item: dict) -> set[int]:
    directions = (item.get("ruleHitMeta") or {}).get("hitDirections") or []
    return {
        getattr(transaction, field)
        for direction, field in DIRECTIONS
        if direction in directions and getattr(transaction, field)
    }


def annotate_false_positives(transaction, hit_items: list[dict]) -> None:
    wanted = {id(item): _customers_hit(transaction, item) for item in hit_items}
    customers = set().union(*wanted.values())
    if not customers:
        return
    instance_refs = {str(item["ruleInstanceId"]) for item in hit_items if wanted[id(item)]}
    latest_close = (
        StatusChange.objects.filter(alert=OuterRef("pk"), to_status=CaseStatus.CLOSED)
        .order_by("-created_at", "-id")
        .values("reason")[:1]
    )
    since = timezone.now() - timedelta(days=settings.CASE_FALSE_POSITIVE_LOOKBACK_DAYS)
    closed = (
        Alert.objects.filter(
            status=CaseStatus.CLOSED,
            closed_at__gte=since,
            case__customer_id__in=customers,
            rule_instance_ref__in=instance_refs,
        )
        .annotate(close_reason=Subquery(latest_close))
        .values_list("rule_instance_ref", "case__customer_id", "close_reason")
    )
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])  # closed, false positives
    for instance_ref, customer_id, reason in closed:
        count = counts[(instance_ref, customer_id)]
        count[0] += 1
        count[1] += reason == StatusReason.FALSE_POSITIVE
    for item in hit_items:
        total = false_positives = 0
        for customer_id in wanted[id(item)]:
            n, fp = counts.get((str(item["ruleInstanceId"]), customer_id), (0, 0))
            total, false_positives = total + n, false_positives + fp
        if not total:
            continue
        share = false_positives / total
        item["ruleHitMeta"]["falsePositiveDetails"] = {
            "isFalsePositive": total >= settings.CASE_FALSE_POSITIVE_MIN_CLOSED
            and share >= settings.CASE_FALSE_POSITIVE_SHARE,
            "confidenceScore": round(100 * share, 1),
        }
