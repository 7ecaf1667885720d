"""Seed 002 "Batch": POST a batch of items to one of six paths, GET it back by id.

Thin views: the envelope (`batchId`, `data`) is validated here at once, `transactions.batches`
stores the batch and queues it for the workers (202), and the read back pages its items in
posted order. The permissions are the single-item endpoint's; the batch endpoints are also held
to the "batch" rate per credential (429 with Retry-After).
"""

from __future__ import annotations

import io
import re
import uuid

from django.conf import settings
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.pagination import MAX_OFFSET, PagePagination
from compliance.api.serializers import unstorable_text_path
from compliance.api.throttling import BatchRateThrottle, CredentialRateThrottle
from compliance.audit import Actor
from transactions import batches
from transactions.api import answers
from transactions.api.batch_serializers import (
    BatchAcceptedSerializer,
    batch_answer_serializer,
    request_serializer,
)
from transactions.api.serializers import TransactionEventSerializer, TransactionSerializer
from transactions.models import Batch, BatchItem
from users.api import user_serializers as us

TAGS = ["batch (seed 002)"]
BATCH_ID = re.compile(r"[A-Za-z0-9._:~-]{1,200}")


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "The batch's body is too large."
    default_code = "payload_too_large"


class BatchJSONParser(BaseParser):
    """JSON, as the API's parser reads it, but up to BATCH_MAX_BODY_BYTES rather than Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB: a few thousand transactions): a batch of 10,000 items
    is tens of megabytes. Not a JSONParser subclass, so DRF hands it the stream rather than
    `request.body` (which enforces Django's limit)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.BATCH_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
        return JSONParser().parse(io.BytesIO(raw), media_type, parser_context)


def envelope(data) -> tuple[str, list]:
    """The batch's id (generated when absent) and its items, or a 400 naming the property."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected an object with `batchId` and `data`."]})
    batch_id = data.get("batchId", uuid.uuid4().hex)
    if not isinstance(batch_id, str) or not BATCH_ID.fullmatch(batch_id):
        raise ValidationError({"batchId": ["Letters, digits and `._:~-`, 1 to 200 characters."]})
    items = data.get("data")
    if items is None:
        raise ValidationError({"data": ["This field is required."]})
    if not isinstance(items, list):
        raise ValidationError({"data": ["Expected a list of items."]})
    if not items:
        raise ValidationError({"data": ["At least one item."]})
    if len(items) > settings.BATCH_MAX_ITEMS:
        raise ValidationError({"data": [f"At most {settings.BATCH_MAX_ITEMS} items, got {len(items)}."]})
    # Items are stored as sent before they are validated: text the database cannot store is a 400.
    path = unstorable_text_path(items)
    if path is not None:
        raise ValidationError({f"data{path}": ["Null characters and unpaired surrogates are not allowed."]})
    return batch_id, items


def _batch_id_parameter():
    return OpenApiParameter("batchId", OpenApiTypes.STR, OpenApiParameter.PATH, description="The batch's id.")


def _paging_parameters():
    return [
        OpenApiParameter(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_OFFSET, "default": 1},
            OpenApiParameter.QUERY,
            description="Page number, from 1.",
        ),
        OpenApiParameter(
            "pageSize",
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            OpenApiParameter.QUERY,
            description="Items per page (1-100).",
        ),
    ]


class _BatchView(APIView):
    throttle_classes = [CredentialRateThrottle, BatchRateThrottle]
    kind: str = ""

    @property
    def spec(self) -> batches.Kind:
        return batches.kind_of(self.kind)


