"""Seed 004 "User/Transactions" and "User/Transaction Events".

Thin views: the serializer validates, a `transactions.services` function writes (one
transaction: store, rules, verdict, audit, events) and the answer is the stored document.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.pagination import IdCursorPagination
from compliance.audit import Actor
from compliance.errors import NotFoundError
from transactions import documents, services
from transactions.api import answers
from transactions.api.serializers import (
    TransactionEventSerializer,
    TransactionSerializer,
    transaction_fields,
    validated,
)
from transactions.api.user_details import user_details
from transactions.filters import TransactionFilter
from transactions.models import Transaction, TransactionEvent

TAGS = ["transactions (seed 004)"]
VIEW = ["transactions.view_transaction"]


LIST_COLUMNS = (
    "id",
    "transaction_id",
    "type",
    "timestamp",
    "transaction_state",
    "origin_user_ref",
    "destination_user_ref",
    "origin_amount",
    "origin_currency",
    "status",
    "hit_rules",
)


def transaction_answer(tx: Transaction) -> dict:
    return documents.transaction_document(tx, users=user_details(tx))


class TransactionCollectionView(ListAPIView):
    """`POST /api/transactions` verifies a transaction; `GET` lists the stored ones, newest first."""

    required_permissions = {"GET": VIEW, "POST": ["transactions.add_transaction"]}
    # No OrderingFilter: the cursor pages on the id, newest stored first. Ordered by any other
    # (non-unique) column, e.g. `?ordering=type`, the cursor would page by offsets within ties.
    filter_backends = [DjangoFilterBackend]
    filterset_class = TransactionFilter
    pagination_class = IdCursorPagination
    serializer_class = answers.TransactionListItemSerializer

    def get_queryset(self):
        # What the list item shows: the evidence (executed rules) and the nested documents stay
        # in the database until the transaction itself is read.
        return Transaction.objects.only(*LIST_COLUMNS).order_by("-id")

    @extend_schema(operation_id="transactions_list", tags=TAGS, summary="List transactions")
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="transaction_verify",
        tags=TAGS,
        summary="Verify a transaction",
        description="Stores the transaction, runs every active rule instance on it synchronously and "
        "answers the stored transaction with `executedRules`, `hitRules` and the decision `status` "
        "(the strongest action among the non-shadow hits). The same `transactionId` with the same "
        "body answers the stored result; with another body, 409.",
        request=TransactionSerializer,
        responses={200: answers.TransactionAnswerSerializer},
    )
    def post(self, request):
        fields = transaction_fields(validated(TransactionSerializer, request.data))
        result = services.transaction_verify(
            actor=Actor.from_request(request), fields=fields, payload=request.data
        )
        return Response(transaction_answer(result.transaction))


class TransactionDetailView(APIView):
    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="transaction_retrieve",
        tags=TAGS,
        summary="Retrieve a transaction",
        parameters=[OpenApiParameter("transactionId", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: answers.TransactionAnswerSerializer},
    )
    def get(self, request, transactionId):
        return Response(transaction_answer(services.transaction_get(transactionId)))


class TransactionEventCollectionView(APIView):
    required_permissions = {"POST": ["transactions.add_transactionevent"]}

    @extend_schema(
        operation_id="transaction_event_create",
        tags=TAGS,
        summary="Create a transaction event",
        description="Moves the transaction's state, merges `updatedTransactionAttributes` (each "
        "attribute sent replaces the stored one), keeps the event in the transaction's history and "
        "re-runs the rule instances that ask for it (`runOnTransactionEvents`): their new results "
        "replace the old ones and the decision follows. Idempotent on `eventId` (another body under "
        "a used `eventId` is a 409). The lifecycle is enforced: nothing returns to CREATED, "
        "DECLINED, EXPIRED, REFUNDED and REVERSED are final, SUCCESSFUL only becomes REFUNDED or "
        "REVERSED; a forbidden move is a 409 naming `updatedTransactionAttributes.transactionState`. "
        "Staying in the same state (an attributes-only update) is always allowed.",
        request=TransactionEventSerializer,
        responses={200: answers.TransactionEventAnswerSerializer},
    )
    def post(self, request):
        data = {
            **validated(TransactionEventSerializer, request.data),
            "raw_attributes": request.data["updatedTransactionAttributes"],
        }
        result = services.transaction_event_create(
            actor=Actor.from_request(request), data=data, payload=request.data
        )
        return Response(documents.event_document(result.event))


class TransactionEventDetailView(APIView):
    required_permissions = {"GET": ["transactions.view_transactionevent"]}

    @extend_schema(
        operation_id="transaction_event_retrieve",
        tags=TAGS,
        summary="Retrieve a transaction event",
        parameters=[OpenApiParameter("eventId", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: answers.TransactionEventAnswerSerializer},
    )
    def get(self, request, eventId):
        event = TransactionEvent.objects.select_related("transaction").filter(event_id=eventId).first()
        if event is None:
            raise NotFoundError(f"There is no transaction event {eventId}.")
        return Response(documents.event_document(event))
