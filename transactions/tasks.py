"""Celery entry points of the transactions app: thin wrappers over services."""

from celery import shared_task

from compliance.tasks import RETRY


@shared_task(name="transactions.process_batch_chunk", acks_late=True, **RETRY)
def process_batch_chunk(batch_pk: int, first_position: int, last_position: int) -> int:
    """Apply the pending items of one chunk of a batch (positions first..last). Idempotent:
    an item is applied and marked in one transaction, and marked items are skipped, so a
    redelivered or retried chunk applies each item once."""
    from transactions import batches

    return batches.process_chunk(batch_pk, first_position, last_position)


@shared_task(name="transactions.resume_batches", acks_late=True, expires=55, **RETRY)
def resume_batches() -> int:
    """Beat, every minute: queue again the chunks of batches that stalled (see
    `batches.resume_stalled`)."""
    from transactions import batches

    return batches.resume_stalled()
