"""Seed 003 customer API: thin views that validate, call `users.services`, and answer the seed's shapes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.pagination import PagePagination, int_param
from compliance.audit import Actor
from users import selectors
from users.api import documents
from users.api import serializers as s
from users.filters import CustomerFilter
from users.lists import CHECKED_BY_ID, CHECKED_LISTS, KycList
from users.models import RiskCategory, RiskTrail
from users.services import customers as customer_services
from users.services import kyc as kyc_services
from users.services import reviews as review_services

VIEW = ["users.view_customer"]
CHANGE = ["users.change_customer"]
TAGS = ["customers"]
REF = OpenApiParameter("ref", str, OpenApiParameter.PATH, description="The internal customer number.")


def _written(result) -> Response:
    return Response(result.as_response())


class CustomerCollectionView(ListAPIView):
    """`POST /api/customer` (seed 003) and the filtered, paginated list integrators expect beside it."""

    required_permissions = {"GET": VIEW, "POST": ["users.add_customer"]}
    filterset_class = CustomerFilter
    pagination_class = PagePagination.keyed("customers")
    serializer_class = s.CustomerListItemSerializer

    def get_queryset(self):
        return selectors.customer_list()

    @extend_schema(operation_id="customers_list", tags=TAGS, summary="List customers")
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="customer_create",
        tags=TAGS,
        summary="Create a customer",
        request=s.CustomerCreateSchema,
        responses={200: s.WriteResultSerializer},
    )
    def post(self, request):
        serializer = s.CustomerWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = customer_services.customer_create(
            actor=Actor.from_request(request), fields=serializer.validated_data
        )
        return _written(result)


class CustomerDetailView(APIView):
    """`GET/PUT/DELETE /api/customer/{ref}`."""

    required_permissions = {"GET": VIEW, "PUT": CHANGE, "DELETE": ["users.delete_customer"]}

    @extend_schema(
        operation_id="customer_retrieve",
        tags=TAGS,
        summary="Read a customer with every list",
        parameters=[REF],
        responses=s.CustomerDocumentSerializer,
    )
    def get(self, request, ref):
        return Response(documents.customer_document(ref))

    @extend_schema(
        operation_id="customer_update",
        tags=TAGS,
        summary="Change a customer's main and details",
        parameters=[REF],
        request=s.CustomerUpdateSchema,
        responses={200: s.WriteResultSerializer},
    )
    def put(self, request, ref):
        customer = selectors.customer_get(ref)
        data = request.data
        if isinstance(data, dict) and "main" not in data:
            data = {**data, "main": {}}
        serializer = s.CustomerWriteSerializer(data=data, customer=customer)
        serializer.is_valid(raise_exception=True)
        result = customer_services.customer_update(
            actor=Actor.from_request(request), customer=customer, fields=serializer.validated_data
        )
        return _written(result)

    @extend_schema(
        operation_id="customer_delete",
        tags=TAGS,
        summary="Delete a customer (kept for the record, gone from every read)",
        parameters=[REF],
        responses={204: None},
    )
    def delete(self, request, ref):
        customer = selectors.customer_get(ref)
        customer_services.customer_delete(actor=Actor.from_request(request), customer=customer)
        return Response(status=status.HTTP_204_NO_CONTENT)


class KycListView(APIView):
    """`POST` an array to a KYC list, `GET` its rows. Subclassed per list (see `kyc_list_views`)."""

    kyc_list: KycList
    required_permissions = {"GET": VIEW, "POST": CHANGE}

    def get(self, request, ref):
        customer = selectors.customer_get(ref)
        rows = self.kyc_list.model.objects.filter(customer=customer).order_by("id")
        return Response(s.ROW_SERIALIZERS[self.kyc_list.path](rows, many=True).data)

    def post(self, request, ref):
        customer = selectors.customer_get(ref)
        if not isinstance(request.data, list):
            raise ValidationError({"": ["Expected an array of rows."]})
        serializer = s.ROW_SERIALIZERS[self.kyc_list.path](data=request.data, many=True, allow_empty=False)
        serializer.is_valid(raise_exception=True)
        result = kyc_services.kyc_rows_add(
            actor=Actor.from_request(request),
            customer=customer,
            kyc_list=self.kyc_list,
            rows=serializer.validated_data,
        )
        return _written(result)


class KycRowView(APIView):
    """`PUT`/`DELETE` one row of a KYC list."""

    kyc_list: KycList
    required_permissions = {"PUT": CHANGE, "DELETE": CHANGE}

    def put(self, request, ref, row_id):
        customer = selectors.customer_get(ref)
        serializer = s.ROW_SERIALIZERS[self.kyc_list.path](data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        result = kyc_services.kyc_row_update(
            actor=Actor.from_request(request),
            customer=customer,
            kyc_list=self.kyc_list,
            row_id=row_id,
            changes=serializer.validated_data,
        )
        return _written(result)

    def delete(self, request, ref, row_id):
        customer = selectors.customer_get(ref)
        result = kyc_services.kyc_row_delete(
            actor=Actor.from_request(request), customer=customer, kyc_list=self.kyc_list, row_id=row_id
        )
        return _written(result)


def kyc_list_views(kyc_list: KycList) -> tuple[type[APIView], type[APIView]]:
    """The list and row views of one KYC list, with a schema naming its own row shape."""
    row = s.ROW_SERIALIZERS[kyc_list.path]
    name = row.__name__.removesuffix("Serializer")
    op = kyc_list.path.replace("-", "_")
    row_id_param = OpenApiParameter("row_id", int, OpenApiParameter.PATH, description=f"`{kyc_list.id_name}`")
    tags = ["customer lists"]

    # extend_schema annotates the function it decorates: each list needs functions of its own.
    def get(self, request, ref):
        return KycListView.get(self, request, ref)

    def post(self, request, ref):
        return KycListView.post(self, request, ref)

    def put(self, request, ref, row_id):
        return KycRowView.put(self, request, ref, row_id)

    def delete(self, request, ref, row_id):
        return KycRowView.delete(self, request, ref, row_id)

    list_view = type(
        f"{name}ListView",
        (KycListView,),
        {
            "kyc_list": kyc_list,
            "__doc__": f"`/api/customer/{{ref}}/{kyc_list.path}`: the customer's {kyc_list.label}.",
            "get": extend_schema(
                operation_id=f"customer_{op}_list", tags=tags, parameters=[REF], responses=row(many=True)
            )(get),
            "post": extend_schema(
                operation_id=f"customer_{op}_add",
                tags=tags,
                parameters=[REF],
                request=row(many=True),
                responses={200: s.WriteResultSerializer},
            )(post),
        },
    )
    row_view = type(
        f"{name}RowView",
        (KycRowView,),
        {
            "kyc_list": kyc_list,
            "__doc__": f"`/api/customer/{{ref}}/{kyc_list.path}/{{{kyc_list.id_name}}}`: "
            f"one of its {kyc_list.label}.",
            "put": extend_schema(
                operation_id=f"customer_{op}_update",
                tags=tags,
                parameters=[REF, row_id_param],
                request=row,
                responses={200: s.WriteResultSerializer},
            )(put),
            "delete": extend_schema(
                operation_id=f"customer_{op}_delete",
                tags=tags,
                parameters=[REF, row_id_param],
                responses={200: s.WriteResultSerializer},
            )(delete),
        },
    )
    return list_view, row_view


class CheckedListView(APIView):
    """`GET`/`PUT /api/customer/{ref}/checked-lists/{listId}`: tick and untick a checked list."""

    required_permissions = {"GET": VIEW, "PUT": CHANGE}
    list_id_param = OpenApiParameter(
        "list_id", str, OpenApiParameter.PATH, enum=[c.list_id for c in CHECKED_LISTS], description="`listId`"
    )

    def _checked(self, list_id):
        checked = CHECKED_BY_ID.get(list_id)
        if checked is None:
            from compliance.errors import NotFoundError

            raise NotFoundError(f"No checked list {list_id}; one of {', '.join(CHECKED_BY_ID)}.")
        return checked

    @extend_schema(
        operation_id="customer_checked_list_retrieve",
        tags=TAGS,
        parameters=[REF, list_id_param],
        responses=inline_serializer(
            "CheckedList",
            {
                "contents": serializers.ListField(child=serializers.IntegerField()),
                "added": serializers.ListField(child=serializers.IntegerField()),
                "removed": serializers.ListField(child=serializers.IntegerField()),
                "listId": serializers.CharField(),
                "types": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request, ref, list_id):
        checked = self._checked(list_id)
        return Response(documents.checked_list(ref, checked.list_id))

    @extend_schema(
        operation_id="customer_checked_list_update",
        tags=TAGS,
        parameters=[REF, list_id_param],
        request=s.CheckedListChangeSerializer,
        responses={200: s.WriteResultSerializer},
    )
    def put(self, request, ref, list_id):
        checked = self._checked(list_id)
        customer = selectors.customer_get(ref)
        serializer = s.CheckedListChangeSerializer(
            data=request.data, lookup_model=selectors.checked_table(list_id)
        )
        serializer.is_valid(raise_exception=True)
        result = kyc_services.checked_list_change(
            actor=Actor.from_request(request), customer=customer, checked=checked, **serializer.validated_data
        )
        return _written(result)


class StakesView(APIView):
    """`GET`/`POST /api/customer/{ref}/stakes`: stakes the customer holds in organisations (`stakesOut`)."""

    required_permissions = {"GET": VIEW, "POST": CHANGE}

    @extend_schema(
        operation_id="customer_stakes_list",
        tags=TAGS,
        parameters=[REF],
        responses=s.StakeSerializer(many=True),
    )
    def get(self, request, ref):
        customer = selectors.customer_get(ref)
        return Response(s.StakeSerializer(customer.stakes_out.order_by("id"), many=True).data)

    @extend_schema(
        operation_id="customer_stakes_add",
        tags=TAGS,
        parameters=[REF],
        request=s.StakeSerializer(many=True),
        responses={200: s.WriteResultSerializer},
    )
    def post(self, request, ref):
        customer = selectors.customer_get(ref)
        serializer = s.StakeSerializer(data=request.data, many=True, allow_empty=False)
        serializer.is_valid(raise_exception=True)
        result = kyc_services.stakes_add(
            actor=Actor.from_request(request), holder=customer, stakes=serializer.validated_data
        )
        return _written(result)


class StakeView(APIView):
    required_permissions = {"DELETE": CHANGE}

    @extend_schema(
        operation_id="customer_stake_delete",
        tags=TAGS,
        parameters=[REF, OpenApiParameter("stake_id", int, OpenApiParameter.PATH, description="`idStake`")],
        responses={200: s.WriteResultSerializer},
    )
    def delete(self, request, ref, stake_id):
        customer = selectors.customer_get(ref)
        return _written(
            kyc_services.stake_remove(actor=Actor.from_request(request), holder=customer, stake_id=stake_id)
        )


class RolesView(APIView):
    """`GET`/`POST /api/customer/{ref}/roles`: roles the customer plays for others (`rolesOut`)."""

    required_permissions = {"GET": VIEW, "POST": CHANGE}

    @extend_schema(
        operation_id="customer_roles_list",
        tags=TAGS,
        parameters=[REF],
        responses=s.AssociationSerializer(many=True),
    )
    def get(self, request, ref):
        customer = selectors.customer_get(ref)
        return Response(s.AssociationSerializer(customer.roles_out.order_by("id"), many=True).data)

    @extend_schema(
        operation_id="customer_roles_add",
        tags=TAGS,
        parameters=[REF],
        request=s.AssociationSerializer(many=True),
        responses={200: s.WriteResultSerializer},
    )
    def post(self, request, ref):
        customer = selectors.customer_get(ref)
        serializer = s.AssociationSerializer(data=request.data, many=True, allow_empty=False)
        serializer.is_valid(raise_exception=True)
        result = kyc_services.associations_add(
            actor=Actor.from_request(request), associate=customer, roles=serializer.validated_data
        )
        return _written(result)


class RoleView(APIView):
    required_permissions = {"DELETE": CHANGE}

    @extend_schema(
        operation_id="customer_role_delete",
        tags=TAGS,
        parameters=[
            REF,
            OpenApiParameter(
                "association_id", int, OpenApiParameter.PATH, description="`idCustomerAssociation`"
            ),
        ],
        responses={200: s.WriteResultSerializer},
    )
    def delete(self, request, ref, association_id):
        customer = selectors.customer_get(ref)
        return _written(
            kyc_services.association_remove(
                actor=Actor.from_request(request), associate=customer, association_id=association_id
            )
        )


class CustomerRiskView(APIView):
    """`GET /api/customer/{ref}/risk`: the breakdown by category and factor, contaminators, global score.

    Answers the evaluation recorded by the latest write (the one its risk trail holds);
    `global.score` is the customer's own score, `effectiveScore` and `riskLevel` include
    contamination.
    """

    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="customer_risk_retrieve", tags=TAGS, parameters=[REF], responses=s.CustomerRiskSerializer
    )
    def get(self, request, ref):
        customer = selectors.customer_get(ref)
        from users.models import RiskLevelThreshold

        risk_type = (
            RiskLevelThreshold.objects.filter(level=customer.risk_level)
            .values_list("risk_type_id", flat=True)
            .first()
        )
        return Response(
            {
                # In seed order: jsonb (PostgreSQL) does not keep the keys' order.
                "totals": {
                    key: customer.risk_breakdown[key]
                    for key in RiskCategory.values
                    if key in customer.risk_breakdown
                },
                "contaminators": customer.risk_contaminators,
                "global": {
                    "score": customer.risk_score,
                    "effectiveScore": customer.risk_effective_score,
                    "riskLevel": customer.risk_level,
                    "idRiskType": risk_type,
                },
            }
        )


class CustomerReviewsView(APIView):
    """`GET /api/customer/{ref}/reviews`: the customer's reviews, newest first."""

    required_permissions = {"GET": ["users.view_review"]}

    @extend_schema(
        operation_id="customer_reviews_list",
        tags=TAGS,
        parameters=[REF],
        responses=s.ReviewSerializer(many=True),
    )
    def get(self, request, ref):
        customer = selectors.customer_get(ref)
        reviews = customer.reviews.select_related("reviewer").order_by("-id")
        return Response(s.ReviewSerializer(reviews, many=True).data)


