"""Reads of customers beyond one line. The seed 003 document built from them is `users.api.documents`."""

from __future__ import annotations

from django.db.models import QuerySet

from compliance.errors import NotFoundError
from compliance.reference.registry import lookup_model
from users.lists import CHECKED_BY_ID
from users.models import Customer

_CHECKED_TABLES = {
    "checked_documents": "document-types",
    "checked_activity_risks": "activity-risks",
    "checked_behavior_risks": "behavior-risks",
    "checked_enhanced_checks": "enhanced-checks",
}


def customer_get(ref: str) -> Customer:
    """The live customer with this internal customer number, or 404."""
    try:
        return Customer.objects.get(external_ref=ref)
    except Customer.DoesNotExist:
        raise NotFoundError(f"No customer {ref}.") from None


def checked_table(list_id: str):
    """The reference table whose rows a checked list ticks."""
    return lookup_model(_CHECKED_TABLES[CHECKED_BY_ID[list_id].field])


def customer_list() -> QuerySet[Customer]:
    """Live customers in a stable order; `users.filters.CustomerFilter` narrows it."""
    return Customer.objects.order_by("id")
