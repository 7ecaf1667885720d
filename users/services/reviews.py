"""Four-eyes review of risk trails, and the periodic customer reviews an approval schedules."""

from __future__ import annotations

import calendar
from datetime import date

from django.db import transaction
from django.utils import timezone

from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ConflictError, ForbiddenError, NotFoundError
from compliance.models import AuditTrail
from users.models import Customer, Review, ReviewPolicy, RiskTrail

APPROVED = 1


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def next_review_date(level: str, *, start: date | None = None) -> date:
    """When a customer of `level` is next due, by the review policy (12 months if none)."""
    months = ReviewPolicy.objects.filter(level=level).values_list("review_months", flat=True).first() or 12
    return add_months(start or timezone.localdate(), months)


@transaction.atomic
def risk_trail_review(
    *, actor: Actor, trail_id, approval_status, risk_type, comments: str | None
) -> list[int]:
    """Approve or reject a risk trail; an approval schedules the customer's next review.

    Four eyes: the reviewer must be a person (not an API key) other than the one whose
    change produced the trail. A trail is reviewed once. Answers the ids of the reviews
    scheduled (seed 003 `[{"idReview": N}]`): the customer's one open review, moved to the
    date the review policy gives the trail's level, or a new one.
    """
    reviewer = actor.user
    if reviewer is None or actor.api_key is not None:
        raise ForbiddenError("Risk trails are approved by a person, not an API key.")
    try:
        trail = RiskTrail.objects.select_for_update().get(pk=int(trail_id), customer__deleted_at__isnull=True)
    except (RiskTrail.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFoundError("The risk trail does not exist.") from None
    if trail.created_by_id is not None and trail.created_by_id == reviewer.pk:
        raise ForbiddenError("Four eyes: a risk trail is approved by someone other than whoever caused it.")
    if trail.reviewed:
        raise ConflictError("The risk trail was reviewed already.")
    before = snapshot(trail, exclude=("breakdown", "contaminators"))
    trail.reviewed = True
    trail.reviewed_date = timezone.now()
    trail.reviewer = reviewer
    trail.approval_status = approval_status
    trail.risk_type = risk_type
    trail.comments = comments
    trail.save(
        update_fields=["reviewed", "reviewed_date", "reviewer", "approval_status", "risk_type", "comments"]
    )
    audit_log(
        actor=actor,
        action=AuditTrail.Action.APPROVE,
        instance=trail,
        before=before,
        after=snapshot(trail, exclude=("breakdown", "contaminators")),
    )
    if approval_status.pk != APPROVED:
        return []
    customer = Customer.objects.select_for_update().get(pk=trail.customer_id)
    scheduled = next_review_date(trail.level)
    review = Review.objects.select_for_update().filter(customer=customer, reviewed=False).first()
    if review is None:
        review = Review.objects.create(
            customer=customer, scheduled_date=scheduled, scheduler=reviewer, risk_trail=trail
        )
        audit_log(actor=actor, action=AuditTrail.Action.CREATE, instance=review, after=snapshot(review))
    else:
        review_before = snapshot(review)
        review.scheduled_date, review.scheduler, review.risk_trail = scheduled, reviewer, trail
        review.save(update_fields=["scheduled_date", "scheduler", "risk_trail"])
        audit_log(
            actor=actor,
            action=AuditTrail.Action.UPDATE,
            instance=review,
            before=review_before,
            after=snapshot(review),
        )
    Customer.objects.filter(pk=customer.pk).update(next_review_date=scheduled)
    return [review.pk]