class CustomerRiskTrailsView(APIView):
    """`GET /api/customer/{ref}/risk-trails?limits=N`: the latest N risk trails, newest first.

    As in the seed's sample, `limits=1` answers the latest trail as one object; any other
    limit (default 10, at most 100) answers an array.
    """

    required_permissions = {"GET": ["users.view_risktrail"]}

    @extend_schema(
        operation_id="customer_risk_trails_list",
        tags=TAGS,
        parameters=[
            REF,
            OpenApiParameter(
                "limits", int, description="How many trails (1-100, default 10); 1 answers an object."
            ),
        ],
        responses=OpenApiResponse(
            response=s.RiskTrailSerializer(many=True),
            description="An array of risk trails, or one risk trail object when `limits=1`.",
        ),
    )
    def get(self, request, ref):
        limit = int_param(request, "limits", default=10, minimum=1, maximum=100)
        customer = selectors.customer_get(ref)
        trails = list(
            RiskTrail.objects.filter(customer=customer)
            .select_related("reviewer", "approval_status")
            .order_by("-id")[:limit]
        )
        if limit == 1:
            if not trails:
                from compliance.errors import NotFoundError

                raise NotFoundError("The customer has no risk trail yet.")
            return Response(s.RiskTrailSerializer(trails[0]).data)
        return Response(s.RiskTrailSerializer(trails, many=True).data)


class RiskTrailReviewView(APIView):
    """`PUT /api/customer/risk-trails/{idRiskTrail}`: approve or reject (four eyes).

    Needs the approver role, and a person other than the one whose change produced the
    trail (403 otherwise). Answers the reviews the approval scheduled: `[{"idReview": N}]`
    (empty when rejected).
    """

    required_permissions = {"PUT": ["users.approve_risktrail"]}

    @extend_schema(
        operation_id="risk_trail_review",
        tags=TAGS,
        parameters=[OpenApiParameter("trail_id", int, OpenApiParameter.PATH, description="`idRiskTrail`")],
        request=s.RiskTrailReviewSerializer,
        responses={200: s.ReviewIdSerializer(many=True)},
    )
    def put(self, request, trail_id):
        serializer = s.RiskTrailReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        review_ids = review_services.risk_trail_review(
            actor=Actor.from_request(request),
            trail_id=trail_id,
            approval_status=data["approval_status"],
            risk_type=data["risk_type"],
            comments=data.get("comments"),
        )
        return Response([{"idReview": pk} for pk in review_ids])
