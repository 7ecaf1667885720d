"""Batch ingestion (seed 002): six endpoints posting many transactions, transaction events,
consumer (individual) users, business (entity) users or their events at once.

A batch is stored when it is posted — the batch row and all its items, one bulk INSERT — and
answered at once (202); workers then apply the items, a chunk of positions per Celery task
(`transactions.process_batch_chunk`). Each item is validated by the serializer of the single-item
endpoint and applied by the same service, so a batched transaction is judged exactly as a posted
one (same rules, decisions, executed rules, events, alerts and cases).

Exactly once: an item is applied in its own database transaction, which also marks it OK with
the stored object's id — the effect and the mark commit together or not at all, so a worker
killed mid-chunk leaves the item PENDING with nothing applied, and the chunk's redelivered task
(acks late) applies it then. An item already OK or ERROR is skipped; an item another worker is
applying is locked (PostgreSQL) and skipped. Events posted without an `eventId` get one derived
from the batch and the position, so even a re-application would be a replay, never a second
event. A bad item is marked ERROR with its errors (the 400 body's `errors`) and never sinks the
others.

Chunks whose tasks never ran (broker down when the batch was posted) or whose worker died are
queued again by the `transactions.resume_batches` beat job once the batch has made no progress
for BATCH_RESUME_AFTER_SECONDS (`resume_stalled`); a redelivered copy is harmless.

Posting a `batchId` again (per kind) with the same items answers the existing batch and
processes nothing; with other items it is a 409.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError, ConflictError, NotFoundError
from compliance.models import AuditTrail
from transactions.models import Batch, BatchItem
from users.services.user_api import payload_digest

logger = logging.getLogger(__name__)

# --- what each kind validates, applies and answers -------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Kind:
    kind: str
    # The path under /api/batch/ and the key of the list in the GET answer (seed 002).
    path: str
    results_key: str
    # (actor, payload) -> the stored object's id; raises ValidationError / ApplicationError.
    apply: Callable[[Actor, dict], str]
    # refs -> {ref: document as the single GET answers it}
    documents: Callable[[list[str]], dict[str, dict]]
    # Items without an `eventId` get one derived from the batch and the position.
    derives_event_id: bool = False


def _flatten(detail) -> list[dict]:
    from compliance.api.errors import flatten_errors

    return flatten_errors(detail)


def _apply_transaction(actor: Actor, payload: dict) -> str:
    from transactions import services
    from transactions.api.serializers import TransactionSerializer, transaction_fields, validated

    fields = transaction_fields(validated(TransactionSerializer, payload))
    return services.transaction_verify(actor=actor, fields=fields, payload=payload).transaction.transaction_id


def _apply_transaction_event(actor: Actor, payload: dict) -> str:
    from transactions import services
    from transactions.api.serializers import TransactionEventSerializer, validated

    data = {
        **validated(TransactionEventSerializer, payload),
        "raw_attributes": payload["updatedTransactionAttributes"],
    }
    return services.transaction_event_create(actor=actor, data=data, payload=payload).event.event_id


def _user_upsert(serializer_name: str, service_name: str):
    def apply(actor: Actor, payload: dict) -> str:
        from users.api import user_serializers
        from users.services import user_api

        serializer = getattr(user_serializers, serializer_name)(data=payload)
        serializer.is_valid(raise_exception=True)
        result = getattr(user_api, service_name)(actor=actor, data=serializer.to_user_data())
        return result.customer.external_ref

    return apply


def _user_event(serializer_name: str, kind: str):
    def apply(actor: Actor, payload: dict) -> str:
        from users.api import user_serializers
        from users.services import user_api

        serializer = getattr(user_serializers, serializer_name)(data=payload)
        serializer.is_valid(raise_exception=True)
        result = user_api.user_event_apply(actor=actor, kind=kind, data=serializer.to_event_data())
        return result.event.event_id

    return apply


def _transaction_documents(refs: list[str]) -> dict[str, dict]:
    from transactions import services
    from transactions.api.views import transaction_answer

    return {ref: transaction_answer(services.transaction_get(ref)) for ref in refs}


def _transaction_event_documents(refs: list[str]) -> dict[str, dict]:
    from transactions import documents
    from transactions.models import TransactionEvent

    events = TransactionEvent.objects.select_related("transaction").filter(event_id__in=refs)
    return {event.event_id: documents.event_document(event) for event in events}


def _user_documents(person: bool):
    def documents(refs: list[str]) -> dict[str, dict]:
        from users.api.user_serializers import entity_user_document, individual_user_document
        from users.api.user_views import user_queryset
        from users.models.customers import ORGANISATION, PERSON

        customers = user_queryset(PERSON if person else ORGANISATION).filter(external_ref__in=refs)
        document = individual_user_document if person else entity_user_document
        return {customer.external_ref: document(customer) for customer in customers}

    return documents


def _user_event_documents(kind: str):
    def documents(refs: list[str]) -> dict[str, dict]:
        from users.api.user_serializers import user_event_document
        from users.models import UserEvent

        events = UserEvent.objects.filter(
            event_id__in=refs, kind=kind, customer__deleted_at__isnull=True
        ).select_related("customer", "risk_trail")
        return {event.event_id: user_event_document(event) for event in events}

    return documents


def _kinds() -> dict[str, Kind]:
    from users.models import UserEvent

    individual, entity = UserEvent.Kind.INDIVIDUAL, UserEvent.Kind.ENTITY
    kinds = (
        Kind(
            Batch.Kind.TRANSACTIONS,
            "transactions",
            "transactions",
            _apply_transaction,
            _transaction_documents,
        ),
        Kind(
            Batch.Kind.TRANSACTION_EVENTS,
            "events/transaction",
            "transactionEvents",
            _apply_transaction_event,
            _transaction_event_documents,
            derives_event_id=True,
        ),
        Kind(
            Batch.Kind.CONSUMER_USERS,
            "consumer/users",
            "consumerUsers",
            _user_upsert("IndividualUserSerializer", "individual_user_upsert"),
            _user_documents(person=True),
        ),
        Kind(
            Batch.Kind.BUSINESS_USERS,
            "business/users",
            "businessUsers",
            _user_upsert("EntityUserSerializer", "entity_user_upsert"),
            _user_documents(person=False),
        ),
        Kind(
            Batch.Kind.CONSUMER_USER_EVENTS,
            "events/consumer/user",
            "consumerUserEvents",
            _user_event("IndividualUserEventSerializer", individual),
            _user_event_documents(individual),
            derives_event_id=True,
        ),
        Kind(
            Batch.Kind.BUSINESS_USER_EVENTS,
            "events/business/user",
            "businessUserEvents",
            _user_event("EntityUserEventSerializer", entity),
            _user_event_documents(entity),
            derives_event_id=True,
        ),
    )
    return {k.kind: k for k in kinds}


_KINDS: dict[str, Kind] = {}


def kind_of(kind: str) -> Kind:
    if not _KINDS:
        _KINDS.update(_kinds())
    return _KINDS[kind]


# --- posting -------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SubmitResult:
    batch: Batch
    created: bool


def batch_submit(*, actor: Actor, kind: str, batch_id: str, items: list) -> SubmitResult:
    """Store a batch and its items (one bulk INSERT) and queue its chunks after commit.

    The same `batch_id` (of this kind) with the same items answers the existing batch and
    queues nothing; with other items it is a 409 naming `batchId`. Two posts of a new
    `batch_id` at once: one stores it, the other answers as a re-post."""
    digest = payload_digest(items)
    existing = _posted(kind, batch_id, digest)
    if existing is not None:
        return SubmitResult(existing, False)
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                kind=kind,
                batch_id=batch_id,
                total=len(items),
                items_digest=digest,
                created_by=actor.label[:200],
                created_by_user=actor.api_key.user if actor.api_key is not None else actor.user,
                created_by_api_key=actor.api_key,
            )
            BatchItem.objects.bulk_create(
                [
                    BatchItem(batch=batch, position=position, payload=item)
                    for position, item in enumerate(items)
                ],
                batch_size=1000,
            )
            audit_log(actor=actor, action=AuditTrail.Action.CREATE, instance=batch, after=snapshot(batch))
            pk, total = batch.pk, batch.total
            transaction.on_commit(lambda: enqueue_chunks(pk, total), robust=True)
    except IntegrityError:
        existing = _posted(kind, batch_id, digest)
        if existing is None:
            raise
        return SubmitResult(existing, False)
    return SubmitResult(batch, True)


def _posted(kind: str, batch_id: str, digest: str) -> Batch | None:
    """The batch already posted under this id, or None; a 409 when its items differ."""
    existing = Batch.objects.filter(kind=kind, batch_id=batch_id).first()
    if existing is not None and existing.items_digest != digest:
        raise ConflictError(
            f"Batch {batch_id} was posted with other items.",
            errors={"batchId": [f"Batch {batch_id} was posted with other items."]},
        )
    return existing


def enqueue_chunks(batch_pk: int, total: int) -> None:
    from transactions.tasks import process_batch_chunk

    size = settings.BATCH_CHUNK_SIZE
    for first in range(0, total, size):
        process_batch_chunk.delay(batch_pk, first, min(first + size, total) - 1)


def batch_get(kind: str, batch_id: str) -> Batch:
    batch = Batch.objects.filter(kind=kind, batch_id=batch_id).first()
    if batch is None:
        raise NotFoundError(f"There is no batch {batch_id}.")
    return batch


# --- processing ----------------------------------------------------------------------------------------


def _actor(batch: Batch) -> Actor:
    if batch.created_by_api_key is not None:
        return Actor(api_key=batch.created_by_api_key, user=batch.created_by_api_key.user)
    if batch.created_by_user is not None:
        return Actor(user=batch.created_by_user)
    return Actor.system_actor("batch")


def derived_event_id(batch: Batch, position: int) -> str:
    return hashlib.sha256(f"batch:{batch.kind}:{batch.batch_id}:{position}".encode()).hexdigest()[:32]


def _errors_of(exc: Exception) -> list[dict]:
    if isinstance(exc, ValidationError):
        return _flatten(exc.detail)
    if isinstance(exc, ApplicationError):
        return _flatten(exc.errors) if exc.errors else [{"property": "", "issue": exc.message}]
    return [{"property": "", "issue": "The server could not apply this item."}]


def _apply_item(batch: Batch, spec: Kind, actor: Actor, item_pk: int) -> None:
    """Apply one item and mark it OK in one transaction; on a refusal mark it ERROR."""
    try:
        with transaction.atomic():
            item = (
                BatchItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_pk, status=BatchItem.Status.PENDING)
                .first()
            )
            if item is None:  # done meanwhile, or being applied by another worker
                return
            payload = item.payload
            if spec.derives_event_id and isinstance(payload, dict) and not payload.get("eventId"):
                payload = {**payload, "eventId": derived_event_id(batch, item.position)}
            if not isinstance(payload, dict):
                raise ValidationError({"non_field_errors": ["Expected an object."]})
            ref = spec.apply(actor, payload)
            BatchItem.objects.filter(pk=item_pk).update(
                status=BatchItem.Status.OK, result_ref=ref, errors=[], processed_at=timezone.now()
            )
    except (OperationalError, InterfaceError):
        raise  # transient (connection lost, deadlock): the task retries the chunk, the item still PENDING
    except Exception as exc:
        if not isinstance(exc, ValidationError | ApplicationError):
            logger.exception("Batch %s: item %s could not be applied", batch.pk, item_pk)
        BatchItem.objects.filter(pk=item_pk, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.ERROR, errors=_errors_of(exc), processed_at=timezone.now()
        )


def process_chunk(batch_pk: int, first_position: int, last_position: int) -> int:
    """Apply the PENDING items of positions first..last of a batch; answers how many were pending.
    Idempotent: run twice, it applies each item once."""
    batch = (
        Batch.objects.select_related("created_by_api_key__user", "created_by_user")
        .filter(pk=batch_pk)
        .first()
    )
    if batch is None:
        return 0
    now = timezone.now()
    Batch.objects.filter(pk=batch_pk, started_at__isnull=True).update(started_at=now)
    Batch.objects.filter(pk=batch_pk, status=Batch.Status.QUEUED).update(status=Batch.Status.PROCESSING)
    spec = kind_of(batch.kind)
    actor = _actor(batch)
    pending = list(
        BatchItem.objects.filter(
            batch_id=batch_pk,
            status=BatchItem.Status.PENDING,
            position__gte=first_position,
            position__lte=last_position,
        )
        .order_by("position")
        .values_list("pk", flat=True)
    )
    for item_pk in pending:
        _apply_item(batch, spec, actor, item_pk)
    refresh_status(batch_pk)
    return len(pending)


def _count(status: str):
    counted = (
        BatchItem.objects.filter(batch_id=OuterRef("pk"), status=status)
        .order_by()
        .values("batch_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def refresh_status(batch_pk: int) -> None:
    """The batch's counts from its items, in one UPDATE; DONE (or DONE_WITH_ERRORS) and finished
    when none is pending. A finished batch is left as it is."""
    pending = _count(BatchItem.Status.PENDING)
    Batch.objects.filter(pk=batch_pk, finished_at__isnull=True).update(
        succeeded=_count(BatchItem.Status.OK),
        failed=_count(BatchItem.Status.ERROR),
        status=Case(
            When(GreaterThan(pending, 0), then=Value(Batch.Status.PROCESSING)),
            When(GreaterThan(_count(BatchItem.Status.ERROR), 0), then=Value(Batch.Status.DONE_WITH_ERRORS)),
            default=Value(Batch.Status.DONE),
        ),
        finished_at=Case(
            When(GreaterThan(pending, 0), then=Value(None, output_field=DateTimeField())),
            default=Value(timezone.now(), output_field=DateTimeField()),
        ),
    )


def resume_stalled(*, now=None) -> int:
    """Queue again the chunks of unfinished batches that made no progress for
    BATCH_RESUME_AFTER_SECONDS: their tasks never reached a worker (broker down at post time) or
    their worker died (the broker would redeliver only after its visibility timeout). Only chunks
    with pending items are queued; a copy of a chunk still running applies nothing twice.
    Answers how many chunks were queued."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BATCH_RESUME_AFTER_SECONDS)
    size = settings.BATCH_CHUNK_SIZE
    recent = BatchItem.objects.filter(batch_id=OuterRef("pk"), processed_at__gte=cutoff)
    stalled = (
        Batch.objects.filter(finished_at__isnull=True, created_at__lt=cutoff)
        .exclude(Exists(recent))
        .values_list("pk", "total")
    )
    queued = 0
    from transactions.tasks import process_batch_chunk

    for batch_pk, total in stalled:
        positions = BatchItem.objects.filter(batch_id=batch_pk, status=BatchItem.Status.PENDING).values_list(
            "position", flat=True
        )
        chunks = sorted({position // size for position in positions})
        if not chunks:
            refresh_status(batch_pk)  # all applied, the last chunk's update lost
            continue
        logger.warning(
            "Batch %s made no progress since %s: queuing %d chunk(s) again", batch_pk, cutoff, len(chunks)
        )
        for chunk in chunks:
            process_batch_chunk.delay(batch_pk, chunk * size, min((chunk + 1) * size, total) - 1)
        queued += len(chunks)
    return queued


# --- reading back ---------------------------------------------------------------------------------------


def batch_page(batch: Batch, items: list[BatchItem]) -> dict:
    """The documents of a page's applied items, its failed items' errors and its pending positions."""
    spec = kind_of(batch.kind)
    ok = [item for item in items if item.status == BatchItem.Status.OK]
    documents = spec.documents([item.result_ref for item in ok]) if ok else {}
    return {
        spec.results_key: [documents[item.result_ref] for item in ok if item.result_ref in documents],
        "errors": [
            {"position": item.position, "errors": item.errors}
            for item in items
            if item.status == BatchItem.Status.ERROR
        ],
        "pending": [item.position for item in items if item.status == BatchItem.Status.PENDING],
    }
