"""Seed 004 "User" folders: individual and entity users, and their events.

Thin views: the serializer validates and maps the body, a `users.services.user_api`
service writes it (one transaction, audited, risk re-scored once), and the answer is the
user as stored, in the seed's shape. GET answers 404 for a `userId` that is not a user of
the path's kind (an entity is not found under `/individual/users`).
"""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.audit import Actor
from compliance.errors import NotFoundError
from users.api import user_serializers as s
from users.models import Address, Customer, CustomerAssociation, IdCard, Stake, UserEvent
from users.models.customers import ORGANISATION, PERSON
from users.services import user_api

VIEW = ["users.view_customer"]
TAGS = ["users (seed 004)"]
PERSON_RELATED = ("country_residence", "country_nationality")


def _user_id_parameter():
    return OpenApiParameter(
        "userId", OpenApiTypes.STR, OpenApiParameter.PATH, description="The user's `userId`."
    )


def _event_id_parameter():
    return OpenApiParameter(
        "eventId", OpenApiTypes.STR, OpenApiParameter.PATH, description="The event's `eventId`."
    )


def user_prefetches(customer_type_id: int) -> tuple:
    """What a seed 004 user document reads beyond the customer row: its communication means and
    addresses, then its ID cards (a person) or shareholders and directors (an organisation)."""
    common = (
        "communication_means",
        Prefetch("addresses", queryset=Address.objects.select_related("country")),
    )
    if customer_type_id == PERSON:
        return (*common, Prefetch("id_cards", queryset=IdCard.objects.select_related("issued_country")))
    return (
        *common,
        Prefetch(
            "stakes_in",
            queryset=Stake.objects.filter(holder__deleted_at__isnull=True, holder__customer_type_id=PERSON)
            .select_related(*(f"holder__{name}" for name in PERSON_RELATED))
            .order_by("id"),
        ),
        Prefetch(
            "roles_in",
            queryset=CustomerAssociation.objects.filter(
                role_id=user_api.DIRECTOR,
                associate__deleted_at__isnull=True,
                associate__customer_type_id=PERSON,
            )
            .select_related(*(f"associate__{name}" for name in PERSON_RELATED))
            .order_by("id"),
        ),
    )


def user_queryset(customer_type_id: int):
    """Live customers of one kind with everything their seed 004 document reads: the customer
    with its countries, then its lists (user_prefetches), one query each."""
    related = (
        PERSON_RELATED if customer_type_id == PERSON else ("country_incorporation", "country_domiciliary")
    )
    return (
        Customer.objects.filter(customer_type_id=customer_type_id)
        .select_related(*related)
        .prefetch_related(*user_prefetches(customer_type_id))
    )


def _user(customer_type_id: int, user_id: str) -> Customer:
    customer = user_queryset(customer_type_id).filter(external_ref=user_id).first()
    if customer is None:
        kind = "individual" if customer_type_id == PERSON else "entity"
        raise NotFoundError(f"There is no {kind} user {user_id}.")
    return customer


class _UserPostView(APIView):
    """POST a user: creates it, or, when its `userId` exists, updates it (seed 004 upsert).

    An update writes the properties sent, at any depth, and keeps the others; a list sent
    replaces the stored list (items already stored unchanged keep their ids). The kind of
    an existing user cannot change: posting an entity's `userId` here is a 409. Answers
    200 with the user as stored, either way.
    """

    required_permissions = {"POST": ["users.add_customer", "users.change_customer"]}
    customer_type_id = PERSON
    serializer_class = s.IndividualUserSerializer

    def post(self, request):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        upsert = (
            user_api.individual_user_upsert
            if self.customer_type_id == PERSON
            else user_api.entity_user_upsert
        )
        result = upsert(actor=Actor.from_request(request), data=serializer.to_user_data())
        return Response(_document(self.customer_type_id, result.customer.external_ref))


def _document(customer_type_id: int, user_id: str, **extra) -> dict:
    customer = _user(customer_type_id, user_id)
    if customer_type_id == PERSON:
        return s.individual_user_document(customer, **extra)
    return s.entity_user_document(customer, **extra)


class IndividualUserCollectionView(_UserPostView):
    __doc__ = _UserPostView.__doc__

    @extend_schema(
        operation_id="individual_user_upsert",
        summary="Create or update an individual user",
        request=s.IndividualUserSerializer,
        responses={200: s.IndividualUserOutSerializer},
        tags=TAGS,
    )
    def post(self, request):
        return super().post(request)