class _BatchCollectionView(_BatchView):
    parser_classes = [BatchJSONParser]

    def post(self, request):
        batch_id, items = envelope(request.data)
        result = batches.batch_submit(
            actor=Actor.from_request(request), kind=self.kind, batch_id=batch_id, items=items
        )
        batch = result.batch
        url = request.build_absolute_uri(reverse(f"batch-{self.kind}-detail", args=[batch.batch_id]))
        body = {
            "status": "OK",
            "batchId": batch.batch_id,
            "batchStatus": batch.status,
            "totalCount": batch.total,
            "statusUrl": url,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class _BatchDetailView(_BatchView):
    def get(self, request, batchId):
        batch = batches.batch_get(self.kind, batchId)
        paginator = PagePagination.keyed(self.spec.results_key)()
        items = paginator.paginate_queryset(
            BatchItem.objects.filter(batch=batch)
            .order_by("position")
            .only("position", "status", "errors", "result_ref"),
            request,
        )
        page = batches.batch_page(batch, items)
        return Response(
            {
                self.spec.results_key: page[self.spec.results_key],
                "totalCount": batch.total,
                "batchId": batch.batch_id,
                "status": batch.status,
                "succeeded": batch.succeeded,
                "failed": batch.failed,
                "errors": page["errors"],
                "pendingPositions": page["pending"],
            }
        )


# kind, schema name, what the items are, item serializer, document serializer, POST and GET permissions
_ENDPOINTS = (
    (
        Batch.Kind.TRANSACTIONS,
        "Transaction",
        "transactions",
        TransactionSerializer,
        answers.TransactionAnswerSerializer,
        ["transactions.add_transaction"],
        ["transactions.view_transaction"],
    ),
    (
        Batch.Kind.TRANSACTION_EVENTS,
        "TransactionEvent",
        "transaction events",
        TransactionEventSerializer,
        answers.TransactionEventAnswerSerializer,
        ["transactions.add_transactionevent"],
        ["transactions.view_transactionevent"],
    ),
    (
        Batch.Kind.CONSUMER_USERS,
        "ConsumerUser",
        "consumer (individual) users",
        us.IndividualUserSerializer,
        us.IndividualUserOutSerializer,
        ["users.add_customer", "users.change_customer"],
        ["users.view_customer"],
    ),
    (
        Batch.Kind.BUSINESS_USERS,
        "BusinessUser",
        "business (entity) users",
        us.EntityUserSerializer,
        us.EntityUserOutSerializer,
        ["users.add_customer", "users.change_customer"],
        ["users.view_customer"],
    ),
    (
        Batch.Kind.CONSUMER_USER_EVENTS,
        "ConsumerUserEvent",
        "consumer (individual) user events",
        us.IndividualUserEventSerializer,
        us.UserEventOutSerializer,
        ["users.change_customer"],
        ["users.view_customer"],
    ),
    (
        Batch.Kind.BUSINESS_USER_EVENTS,
        "BusinessUserEvent",
        "business (entity) user events",
        us.EntityUserEventSerializer,
        us.UserEventOutSerializer,
        ["users.change_customer"],
        ["users.view_customer"],
    ),
)

POST_DESCRIPTION = (
    "Stores the batch and its items at once and answers 202 with the batch's id and where to read "
    "it back; workers then apply each item as the single-item endpoint would (same validation, same "
    "service{rules}), a refused item recorded with its errors without stopping the others. The envelope "
    "is refused as a whole (400) when it is not an object, `data` is missing, empty or not a list, or "
    "holds more than the configured maximum of items (10,000 by default). Posting a `batchId` again "
    "with the same items answers the existing batch and applies nothing twice; with other items, 409."
)

GET_DESCRIPTION = (
    "A page of the batch's items in posted order: the applied ones as the single-item GET answers "
    "them, under `{key}`, the refused ones in `errors` (position and errors), the ones not applied yet "
    "in `pendingPositions`; with the batch's status (QUEUED, PROCESSING, DONE, DONE_WITH_ERRORS) and "
    "counts. `totalCount` counts all the batch's items. Out-of-range `page`/`pageSize`: 400."
)


def _views(kind, name, what, item_serializer, document_serializer, post_permissions, get_permissions):
    spec = batches.kind_of(kind)
    rules = ", so the same rules judge each transaction" if kind == Batch.Kind.TRANSACTIONS else ""

    class CollectionView(_BatchCollectionView):
        required_permissions = {"POST": post_permissions}

        @extend_schema(
            operation_id=f"batch_{kind}_create",
            tags=TAGS,
            summary=f"Batch create {what}",
            description=POST_DESCRIPTION.format(rules=rules),
            request=request_serializer(name, item_serializer),
            responses={202: BatchAcceptedSerializer},
        )
        def post(self, request):
            return super().post(request)

    class DetailView(_BatchDetailView):
        required_permissions = {"GET": get_permissions}

        @extend_schema(
            operation_id=f"batch_{kind}_retrieve",
            tags=TAGS,
            summary=f"Retrieve a batch of {what}",
            description=GET_DESCRIPTION.format(key=spec.results_key),
            parameters=[_batch_id_parameter(), *_paging_parameters()],
            responses={200: batch_answer_serializer(name, spec.results_key, document_serializer)},
        )
        def get(self, request, batchId):
            return super().get(request, batchId)

    CollectionView.kind = DetailView.kind = kind
    CollectionView.__name__ = f"{name}BatchCollectionView"
    DetailView.__name__ = f"{name}BatchDetailView"
    return CollectionView, DetailView


def urlpatterns() -> list:
    patterns = []
    for endpoint in _ENDPOINTS:
        collection, detail = _views(*endpoint)
        route = batches.kind_of(endpoint[0]).path
        patterns += [
            path(f"batch/{route}", collection.as_view(), name=f"batch-{endpoint[0]}"),
            path(f"batch/{route}/<str:batchId>", detail.as_view(), name=f"batch-{endpoint[0]}-detail"),
        ]
    return patterns
