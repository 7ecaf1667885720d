"""Celery entry points of the customer side: thin wrappers over `users.services`."""

import logging

from celery import shared_task

from compliance.tasks import RETRY

logger = logging.getLogger(__name__)


@shared_task(name="users.refresh_contamination", acks_late=True, **RETRY)
def refresh_contamination(customer_ids: list[int], cause: str) -> int:
    """Settle the contamination of many associates after one customer's risk changed.

    Idempotent: it recomputes from the current scores, so a redelivered task appends no
    trail the first run did not already append.
    """
    from django.db import transaction

    from compliance.audit import Actor
    from users.services.risk import customer_contamination_refresh

    with transaction.atomic():
        changed = customer_contamination_refresh(
            customer_ids=customer_ids, actor=Actor.system_actor("contamination"), cause=cause
        )
    return len(changed)


@shared_task(name="users.recalculate_all_risks", acks_late=True, **RETRY)
def recalculate_all_risks(cause: str = "risk model changed") -> dict:
    """Re-score every customer (after the risk model changed). Safe to run twice."""
    from compliance.audit import Actor
    from users.services.risk import risk_recalculate_all

    result = risk_recalculate_all(actor=Actor.system_actor("risk recalculation"), cause=cause)
    logger.info("Recalculated the risk of %(customers)d customers, %(trails)d trails appended", result)
    return result


from users.screening.tasks import screen_import_run  # noqa: E402, F401  (registered by autodiscovery)