class EntityUserCollectionView(_UserPostView):
    __doc__ = _UserPostView.__doc__
    customer_type_id = ORGANISATION
    serializer_class = s.EntityUserSerializer

    @extend_schema(
        operation_id="entity_user_upsert",
        summary="Create or update an entity user, its shareholders and directors",
        request=s.EntityUserSerializer,
        responses={200: s.EntityUserOutSerializer},
        tags=TAGS,
    )
    def post(self, request):
        return super().post(request)


class IndividualUserDetailView(APIView):
    """The individual user (a person customer, however it was created) with its rule results and risk."""

    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="individual_user_retrieve",
        summary="Retrieve an individual user",
        parameters=[_user_id_parameter()],
        responses={200: s.IndividualUserOutSerializer},
        tags=TAGS,
    )
    def get(self, request, userId):
        return Response(_document(PERSON, userId))


class EntityUserDetailView(APIView):
    """The entity user (an organisation customer) with its person shareholders and directors."""

    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="entity_user_retrieve",
        summary="Retrieve an entity user",
        parameters=[_user_id_parameter()],
        responses={200: s.EntityUserOutSerializer},
        tags=TAGS,
    )
    def get(self, request, userId):
        return Response(_document(ORGANISATION, userId))


class _UserEventPostView(APIView):
    """POST a user event: records it and applies its `updatedAttributes` to the user.

    The attributes change what they send and keep the rest (as a user POST does). The user
    must exist and be of the path's kind (400 naming `userId` otherwise). Posting the same
    `eventId` again with the same body answers the user without applying the event twice;
    another body under a used `eventId` is a 409. Answers the user as the event left it,
    plus `eventId`.
    """

    required_permissions = {"POST": ["users.change_customer"]}
    kind = UserEvent.Kind.INDIVIDUAL
    serializer_class = s.IndividualUserEventSerializer

    def post(self, request):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = user_api.user_event_apply(
            actor=Actor.from_request(request), kind=self.kind, data=serializer.to_event_data()
        )
        customer_type_id = PERSON if self.kind == UserEvent.Kind.INDIVIDUAL else ORGANISATION
        return Response(
            _document(customer_type_id, result.customer.external_ref, eventId=result.event.event_id)
        )


class IndividualUserEventCollectionView(_UserEventPostView):
    __doc__ = _UserEventPostView.__doc__

    @extend_schema(
        operation_id="individual_user_event_create",
        summary="Create an individual user event",
        request=s.IndividualUserEventSerializer,
        responses={200: s.IndividualUserEventResultSerializer},
        tags=TAGS,
    )
    def post(self, request):
        return super().post(request)


class EntityUserEventCollectionView(_UserEventPostView):
    __doc__ = _UserEventPostView.__doc__
    kind = UserEvent.Kind.ENTITY
    serializer_class = s.EntityUserEventSerializer

    @extend_schema(
        operation_id="entity_user_event_create",
        summary="Create an entity user event",
        request=s.EntityUserEventSerializer,
        responses={200: s.EntityUserEventResultSerializer},
        tags=TAGS,
    )
    def post(self, request):
        return super().post(request)


class _UserEventDetailView(APIView):
    """One user event of the path's kind, as recorded, with the user's risk as the event left it."""

    required_permissions = {"GET": VIEW}
    kind = UserEvent.Kind.INDIVIDUAL

    def get(self, request, eventId):
        event = (
            UserEvent.objects.filter(event_id=eventId, kind=self.kind, customer__deleted_at__isnull=True)
            .select_related("customer", "risk_trail")
            .first()
        )
        if event is None:
            raise NotFoundError(f"There is no {self.kind.lower()} user event {eventId}.")
        return Response(s.user_event_document(event))


class IndividualUserEventDetailView(_UserEventDetailView):
    __doc__ = _UserEventDetailView.__doc__

    @extend_schema(
        operation_id="individual_user_event_retrieve",
        summary="Retrieve an individual user event",
        parameters=[_event_id_parameter()],
        responses={200: s.UserEventOutSerializer},
        tags=TAGS,
    )
    def get(self, request, eventId):
        return super().get(request, eventId)


class EntityUserEventDetailView(_UserEventDetailView):
    __doc__ = _UserEventDetailView.__doc__
    kind = UserEvent.Kind.ENTITY

    @extend_schema(
        operation_id="entity_user_event_retrieve",
        summary="Retrieve an entity user event",
        parameters=[_event_id_parameter()],
        responses={200: s.UserEventOutSerializer},
        tags=TAGS,
    )
    def get(self, request, eventId):
        return super().get(request, eventId)
